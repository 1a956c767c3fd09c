"""The contract between the store and a durable engine: transactions over versioned rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class StateError(RuntimeError):
    """The state cannot be opened or used (a path that cannot be written, a server that does not answer)."""


class NeedsWrite(Exception):
    """Raised inside a read transaction when the request turns out to change state (it drew an id, created a
    namespace with fixtures): the store rolls back and runs the request again in a write transaction."""


class Stale(Exception):
    """Raised by a read transaction begun at a known generation (``begin(False, known=g)``) when its first
    statement finds that a write has committed since: the store runs the request again from a fresh start."""


class Transaction(Protocol):
    """One transaction. A write transaction holds the engine's one write lock from its start to its end
    (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a ``FOR UPDATE`` lock on the generation row), so writes are
    serial and a read sees one committed moment (SQLite WAL snapshot; PostgreSQL REPEATABLE READ)."""

    write: bool
    generation: int  # bumped by every committed write, anywhere; a write transaction's rows get generation

    def versions(self, keys: Sequence[str]) -> dict[str, int]: ...
    def load(self, key: str) -> tuple[int, bytes] | None: ...
    def load_prefix(self, prefix: str) -> list[tuple[str, int, bytes]]: ...
    def keys(self, prefix: str) -> list[str]: ...
    def save(self, key: str, blob: bytes) -> int: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def delete_blobs(self) -> None: ...
    def has_blob(self, digest: str) -> bool: ...
    def put_blob(self, digest: str, data: bytes) -> None: ...
    def get_blob(self, digest: str) -> bytes: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class StateEngine(Protocol):
    target: str  # what to print (no password)

    def begin(self, write: bool, known: int | None = None) -> Transaction:
        """A transaction. A read given ``known`` (a generation the caller has just seen) sends nothing until
        its first statement, which raises ``Stale`` if the generation has moved since: a read answered from
        copies already current at ``known`` costs no round trip."""
        ...
    def generation(self) -> int: ...
    def close(self) -> None: ...
