"""State per provider and per namespace (one namespace per API key), created lazily, reset in one call.

In memory (the default) a backend is a plain object in a dict and nothing else happens. With a durable
engine (``core/state/``: SQLite or PostgreSQL) every request runs in one transaction (``atomically``):
each (provider, namespace) backend is one row holding the pickled backend, treated as an opaque object; the
engine-wide parts (clock, ids, scenarios, faults) are rows too, as are named snapshots. A transaction loads
a row only if its stored version differs from the copy this process holds, and a write transaction writes
back what it touched, then commits; the caller answers after that. Large ``bytes`` (file contents) are kept
out of the rows, content-addressed in the engine's blob table, so writing a namespace does not rewrite them.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import hashlib
import io
import operator
import pickle
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .state.base import NeedsWrite, Stale, StateEngine, StateError, Transaction

B = TypeVar("B")
T = TypeVar("T")

BLOB_MIN = 64 * 1024  # bytes objects at least this large are stored apart from their namespace's row
_NS = "ns/"
_PART = "part/"
_SNAP = "snap/"
_LEASE = "lease/"


@dataclass
class Part:
    """An engine-wide piece of state outside the backends (the clock, the ids, the scenarios, the faults).

    ``export`` gives a picklable value and ``load`` puts one back. A write transaction saves the part if its
    pickle changed, or, when ``mark`` is given (a counter of changes, e.g. ids drawn), if the mark moved."""

    name: str
    export: Callable[[], Any]
    load: Callable[[Any], None]
    mark: Callable[[], int] | None = None


@dataclass
class _Context:
    tx: Transaction
    touched: set[str] = field(default_factory=set)  # namespace keys this transaction used
    marks: dict[str, int] = field(default_factory=dict)
    checked: set[str] = field(default_factory=set)


class Store(Generic[B]):
    def __init__(
        self,
        factories: dict[str, Callable[[], B]],
        shared: tuple[Any, ...] = (),
        state: StateEngine | None = None,
        parts: Sequence[Part] = (),
    ) -> None:
        self._factories = factories
        self._shared = shared  # objects (clock, ids, settings) a snapshot must not copy
        self._lock = threading.RLock()
        self._backends: dict[tuple[str, str], B] = {}
        self._snapshots: dict[str, Any] = {}
        self._state = state
        if state is None:
            return
        self._parts = {part.name: part for part in parts}
        self._versions: dict[str, int] = {}  # key -> version of the copy this process holds
        self._checked: dict[str, int] = {}  # key -> generation at which that copy was known current
        self._part_blobs: dict[str, bytes] = {}
        self._digests: dict[int, tuple[bytes, str]] = {}
        self._local = threading.local()  # per thread: the turn lock (the engines keep a connection per thread)
        # per task: the transaction a request runs in (other requests on the same event loop do not see it)
        self._ctx: contextvars.ContextVar[_Context | None] = contextvars.ContextVar(f"store-{id(self)}", default=None)
        # per task: the generation its last refresh() found this process current at (a read may start there)
        self._fresh: contextvars.ContextVar[int] = contextvars.ContextVar(f"store-fresh-{id(self)}", default=-1)
        self._refreshed = -1
        self._refresh()

    # -- in memory and durable alike -------------------------------------------------------------------------
    @property
    def durable(self) -> bool:
        return self._state is not None

    @property
    def target(self) -> str | None:
        return None if self._state is None else self._state.target

    def backend(self, provider: str, namespace: str, on_create: Callable[[B], None] | None = None) -> B:
        """The backend of (provider, namespace), created (and passed to ``on_create``) if there is none."""
        key = (provider, namespace)
        if self._state is not None:
            return self._durable_backend(key, on_create)
        with self._lock:
            backend = self._backends.get(key)
            if backend is None:
                backend = self._backends[key] = self._factories[provider]()
                if on_create is not None:
                    on_create(backend)
            return backend

    def namespaces(self, provider: str | None = None) -> Iterator[tuple[str, str, B]]:
        if self._state is not None:
            ctx = self._context()
            keys = ctx.tx.keys(_NS)
            self._validate(ctx, keys)
            ctx.touched.update(keys)
        with self._lock:
            items = list(self._backends.items())
        for (name, namespace), backend in items:
            if provider is None or name == provider:
                yield name, namespace, backend

    def reset(self) -> None:
        with self._lock:
            self._backends.clear()
            self._snapshots.clear()
        if self._state is not None:
            ctx = self._context(write=True)
            ctx.tx.delete_prefix(_NS)
            ctx.tx.delete_prefix(_SNAP)
            ctx.tx.delete_blobs()  # nothing refers to a stored content any more
            ctx.touched.clear()
            self._forget(_NS)
            self._digests.clear()

    def snapshot(self) -> dict[tuple[str, str], B]:
        if self._state is not None:
            list(self.namespaces())  # every namespace of the engine, not just those this process has seen
        with self._lock:
            return copy.deepcopy(self._backends, memo={id(obj): obj for obj in self._shared})

    def restore(self, snapshot: dict[tuple[str, str], B]) -> None:
        with self._lock:
            self._backends = copy.deepcopy(snapshot, memo={id(obj): obj for obj in self._shared})
        if self._state is not None:
            ctx = self._context(write=True)
            ctx.tx.delete_prefix(_NS)
            self._forget(_NS)
            ctx.touched = {self._key(key) for key in self._backends}
            ctx.checked.update(ctx.touched)

    # -- named snapshots (in the engine when durable) --------------------------------------------------------
    def save_snapshot(self, state: Any, name: str | None = None) -> str:
        """Keep ``state`` under ``name`` (default snap_N); returns the name."""
        if self._state is None:
            with self._lock:
                name = name or f"snap_{len(self._snapshots) + 1}"
                self._snapshots[name] = state
            return name
        ctx = self._context(write=True)
        name = name or f"snap_{len(ctx.tx.keys(_SNAP)) + 1}"
        ctx.tx.save(_SNAP + name, self._dumps(state, ctx.tx))
        return name

    def snapshot_state(self, name: str) -> Any:
        """The state saved as ``name``; KeyError if there is none."""
        if self._state is None:
            with self._lock:
                return self._snapshots[name]
        ctx = self._context()
        row = ctx.tx.load(_SNAP + name)
        if row is None:
            raise KeyError(name)
        return self._loads(row[1], ctx.tx)

    def snapshot_names(self) -> list[str]:
        if self._state is None:
            with self._lock:
                return list(self._snapshots)
        return [key[len(_SNAP) :] for key in self._context().tx.keys(_SNAP)]

    def export_snapshot(self, state: Any) -> bytes:
        """A snapshot's state as a self-contained file (a pickle, large contents included; shared services
        by reference), which ``import_snapshot`` reads back in any server."""
        buffer = io.BytesIO()
        _Pickler(buffer, self, None).dump(state)
        return buffer.getvalue()

    def import_snapshot(self, data: bytes) -> Any:
        """Read an exported snapshot (a pickle: import only files you wrote)."""
        return self._loads(data, None)

    # -- transactions (durable engines only; no-ops in memory) -----------------------------------------------
    async def atomically(self, work: Callable[[], Awaitable[T]], write: bool, ok: Callable[[T], bool] = lambda _: True) -> T:
        """Run ``work`` in one transaction. A write commits only if ``ok(result)`` (a 2xx answer); otherwise it
        rolls back and this process forgets what the work touched. A read that turns out to write (it drew an
        id) is run again as a write. The result is returned after the commit."""
        if self._state is None:
            return await work()
        # a read starts at the generation this task's refresh() found (or a later one this process is current
        # at): it sends no statement at all while every copy it uses is current there (base.StateEngine.begin)
        fresh = self._fresh.get()
        known = max(fresh, self._refreshed) if fresh >= 0 else -1
        self._fresh.set(-1)
        async with self._turn():
            while True:
                try:
                    ctx = self._begin(write, known if known >= 0 and not write else None)
                except Stale:
                    known = -1
                    continue
                try:
                    result = await work()
                except NeedsWrite:
                    self._abort(ctx)
                    write = True
                    continue
                except Stale:  # a write committed since the generation the read started at: start afresh
                    self._abort(ctx)
                    known = -1
                    continue
                except BaseException:
                    self._abort(ctx)
                    raise
                if write and ok(result):
                    self._commit(ctx)
                elif write:
                    self._abort(ctx)
                else:
                    self._end_read(ctx)
                return result

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[None]:
        """The synchronous form (start-up, tests): commit on a clean exit, roll back on an exception."""
        if self._state is None or self._current() is not None:
            yield
            return
        ctx = self._begin(write)
        try:
            yield
        except BaseException:
            self._abort(ctx)
            raise
        self._commit(ctx) if write else self._end_read(ctx)

    def initialized(self) -> bool:
        """Whether the durable state already holds a server's state (a restart), so start-up must not reset it."""
        if self._state is None:
            return False
        return bool(self._context().tx.versions([_PART + "clock"]))

    async def refresh(self) -> None:
        """Bring the parts (clock, scenarios, faults) up to date outside a request's transaction: one cheap
        query when nothing changed anywhere. Takes this thread's turn: the connection may be in another
        request's transaction meanwhile."""
        if self._state is None or self._current() is not None:
            return
        async with self._turn():
            self._refresh()
            self._fresh.set(self._refreshed)

    def _refresh(self) -> None:
        assert self._state is not None
        if self._state.generation() == self._refreshed:
            return
        with self.transaction(write=False):
            pass

    def lease(self, name: str, holder: str, now: float, ttl: float) -> bool:
        """Take or keep the lease ``name`` for ``holder`` until ``now + ttl`` (wall-clock seconds): True if
        ``holder`` has it (no other holder's lease is still running). A lease another holder keeps is seen in a
        read transaction (nothing written); taking or renewing one needs a write (``NeedsWrite``). One row per
        lease, beside the namespaces; a reset keeps it. In memory there is one process: always True."""
        if self._state is None:
            return True
        ctx = self._context()
        row = ctx.tx.load(_LEASE + name)
        if row is not None:
            current, until = pickle.loads(row[1])
            if current != holder and until > now:
                return False
        if not ctx.tx.write:
            raise NeedsWrite
        ctx.tx.save(_LEASE + name, pickle.dumps((holder, now + ttl)))
        return True

    def require_write(self) -> None:
        """Called before anything that must be written (an id drawn): a read transaction becomes a write."""
        ctx = self._current()
        if ctx is not None and not ctx.tx.write:
            raise NeedsWrite

    # -- durable internals -----------------------------------------------------------------------------------
    @staticmethod
    def _key(key: tuple[str, str]) -> str:
        return f"{_NS}{key[0]}/{key[1]}"

    def _current(self) -> _Context | None:
        return self._ctx.get() if self._state is not None else None

    def _context(self, write: bool = False) -> _Context:
        ctx = self._current()
        if ctx is None:
            raise StateError("the durable store was used outside a transaction (wrap the work in store.transaction())")
        if write and not ctx.tx.write:
            raise NeedsWrite
        return ctx

    def _turn(self) -> asyncio.Lock:
        """One transaction at a time per thread (one connection per thread), without blocking the event loop."""
        loop = asyncio.get_running_loop()
        held = getattr(self._local, "turn", None)
        if held is None or held[0] is not loop:
            held = self._local.turn = (loop, asyncio.Lock())
        return held[1]

    def _begin(self, write: bool, known: int | None = None) -> _Context:
        assert self._state is not None
        ctx = _Context(self._state.begin(write, known))
        self._ctx.set(ctx)
        try:
            self._validate(ctx, [_PART + name for name in self._parts])
        except BaseException:
            self._abort(ctx)
            raise
        ctx.marks = {name: part.mark() for name, part in self._parts.items() if part.mark is not None}
        return ctx

    def _validate(self, ctx: _Context, keys: Sequence[str]) -> None:
        """Make this process's copies of ``keys`` those of the transaction's moment."""
        generation = ctx.tx.generation
        stale = [k for k in keys if k not in ctx.checked and self._checked.get(k) != generation]
        if not stale:
            return
        versions = ctx.tx.versions(stale)
        for key in stale:
            version = versions.get(key)
            if version != self._versions.get(key):
                self._install(ctx, key, version)
            self._checked[key] = generation
            ctx.checked.add(key)

    def _install(self, ctx: _Context, key: str, version: int | None) -> None:
        row = ctx.tx.load(key) if version is not None else None
        if key.startswith(_PART):
            name = key[len(_PART) :]
            if row is not None:
                self._parts[name].load(self._loads(row[1], ctx.tx))
                self._part_blobs[name] = row[1]
        else:
            provider, _, namespace = key[len(_NS) :].partition("/")
            with self._lock:
                if row is None:
                    self._backends.pop((provider, namespace), None)
                else:
                    self._backends[(provider, namespace)] = self._loads(row[1], ctx.tx)
        if row is None:
            self._versions.pop(key, None)
        else:
            self._versions[key] = row[0]

    def _durable_backend(self, key: tuple[str, str], on_create: Callable[[B], None] | None) -> B:
        ctx = self._current()
        if ctx is None:  # outside a request's transaction (a response hook): this process's copy, never stored
            with self._lock:
                backend = self._backends.get(key)
                if backend is None:
                    backend = self._backends[key] = self._factories[key[0]]()
                    if on_create is not None:
                        on_create(backend)
                return backend
        name = self._key(key)
        if name not in ctx.touched:
            self._validate(ctx, [name])
            ctx.touched.add(name)
        with self._lock:
            backend = self._backends.get(key)
            if backend is None:
                if on_create is not None and not ctx.tx.write:
                    raise NeedsWrite  # seeding a new namespace writes it (fixtures stamp it with the time)
                backend = self._backends[key] = self._factories[key[0]]()
                if on_create is not None:
                    on_create(backend)
            return backend

    def _commit(self, ctx: _Context) -> None:
        tx = ctx.tx
        saved: dict[str, int] = {}
        blobs: dict[str, bytes] = {}
        try:
            for name, part in self._parts.items():
                if part.mark is not None and (part.mark() == ctx.marks.get(name) and _PART + name in self._versions):
                    continue
                blob = self._dumps(part.export(), tx)
                if part.mark is None and blob == self._part_blobs.get(name):
                    continue
                saved[_PART + name] = tx.save(_PART + name, blob)
                blobs[name] = blob
            for key in ctx.touched:
                provider, _, namespace = key[len(_NS) :].partition("/")
                with self._lock:
                    backend = self._backends.get((provider, namespace))
                if backend is not None:
                    saved[key] = tx.save(key, self._dumps(backend, tx))
            tx.commit()
        except BaseException:
            self._abort(ctx)
            raise
        self._ctx.set(None)
        for key, generation in self._checked.items():
            if generation == tx.generation - 1:  # current before this write, which changed only what it saved
                self._checked[key] = tx.generation
        self._versions.update(saved)
        self._part_blobs.update(blobs)
        for key in saved:
            self._checked[key] = tx.generation
        self._refreshed = tx.generation

    def _end_read(self, ctx: _Context) -> None:
        self._ctx.set(None)
        ctx.tx.rollback()
        self._refreshed = ctx.tx.generation

    def _abort(self, ctx: _Context) -> None:
        """Roll back and forget what the transaction touched (it may hold half of a change)."""
        self._ctx.set(None)
        ctx.tx.rollback()
        self._checked.clear()  # a rolled-back write's generation will be used again by the next write
        for key in ctx.touched:
            self._versions.pop(key, None)
            provider, _, namespace = key[len(_NS) :].partition("/")
            with self._lock:
                self._backends.pop((provider, namespace), None)
        for name in self._parts:
            self._versions.pop(_PART + name, None)  # reloaded (and put back) by the next transaction
        self._refreshed = -1

    def _forget(self, prefix: str) -> None:
        for key in [k for k in self._versions if k.startswith(prefix)]:
            del self._versions[key]
        for key in [k for k in self._checked if k.startswith(prefix)]:
            del self._checked[key]

    def _dumps(self, obj: Any, tx: Transaction) -> bytes:
        buffer = io.BytesIO()
        _Pickler(buffer, self, tx).dump(obj)
        return buffer.getvalue()

    def _loads(self, blob: bytes, tx: Transaction | None) -> Any:
        token = _LOADING.set((self, tx))
        try:
            return pickle.loads(blob)
        finally:
            _LOADING.reset(token)

    def _digest(self, data: bytes) -> str:
        known = self._digests.get(id(data))
        if known is not None and known[0] is data:
            return known[1]
        if len(self._digests) > 1024:
            self._digests.clear()
        digest = hashlib.sha256(data).hexdigest()
        self._digests[id(data)] = (data, digest)
        return digest


