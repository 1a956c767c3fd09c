"""The PostgreSQL engine: several processes, on several machines, share one truth. Driver: psycopg 3."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from .base import StateError

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


class PostgresTransaction:
    def __init__(self, conn: Any, write: bool) -> None:
        self.conn = conn
        self.write = write
        if write:
            conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            # the one write lock: the generation row, held to commit; every statement after it sees every earlier write
            self.generation = conn.execute("UPDATE mock_meta SET generation = generation + 1 WHERE id = 1 RETURNING generation").fetchone()[0]
        else:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self.generation = conn.execute("SELECT generation FROM mock_meta WHERE id = 1").fetchone()[0]

    def versions(self, keys: Sequence[str]) -> dict[str, int]:
        if not keys:
            return {}
        return dict(self.conn.execute("SELECT key, version FROM mock_state WHERE key = ANY(%s)", (list(keys),)).fetchall())

    def load(self, key: str) -> tuple[int, bytes] | None:
        row = self.conn.execute("SELECT version, blob FROM mock_state WHERE key = %s", (key,)).fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    def load_prefix(self, prefix: str) -> list[tuple[str, int, bytes]]:
        rows = self.conn.execute("SELECT key, version, blob FROM mock_state WHERE starts_with(key, %s) ORDER BY key", (prefix,))
        return [(k, v, bytes(b)) for k, v, b in rows.fetchall()]

    def keys(self, prefix: str) -> list[str]:
        rows = self.conn.execute("SELECT key FROM mock_state WHERE starts_with(key, %s) ORDER BY key", (prefix,))
        return [k for (k,) in rows.fetchall()]

    def save(self, key: str, blob: bytes) -> int:
        self.conn.execute(
            "INSERT INTO mock_state (key, version, blob) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, blob = EXCLUDED.blob",
            (key, self.generation, blob),
        )
        return int(self.generation)

    def delete_prefix(self, prefix: str) -> None:
        self.conn.execute("DELETE FROM mock_state WHERE starts_with(key, %s)", (prefix,))

    def delete_blobs(self) -> None:
        self.conn.execute("DELETE FROM mock_blobs")

    def has_blob(self, digest: str) -> bool:
        return self.conn.execute("SELECT 1 FROM mock_blobs WHERE digest = %s", (digest,)).fetchone() is not None

    def put_blob(self, digest: str, data: bytes) -> None:
        self.conn.execute("INSERT INTO mock_blobs (digest, data) VALUES (%s, %s) ON CONFLICT (digest) DO NOTHING", (digest, data))

    def get_blob(self, digest: str) -> bytes:
        row = self.conn.execute("SELECT data FROM mock_blobs WHERE digest = %s", (digest,)).fetchone()
        if row is None:
            raise StateError(f"state is missing the stored content {digest}")
        return bytes(row[0])

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except Exception:  # a broken connection: the server rolled back already; the next begin reconnects
            pass


class PostgresState:
    """``--state postgresql://user:password@host:port/dbname``."""

    def __init__(self, url: str) -> None:
        from . import describe_target

        self.url = url
        self.target = describe_target(url)
        self._local = threading.local()
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

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            psycopg = _driver()
            try:
                conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            except psycopg.Error as exc:
                raise StateError(f"--state {self.target}: cannot connect: {str(exc).strip()}") from exc
            self._local.conn = conn
        return conn

    def begin(self, write: bool) -> PostgresTransaction:
        return PostgresTransaction(self._conn(), write)

    def generation(self) -> int:
        return int(self._conn().execute("SELECT generation FROM mock_meta WHERE id = 1").fetchone()[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
