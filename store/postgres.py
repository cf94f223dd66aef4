"""The store on PostgreSQL: every worker and gateway of every host shares it.

Each process keeps a pool of connections (`RETURNFLOW_STORE_POOL_SIZE` at most, one opened at
start); a statement borrows one for its transaction. A connection lost (a restart of the
server, a failover) is noticed when borrowed and replaced.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from plumbing.errors import first_line
from store.database import (
    Database,
    Dialect,
    Row,
    StoreError,
    StoreUnavailable,
)


def _placeholders(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


_PASSING = (
    psycopg.errors.TransactionRollback,
    psycopg.errors.ReadOnlySqlTransaction,
    psycopg.errors.CannotConnectNow,
    psycopg.errors.AdminShutdown,
)
"""What the server answers for a while and not for ever: retried, as a lost connection is."""


class _PostgresSession:
    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        self._cursor.execute(_placeholders(sql), tuple(args))
        return self._cursor.rowcount

    def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        self._cursor.execute(_placeholders(sql), tuple(args))
        row: Row | None = self._cursor.fetchone()
        return row

    def fetch_all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        self._cursor.execute(_placeholders(sql), tuple(args))
        return list(self._cursor.fetchall())


class PostgresDatabase(Database):
    dialect = Dialect.POSTGRESQL

    def __init__(self, url: str, *, pool_size: int, connect_timeout: float) -> None:
        self.url = url
        try:
            self._parts = conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            # The parser's message quotes the URL, password included: never repeat it.
            raise StoreError(
                "RETURNFLOW_STORE_URL: not a PostgreSQL URL that can be read: "
                "postgresql://USER:PASSWORD@HOST:PORT/DATABASE, with any @ : / ? # % in the "
                "user or password percent-encoded (%40 for @)"
            ) from None
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=connect_timeout,
            # A connection is checked when borrowed: one the server dropped is replaced.
            check=ConnectionPool.check_connection,
            kwargs={"autocommit": True, "connect_timeout": max(1, int(connect_timeout))},
            name="returnflow-store",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout:
            self._pool.close()
            raise StoreError(
                f"RETURNFLOW_STORE_URL: no connection to {self.describe()} within "
                f"{connect_timeout:g} s: is PostgreSQL running there, and are the user, "
                "password and database right?"
            ) from None

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[_PostgresSession]:
        try:
            with (
                self._connection() as connection,
                connection.transaction(),
                connection.cursor() as cursor,
            ):
                yield _PostgresSession(cursor)
        except _PASSING as err:
            # A deadlock or a serialization failure rolled the transaction back; a primary
            # demoted in a failover refuses writes until the client finds the new one; a server
            # starting or stopping refuses connections: nothing was committed, and the caller
            # may try again, as when no connection could be had.
            raise StoreUnavailable(f"{self.describe()}: {first_line(err)}") from err
        except psycopg.OperationalError as err:
            if not connection_lost(err):
                raise
            # The connection was lost mid-transaction (a restart, a failover): nothing was
            # committed, and the caller may try again, as when no connection could be had.
            raise StoreUnavailable(f"{self.describe()}: {first_line(err)}") from err

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection from the pool; none within its timeout is `StoreUnavailable`."""
        with ExitStack() as stack:
            try:
                connection = stack.enter_context(self._pool.connection())
            except (PoolTimeout, psycopg.OperationalError) as err:
                raise StoreUnavailable(f"{self.describe()}: {err}") from err
            yield connection

    def close(self) -> None:
        self._pool.close()

    def describe(self) -> str:
        """The URL without its password (wherever the URL gave it)."""
        parts = self._parts
        host = str(parts.get("host", "localhost"))
        host = f"[{host}]" if ":" in host else host
        port = f":{parts['port']}" if parts.get("port") else ""
        user = f"{parts['user']}@" if parts.get("user") else ""
        return f"postgresql://{user}{host}{port}/{parts.get('dbname', '')}"

    def pool_stats(self) -> dict[str, int]:
        return dict(self._pool.get_stats())


SERVER_GONE = frozenset({"57P01", "57P02", "57P03"})
"""SQLSTATEs of a server shutting down (administrator, crash, not yet accepting connections)."""


def connection_lost(err: psycopg.OperationalError) -> bool:
    """The error is the connection's end, not the statement's (a limit, a value): none is
    what a connection dropped without a word from the server gives."""
    state = err.sqlstate
    return state is None or state.startswith("08") or state in SERVER_GONE
