"""Where state lives when it must outlive the process: one storage layer, two durable engines.

``open_state(target)`` picks the engine from ``--state`` / ``MOCKSERVER_STATE``: a ``postgresql://`` URL is a
PostgreSQL server (several processes on several machines share one truth), anything else is the path of an
embedded SQLite file. No target: the state stays in memory and none of this code runs (``core/store.py``).

An engine stores rows ``key -> (version, blob)`` and content-addressed blobs (large file contents); what the
rows mean is the store's business (``core/store.py``): it treats every backend as an opaque picklable object.
"""

from __future__ import annotations

from .base import NeedsWrite, StateEngine, StateError, Transaction

__all__ = ["NeedsWrite", "StateEngine", "StateError", "Transaction", "open_state", "describe_target"]


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def describe_target(target: str) -> str:
    """The target as it may be printed: a URL without its password."""
    if is_postgres(target) and "@" in target:
        scheme, _, rest = target.partition("://")
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else target
    return target


def open_state(target: str) -> StateEngine:
    if is_postgres(target):
        from .postgres import PostgresState

        return PostgresState(target)
    from .sqlite import SqliteState

    return SqliteState(target)
