"""Heavy verbs run off the event loop (issue 12): a big upload is parsed and validated in a worker thread so
that a concurrent small request is still answered at once. One lock per backend keeps two heavy verbs of the
same namespace from interleaving; reads stay on the loop (a new object is added to the state in one step,
at the end of the verb)."""

from __future__ import annotations

import gc
import threading
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

import anyio.to_thread

T = TypeVar("T")

_locks: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_guard = threading.Lock()
_heavy = 0  # heavy verbs running now


@contextmanager
def _no_full_collections() -> Iterator[None]:
    """A heavy verb allocates hundreds of thousands of objects; each full collection CPython's cyclic GC runs on
    the way walks the whole heap holding the GIL (0.2-0.5 s measured for a 50,000-line file), which stalls the
    loop as surely as running the verb on it. So the GC rests while heavy verbs run; afterwards the young
    generations are collected and everything that survived is frozen (``gc.freeze``: the stored state is
    long-lived, later collections need not walk it again; refcounting still frees what is dropped)."""
    global _heavy
    with _guard:
        _heavy += 1
        gc.disable()
    try:
        yield
    finally:
        with _guard:
            _heavy -= 1
            if _heavy == 0:
                gc.collect(1)
                gc.freeze()
                gc.enable()


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
        with lock, _no_full_collections():
            return verb(*args, **kwargs)

    return await anyio.to_thread.run_sync(run)
