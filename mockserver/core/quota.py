"""Storage quotas per namespace and per server (issue 12): what is stored is counted from the state itself
(each backend's ``stored_bytes()``), so reset, delete, snapshot and restore need no bookkeeping."""

from __future__ import annotations

from typing import Any

from .backend import Backend
from .errors import PayloadTooLarge


def stored_bytes(backend: Backend) -> int:
    return int(backend.stored_bytes())


def usage(engine: Any, provider: str, namespace: str) -> tuple[int, int]:
    """(bytes stored by this namespace of ``provider``, bytes stored by the whole server)."""
    mine = total = 0
    for name, ns, backend in engine.store.namespaces():
        size = stored_bytes(backend)
        total += size
        if name == provider and ns == namespace:
            mine = size
    return mine, total


def check_quota(engine: Any, provider: str, namespace: str, incoming: int) -> None:
    """Refuse (413 ``storage_quota_exceeded``) a request whose ``incoming`` bytes would not fit the quotas."""
    limits = engine.settings.limits
    mine, total = usage(engine, provider, namespace)
    if mine + incoming > limits.namespace_quota_bytes:
        raise PayloadTooLarge(
            f"Storage quota exceeded: this API key stores {mine} bytes, this request brings {incoming} more, and the "
            f"limit per key is {limits.namespace_quota_bytes} bytes. Delete files or batches (or reset the mock) first.",
            code="storage_quota_exceeded",
        )
    if total + incoming > limits.server_quota_bytes:
        raise PayloadTooLarge(
            f"Storage quota exceeded: the mock server stores {total} bytes, this request brings {incoming} more, and "
            f"its limit is {limits.server_quota_bytes} bytes. Delete files or batches (or reset the mock) first.",
            code="storage_quota_exceeded",
        )
