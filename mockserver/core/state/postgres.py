"""The PostgreSQL engine: several processes, on several machines, share one truth. Driver: psycopg 3."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import StateError
from .rows import RowState, RowTransaction

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS mock_meta (id INTEGER PRIMARY KEY CHECK (id = 1), generation BIGINT NOT NULL)",
    "INSERT INTO mock_meta VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    "CREATE TABLE IF NOT EXISTS mock_state (key TEXT PRIMARY KEY, version BIGINT NOT NULL, blob BYTEA NOT NULL)",
    "CREATE TABLE IF NOT EXISTS mock_blobs (digest TEXT PRIMARY KEY, data BYTEA NOT NULL)",
)
_SCHEMA_LOCK = 0x6D6F636B  # an advisory lock: two processes starting at once create the tables once


def _driver() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency of the package
        raise StateError("--state postgresql://...: the PostgreSQL driver is missing: pip install 'psycopg[binary]'") from exc
    return psycopg


class PostgresTransaction(RowTransaction):
    # write: the one write lock is the generation row, held to commit; every statement after it sees every earlier write
    BEGIN_WRITE = "BEGIN ISOLATION LEVEL READ COMMITTED"
    BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    MARK = "%s"

    def _prefix(self, prefix: str) -> tuple[str, tuple[Any, ...]]:
        return "starts_with(key, ?)", (prefix,)

    def _among(self, keys: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
        return "key = ANY(?)", (list(keys),)

    def rollback(self) -> None:
        if not self.open:
            return
        try:
            self.conn.execute("ROLLBACK")
        except Exception:  # a broken connection: the server rolled back already; the next begin reconnects
            pass


class PostgresState(RowState):
    """``--state postgresql://user:password@host:port/dbname``."""

    transaction = PostgresTransaction

    def __init__(self, url: str) -> None:
        from . import describe_target

        super().__init__()
        self.url = url
        self.target = describe_target(url)
        conn = self._conn()
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
            try:
                for statement in _SCHEMA:
                    conn.execute(statement)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
        except _driver().Error as exc:
            raise StateError(f"--state {self.target}: cannot create the state tables: {exc}") from exc

    def _usable(self, conn: Any) -> bool:
        return not (conn.closed or conn.broken)

    def _connect(self) -> Any:
        psycopg = _driver()
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StateError(f"--state {self.target}: cannot connect: {str(exc).strip()}") from exc
