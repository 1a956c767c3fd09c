"""The SQLite engine: one embedded file (WAL), the standard library's driver, one connection per thread."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .base import StateError
from .rows import RowState, RowTransaction

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS mock_meta (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO mock_meta VALUES (1, 0)",
    "CREATE TABLE IF NOT EXISTS mock_state (key TEXT PRIMARY KEY, version INTEGER NOT NULL, blob BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS mock_blobs (digest TEXT PRIMARY KEY, data BLOB NOT NULL)",
)


class SqliteTransaction(RowTransaction):
    BEGIN_WRITE = "BEGIN IMMEDIATE"  # the one write lock, held to commit (busy_timeout waits for it)
    BEGIN_READ = "BEGIN"

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


class SqliteState(RowState):
    """``--state PATH``. Journal mode WAL: readers never wait for the writer; writers take turns."""

    transaction = SqliteTransaction

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = Path(path).expanduser()
        self.target = str(self.path)
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

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit survives the process being killed (kill -9); a power cut may lose the last ones
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.Error as exc:
            raise StateError(f"--state {self.path}: cannot open: {exc}") from exc
        return conn