_LOADING: contextvars.ContextVar[tuple[Store[Any], Transaction | None]] = contextvars.ContextVar("store-loading")


def _shared_ref(index: int) -> Any:
    """Unpickling: the loading store's shared service number ``index`` (engine, clock, ids)."""
    return _LOADING.get()[0]._shared[index]


def _blob_ref(digest: str) -> bytes:
    """Unpickling: a content stored apart, by digest."""
    store, tx = _LOADING.get()
    if tx is None:
        raise pickle.UnpicklingError("a stored content referenced outside the state")
    data = tx.get_blob(digest)
    store._digests[id(data)] = (data, digest)
    return data


class _BlobRef:
    def __init__(self, digest: str) -> None:
        self.digest = digest

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _blob_ref, (self.digest,)


@dataclass(frozen=True)
class _Layout:
    """How the pickler treats instances of one class (worked out once per class): ``names`` are the slots of a
    class without ``__dict__`` (None otherwise), ``values`` a C-speed getter of them, and ``plain`` says the
    class pickles the default way (no ``__reduce__``, ``__getstate__`` or ``__setstate__`` of its own)."""

    names: tuple[str, ...] | None
    values: Callable[[Any], Any] | None
    plain: bool


_LAYOUTS: dict[type, _Layout] = {}


