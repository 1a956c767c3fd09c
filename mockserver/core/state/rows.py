"""What the two durable engines share: a transaction over the rows ``key -> (version, blob)`` and the blobs,
and the connection per thread. Each engine says only its dialect: how a transaction begins, how a statement
marks a parameter, how a key is matched by prefix and against a list."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from .base import Stale, StateError


class RowTransaction:
    BEGIN_WRITE: ClassVar[str]
    BEGIN_READ: ClassVar[str]
    MARK: ClassVar[str] = "?"  # the driver's parameter marker; statements below are written with "?"

    def __init__(self, conn: Any, write: bool, known: int | None = None) -> None:
        self.conn = conn
        self.write = write
        self.open = True
        if write:
            conn.execute(self.BEGIN_WRITE)  # the one write lock, held to commit (see base.Transaction)
            self.generation = self._one("UPDATE mock_meta SET generation = generation + 1 WHERE id = 1 RETURNING generation")[0]
        elif known is not None:  # begun on the first statement, if one is needed (base.StateEngine.begin)
            self.open = False
            self.generation = known
        else:
            self._open()

    def _open(self) -> None:
        self.conn.execute(self.BEGIN_READ)
        self.open = True
        generation = self.conn.execute("SELECT generation FROM mock_meta WHERE id = 1").fetchone()[0]  # the snapshot starts here
        if not hasattr(self, "generation"):
            self.generation = generation
        elif generation != self.generation:
            raise Stale

    # -- the dialect ------------------------------------------------------------------------------------
    def _prefix(self, prefix: str) -> tuple[str, tuple[Any, ...]]:
        """A condition true for the keys starting with ``prefix``, and its parameters."""
        return "substr(key, 1, ?) = ?", (len(prefix), prefix)

    def _among(self, keys: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
        """A condition true for the keys in ``keys``, and its parameters."""
        return f"key IN ({','.join('?' * len(keys))})", tuple(keys)

    # -- the rows ---------------------------------------------------------------------------------------
    def _run(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        if not self.open:
            self._open()
        return self.conn.execute(statement.replace("?", self.MARK) if self.MARK != "?" else statement, params)

    def _one(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        return self._run(statement, params).fetchone()

    def versions(self, keys: Sequence[str]) -> dict[str, int]:
        if not keys:
            return {}
        condition, params = self._among(keys)
        return dict(self._run(f"SELECT key, version FROM mock_state WHERE {condition}", params).fetchall())

    def load(self, key: str) -> tuple[int, bytes] | None:
        row = self._one("SELECT version, blob FROM mock_state WHERE key = ?", (key,))
        return None if row is None else (row[0], bytes(row[1]))

    def load_prefix(self, prefix: str) -> list[tuple[str, int, bytes]]:
        condition, params = self._prefix(prefix)
        rows = self._run(f"SELECT key, version, blob FROM mock_state WHERE {condition} ORDER BY key", params)
        return [(k, v, bytes(b)) for k, v, b in rows.fetchall()]

    def keys(self, prefix: str) -> list[str]:
        condition, params = self._prefix(prefix)
        return [k for (k,) in self._run(f"SELECT key FROM mock_state WHERE {condition} ORDER BY key", params).fetchall()]

    def save(self, key: str, blob: bytes) -> int:
        self._run(
            "INSERT INTO mock_state (key, version, blob) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET version = excluded.version, blob = excluded.blob",
            (key, self.generation, blob),
        )
        return int(self.generation)

    def delete_prefix(self, prefix: str) -> None:
        condition, params = self._prefix(prefix)
        self._run(f"DELETE FROM mock_state WHERE {condition}", params)

    def delete_blobs(self) -> None:
        self._run("DELETE FROM mock_blobs")

    def has_blob(self, digest: str) -> bool:
        return self._one("SELECT 1 FROM mock_blobs WHERE digest = ?", (digest,)) is not None

    def put_blob(self, digest: str, data: bytes) -> None:
        self._run("INSERT INTO mock_blobs (digest, data) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING", (digest, data))

    def get_blob(self, digest: str) -> bytes:
        row = self._one("SELECT data FROM mock_blobs WHERE digest = ?", (digest,))
        if row is None:
            raise StateError(f"state is missing the stored content {digest}")
        return bytes(row[0])

    def commit(self) -> None:
        if self.open:
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.open:
            self.conn.execute("ROLLBACK")


class RowState:
    """An engine: one connection per thread (``_connect``), transactions of ``transaction``'s class."""

    transaction: ClassVar[type[RowTransaction]]
    target: str

    def __init__(self) -> None:
        self._local = threading.local()

    def _connect(self) -> Any:
        raise NotImplementedError

    def _usable(self, conn: Any) -> bool:
        return True

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or not self._usable(conn):
            conn = self._local.conn = self._connect()
        return conn

    def begin(self, write: bool, known: int | None = None) -> RowTransaction:
        return self.transaction(self._conn(), write, known)

    def generation(self) -> int:
        return int(self._conn().execute("SELECT generation FROM mock_meta WHERE id = 1").fetchone()[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
