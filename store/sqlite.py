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
import time
import weakref
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


class _Reader:
    """A thread's read connection, closed with the thread's locals when the thread ends."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __del__(self) -> None:
        self.connection.close()


class SqliteDatabase(Database):
    """One connection for writes, one statement at a time (SQLite writes one at a time anyway);
    a connection of its own for each thread's reads, which never wait for a write, this
    process's or another's."""

    dialect = Dialect.SQLITE

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Sealed dead-letter bodies and what was bought: readable by this user only.
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        except OSError as err:
            raise StoreError(f"RETURNFLOW_STORE_URL: cannot open {self.path}: {err}") from None
        self._connection = self._connect()
        try:
            self._connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as err:
            self._connection.close()
            raise StoreError(f"RETURNFLOW_STORE_URL: cannot open {self.path}: {err}") from None
        self._lock = threading.RLock()
        self._thread = threading.local()
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self._readers_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as err:
            connection.close()
            raise StoreError(f"RETURNFLOW_STORE_URL: cannot open {self.path}: {err}") from None
        return connection

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[_SqliteSession]:
        # A read inside this thread's own write sees that write: it goes on the same connection.
        if write or getattr(self._thread, "writing", False):
            # The wait for this process's other writers and another process's counts against
            # one busy timeout: a writer waits that long at most, however many are in line.
            waited = time.monotonic()
            if not self._lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
                raise StoreUnavailable(
                    f"{self.describe()}: this process's writes held the file past the "
                    f"{BUSY_TIMEOUT_MS // 1000} s it waits for a write"
                )
            try:
                writing, self._thread.writing = getattr(self._thread, "writing", False), True
                left = BUSY_TIMEOUT_MS - int((time.monotonic() - waited) * 1000)
                try:
                    # IMMEDIATE: take the write lock now, so a read-then-write cannot be
                    # overtaken.
                    begin = "BEGIN IMMEDIATE" if write else "BEGIN"
                    with self._in(self._connection, begin, wait_ms=max(left, 1)) as s:
                        yield s
                finally:
                    self._thread.writing = writing
            finally:
                self._lock.release()
            return
        # A read alone takes no lock, and never waits for a write (WAL).
        with self._in(self._reader(), "BEGIN") as session:
            yield session

    @contextmanager
    def _in(
        self, connection: sqlite3.Connection, begin: str, wait_ms: int | None = None
    ) -> Iterator[_SqliteSession]:
        if connection.in_transaction:  # a transaction within this thread's own
            yield _SqliteSession(connection)
            return
        try:
            if wait_ms is not None:  # a write: what is left of its wait
                connection.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
            connection.execute(begin)
        except sqlite3.OperationalError as err:  # locked past the busy timeout
            raise StoreUnavailable(f"{self.describe()}: {err}") from err
        try:
            yield _SqliteSession(connection)
            connection.execute("COMMIT")
        finally:
            # Whatever failed (the block, or COMMIT itself: a full disk), nothing stays open.
            if connection.in_transaction:
                connection.execute("ROLLBACK")

    def _reader(self) -> sqlite3.Connection:
        """This thread's connection for reads, opened on its first (and closed when the thread
        ends, or the database is)."""
        reader: _Reader | None = getattr(self._thread, "reader", None)
        if reader is None:
            reader = _Reader(self._connect())
            with self._readers_lock:
                self._readers.add(reader)
            self._thread.reader = reader
        return reader.connection

    def close(self) -> None:
        with self._lock:
            self._connection.close()
        with self._readers_lock:
            for reader in list(self._readers):
                reader.connection.close()

    def describe(self) -> str:
        return f"sqlite:///{self.path.resolve()}"

    def pragma(self, name: str) -> Any:
        """A pragma's value on this connection (the journal mode, say)."""
        with self._lock:
            row = self._connection.execute(f"PRAGMA {name}").fetchone()
            return row[0] if row else None
