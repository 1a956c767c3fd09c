from __future__ import annotations

from mockserver.core.store import Store


class Shared:
    pass


def test_one_backend_per_provider_and_namespace_and_reset_drops_all() -> None:
    store: Store[dict[str, int]] = Store({"a": dict, "b": dict})
    store.backend("a", "k1")["x"] = 1
    assert store.backend("a", "k1") == {"x": 1}
    assert store.backend("a", "k2") == {}
    assert store.backend("b", "k1") == {}
    store.reset()
    assert store.backend("a", "k1") == {}


def test_snapshot_and_restore_copy_state_but_not_shared_services() -> None:
    shared = Shared()
    store: Store[dict[str, object]] = Store({"a": lambda: {"svc": shared, "n": 0}}, shared=(shared,))
    store.backend("a", "k")["n"] = 1
    snap = store.snapshot()
    store.backend("a", "k")["n"] = 2
    store.restore(snap)
    assert store.backend("a", "k")["n"] == 1
    assert store.backend("a", "k")["svc"] is shared
