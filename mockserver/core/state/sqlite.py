"""The SQLite engine: one embedded file (WAL), the standard library's driver, one connection per thread."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from .base import StateError

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS mock_meta (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO mock_meta VALUES (1, 0)",
    "CREATE TABLE IF NOT EXISTS mock_state (key TEXT PRIMARY KEY, version INTEGER NOT NULL, blob BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS mock_blobs (digest TEXT PRIMARY KEY, data BLOB NOT NULL)",
)


class SqliteTransaction:
    def __init__(self, conn: sqlite3.Connection, write: bool) -> None:
        self.conn = conn
        self.write = write
        if write:
            conn.execute("BEGIN IMMEDIATE")  # the one write lock, held to commit (busy_timeout waits for it)
            self.generation = conn.execute("UPDATE mock_meta SET generation = generation + 1 RETURNING generation").fetchone()[0]
        else:
            conn.execute("BEGIN")
            self.generation = conn.execute("SELECT generation FROM mock_meta").fetchone()[0]  # the snapshot starts here

    def versions(self, keys: Sequence[str]) -> dict[str, int]:
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        return dict(self.conn.execute(f"SELECT key, version FROM mock_state WHERE key IN ({marks})", tuple(keys)).fetchall())

    def load(self, key: str) -> tuple[int, bytes] | None:
        row = self.conn.execute("SELECT version, blob FROM mock_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    def load_prefix(self, prefix: str) -> list[tuple[str, int, bytes]]:
        rows = self.conn.execute("SELECT key, version, blob FROM mock_state WHERE substr(key, 1, ?) = ? ORDER BY key", (len(prefix), prefix))
        return [(k, v, bytes(b)) for k, v, b in rows.fetchall()]

    def keys(self, prefix: str) -> list[str]:
        rows = self.conn.execute("SELECT key FROM mock_state WHERE substr(key, 1, ?) = ? ORDER BY key", (len(prefix), prefix))
        return [k for (k,) in rows.fetchall()]

    def save(self, key: str, blob: bytes) -> int:
        self.conn.execute(
            "INSERT INTO mock_state (key, version, blob) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET version = excluded.version, blob = excluded.blob",
            (key, self.generation, blob),
        )
        return int(self.generation)

    def delete_prefix(self, prefix: str) -> None:
        self.conn.execute("DELETE FROM mock_state WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))

    def delete_blobs(self) -> None:
        self.conn.execute("DELETE FROM mock_blobs")

    def has_blob(self, digest: str) -> bool:
        return self.conn.execute("SELECT 1 FROM mock_blobs WHERE digest = ?", (digest,)).fetchone() is not None

    def put_blob(self, digest: str, data: bytes) -> None:
        self.conn.execute("INSERT OR IGNORE INTO mock_blobs (digest, data) VALUES (?, ?)", (digest, data))

    def get_blob(self, digest: str) -> bytes:
        row = self.conn.execute("SELECT data FROM mock_blobs WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            raise StateError(f"state is missing the stored content {digest}")
        return bytes(row[0])

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


class SqliteState:
    """``--state PATH``. Journal mode WAL: readers never wait for the writer; writers take turns."""

    def __init__(self, path: str) -> None:
        self.path = Path(path).expanduser()
        self.target = str(self.path)
        self._local = threading.local()
        if self.path.is_dir():
            raise StateError(f"--state {self.path}: is a directory; give the path of a state file (it is created if missing)")
        if not self.path.parent.is_dir():
            raise StateError(f"--state {self.path}: the directory {self.path.parent} does not exist")
        conn = self._conn()
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
        except sqlite3.Error as exc:
            raise StateError(f"--state {self.path}: cannot use this file as a state database: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                # NORMAL: a commit survives the process being killed (kill -9); a power cut may lose the last ones
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=30000")
            except sqlite3.Error as exc:
                raise StateError(f"--state {self.path}: cannot open: {exc}") from exc
            self._local.conn = conn
        return conn

    def begin(self, write: bool) -> SqliteTransaction:
        return SqliteTransaction(self._conn(), write)

    def generation(self) -> int:
        return int(self._conn().execute("SELECT generation FROM mock_meta").fetchone()[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