def _layout(cls: type, sample: Any) -> _Layout:
    names: tuple[str, ...] | None = None
    if not hasattr(sample, "__dict__"):
        found: list[str] = []
        for klass in reversed(cls.__mro__):
            slots = klass.__dict__.get("__slots__", ())
            for name in (slots,) if isinstance(slots, str) else slots:
                if name not in ("__weakref__", "__dict__") and name not in found:
                    found.append(name)
        names = tuple(found) or None
    plain = (cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__  # type: ignore[comparison-overlap]
             and getattr(cls, "__getstate__", None) is object.__getstate__ and not hasattr(cls, "__setstate__")
             and not hasattr(cls, "__getnewargs_ex__") and not hasattr(cls, "__getnewargs__"))
    layout = _Layout(names, operator.attrgetter(*names) if names else None, plain)
    _LAYOUTS[cls] = layout
    return layout


def _slots_object(cls: Any, names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    """Unpickling: an instance of a slots class with ``names`` set to ``values`` (what the default reduction
    does, from a tuple instead of a dict of slot names: smaller, and made in C when pickled)."""
    obj = cls.__new__(cls)
    for name, value in zip(names, values):
        object.__setattr__(obj, name, value)
    return obj


class _Pickler(pickle.Pickler):
    """Shared services (engine, clock, ids) by reference; large contents (a ``bytes`` attribute of an object) by
    digest, stored once. ``reducer_override`` sees only instances of classes, so plain data pickles at C speed;
    a slots record with no bytes attribute (a batch) is reduced to its values, read by one C getter."""

    def __init__(self, file: io.BytesIO, store: Store[Any], tx: Transaction | None) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = {id(obj): index for index, obj in enumerate(store._shared)}
        self._store = store
        self._tx = tx

    def reducer_override(self, obj: Any) -> Any:
        index = self._shared.get(id(obj))
        if index is not None:
            return _shared_ref, (index,)
        if self._tx is None:
            return NotImplemented
        cls = type(obj)
        layout = _LAYOUTS.get(cls) or _layout(cls, obj)
        if layout.names is None:
            attrs = getattr(obj, "__dict__", None)
            if type(attrs) is not dict or bytes not in map(type, attrs.values()):  # decided in C: no bytes attribute
                return NotImplemented
            values: dict[str, Any] = attrs
        else:
            assert layout.values is not None
            try:
                found = layout.values(obj)
            except AttributeError:  # a slot left unset: the default reduction leaves it out
                found = None
            if found is not None:
                found = (found,) if len(layout.names) == 1 else found
                if bytes not in map(type, found):
                    return (_slots_object, (cls, layout.names, found)) if layout.plain else NotImplemented
            # a slots record holding bytes (the OpenAI family's File): its fields are its state
            values = {name: getattr(obj, name, None) for name in layout.names}
        big = [name for name, value in values.items() if type(value) is bytes and len(value) >= BLOB_MIN]
        if not big:
            return NotImplemented
        reduced = obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
        if not isinstance(reduced, tuple) or len(reduced) < 3:
            return NotImplemented
        if isinstance(reduced[2], dict):
            state: Any = dict(reduced[2])
            target = state
        elif isinstance(reduced[2], tuple) and len(reduced[2]) == 2 and isinstance(reduced[2][1], dict):
            target = dict(reduced[2][1])  # (the __dict__ state, the slots state)
            state = (reduced[2][0], target)
        else:
            return NotImplemented
        for name in big:
            target[name] = _BlobRef(self._store_blob(target[name]))
        return (reduced[0], reduced[1], state, *reduced[3:])

    def _store_blob(self, data: bytes) -> str:
        assert self._tx is not None
        digest = self._store._digest(data)
        if not self._tx.has_blob(digest):
            if not self._tx.write:
                raise NeedsWrite
            self._tx.put_blob(digest, data)
        return digest
