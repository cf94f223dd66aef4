"""The store on one SQLite file: the embedded default, for the processes of one host.

WAL, so other processes' readers never wait for a writer; `synchronous=FULL`, so what a
carrier sold or a relay accepted is on disk before the caller goes on (a crash of the process or
of the host loses nothing committed). Processes sharing the file wait for one another's writes
up to `busy_timeout`. SQLite's locks need a local disk: on network storage, or across hosts, use
PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from store.database import Database, Dialect, Row, StoreError, StoreUnavailable

BUSY_TIMEOUT_MS = 15_000
"""How long a write waits for another process's before it fails."""


class _SqliteSession:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        return self._connection.execute(sql, tuple(args)).rowcount

    def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._connection.execute(sql, tuple(args)).fetchone()
        return row

    def fetch_all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return list(self._connection.execute(sql, tuple(args)).fetchall())


class SqliteDatabase(Database):
    """One connection, one statement at a time (SQLite writes one at a time anyway)."""

    dialect = Dialect.SQLITE

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Sealed dead-letter bodies and what was bought: readable by this user only.
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        except OSError as err:
            raise StoreError(f"RETURNFLOW_STORE_URL: cannot open {self.path}: {err}") from None
        self._connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self._connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._connection.execute("PRAGMA journal_mode = WAL")
            self._connection.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as err:
            self._connection.close()
            raise StoreError(f"RETURNFLOW_STORE_URL: cannot open {self.path}: {err}") from None
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[_SqliteSession]:
        with self._lock:
            # IMMEDIATE: take the write lock now, so a read-then-write cannot be overtaken; a
            # read alone takes none and never waits for another process's write.
            try:
                self._connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as err:  # locked past the busy timeout
                raise StoreUnavailable(f"{self.describe()}: {err}") from err
            try:
                yield _SqliteSession(self._connection)
                self._connection.execute("COMMIT")
            finally:
                # Whatever failed (the block, or COMMIT itself: a full disk), nothing stays open.
                if self._connection.in_transaction:
                    self._connection.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def describe(self) -> str:
        return f"sqlite:///{self.path.resolve()}"

    def pragma(self, name: str) -> Any:
        """A pragma's value on this connection (the journal mode, say)."""
        with self._lock:
            row = self._connection.execute(f"PRAGMA {name}").fetchone()
            return row[0] if row else None
