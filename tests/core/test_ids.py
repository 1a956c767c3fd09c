from __future__ import annotations

from mockserver.core.ids import IdFactory


def test_same_seed_same_ids_and_reset_replays() -> None:
    a, b = IdFactory(7), IdFactory(7)
    first = [a.new("batch_") for _ in range(3)]
    assert first == [b.new("batch_") for _ in range(3)]
    assert all(x.startswith("batch_") and len(x) == 30 for x in first)
    a.reset()
    assert a.new("batch_") == first[0]
    assert IdFactory(8).new("batch_") != first[0]


def test_sequences_count_per_scope_from_one() -> None:
    ids = IdFactory(0)
    assert [ids.sequence("a"), ids.sequence("a"), ids.sequence("b")] == [1, 2, 1]


def test_each_prefix_has_its_own_stream_so_reads_do_not_shift_resource_ids() -> None:
    quiet, busy = IdFactory(3), IdFactory(3)
    first = quiet.new("batch_")
    assert busy.new("batch_") == first
    for _ in range(50):  # every request mints a request id
        busy.hex("req_")
    assert busy.new("batch_") == quiet.new("batch_")
