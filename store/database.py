"""One interface over SQLite and PostgreSQL: statements in one transaction, and the dialect's
few differences (placeholders, column types) spelled once.

Statements are written with `?` placeholders and the types `{bytes}`, `{timestamp}` and
`{bool}` (`Dialect.ddl`). The calls block: async code runs them with `Database.run`, on a
thread of the event loop's executor.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, Protocol, TypeVar

Row = tuple[Any, ...]
T = TypeVar("T")


class StoreError(RuntimeError):
    """The store cannot be opened or used as configured; the message says what to change."""


class StoreUnavailable(StoreError):
    """The store is there but does not answer now (SQLite locked past its busy timeout, no
    PostgreSQL connection within the pool's timeout): worth trying again later."""


class Dialect(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"

    def ddl(self, statement: str) -> str:
        """`statement` with the portable type names replaced by this dialect's."""
        types = _TYPES[self]
        return statement.format(**types)


_TYPES = {
    Dialect.SQLITE: {"bytes": "BLOB", "timestamp": "TEXT", "bool": "INTEGER"},
    Dialect.POSTGRESQL: {"bytes": "BYTEA", "timestamp": "TIMESTAMPTZ", "bool": "BOOLEAN"},
}


class Session(Protocol):
    """Statements inside one transaction."""

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run `sql`; the number of rows it changed."""
        ...

    def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Row | None: ...

    def fetch_all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...


class Database(ABC):
    """A store's connection(s); every method may be called from any thread."""

    dialect: Dialect

    @abstractmethod
    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A session whose statements commit together when the block ends, or not at all when
        it raises. Writers wait for one another (SQLite) or lock rows (PostgreSQL); `write`
        False promises reads only (SQLite then takes no write lock)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def describe(self) -> str:
        """Where the store is, never with a password."""

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        with self.transaction() as session:
            return session.execute(sql, args)

    def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        with self.transaction(write=False) as session:
            return session.fetch_one(sql, args)

    def fetch_all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with self.transaction(write=False) as session:
            return session.fetch_all(sql, args)

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)` on a thread, for async callers."""
        return await asyncio.to_thread(call, *args)


def as_datetime(value: Any) -> dt.datetime:
    """A `{timestamp}` column read back: PostgreSQL gives a datetime, SQLite the ISO text."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def as_timestamp(dialect: Dialect, value: dt.datetime) -> Any:
    """A datetime for a `{timestamp}` column (UTC, ISO text on SQLite: it sorts as time)."""
    value = value.astimezone(dt.UTC)
    return value.isoformat() if dialect is Dialect.SQLITE else value
