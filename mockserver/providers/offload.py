"""Heavy verbs run off the event loop (issue 12): a big upload is parsed and validated in a worker thread so
that a concurrent small request is still answered at once. One lock per backend keeps two heavy verbs of the
same namespace from interleaving; reads stay on the loop (a new object is added to the state in one step,
at the end of the verb)."""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, TypeVar

import anyio.to_thread

T = TypeVar("T")

_locks: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_guard = threading.Lock()


def _lock_of(backend: Any) -> threading.Lock:
    with _guard:
        lock = _locks.get(backend)
        if lock is None:
            lock = _locks[backend] = threading.Lock()
        return lock


async def off_loop(backend: Any, verb: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``verb(*args, **kwargs)`` in a worker thread, one at a time per ``backend``."""
    lock = _lock_of(backend)

    def run() -> T:
        with lock:
            return verb(*args, **kwargs)

    return await anyio.to_thread.run_sync(run)
