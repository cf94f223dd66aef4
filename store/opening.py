"""Opening the store a process is configured with, its schema migrated."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg

from plumbing.errors import first_line
from plumbing.settings import Settings
from store.database import Database, StoreError
from store.migrations import latest, migrate
from store.postgres import PostgresDatabase
from store.sqlite import SqliteDatabase


@dataclass
class Store:
    """The product's store: one database, shared by the ledgers and the dead letters that
    each keep their own tables in it."""

    database: Database

    def close(self) -> None:
        self.database.close()

    def describe(self) -> str:
        return self.database.describe()


def store_url(settings: Settings) -> str:
    """The configured store's URL (the embedded SQLite file unless one is set)."""
    if settings.store_url is None:
        return f"sqlite:///{settings.store_path.resolve()}"
    return settings.store_url.get_secret_value()


def open_database(settings: Settings, *, create: bool = True) -> Database:
    """The configured database; with `create` false, a SQLite file that is not there is a
    `StoreError` rather than a new, empty store (a path mistyped to read or prune)."""
    url = store_url(settings)
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise StoreError(f"RETURNFLOW_STORE_URL: {url!r}: give a file, sqlite:///PATH")
        # As SQLAlchemy spells it: sqlite:///relative/path, sqlite:////absolute/path.
        path = Path(rest[1:])
        if not create and not path.is_file():
            raise StoreError(
                f"RETURNFLOW_STORE_URL: no store at {path.resolve()}: a worker or gateway "
                "creates it at start, and `store migrate` now"
            )
        return SqliteDatabase(path)
    if scheme in ("postgresql", "postgres"):
        return PostgresDatabase(
            url,
            pool_size=settings.store_pool_size,
            connect_timeout=settings.store_connect_timeout_seconds,
        )
    raise StoreError(f"RETURNFLOW_STORE_URL: {scheme!r} is not a store")


def open_store(settings: Settings, *, create: bool = True) -> Store:
    """The configured store, its schema at this build's version; with `create` false, as
    `open_database` says."""
    database = open_database(settings, create=create)
    try:
        migrate(database)
    except (psycopg.Error, sqlite3.Error) as err:
        database.close()
        # A role that may not create the tables, a server read-only: said, not a traceback.
        raise StoreError(
            f"RETURNFLOW_STORE_URL: {database.describe()} could not be opened at schema "
            f"version {latest()}: {first_line(err)} (the tables are created by `starter.py "
            "store migrate` run as the owner of the store's schema; every process's role must "
            "be able to read and write them)"
        ) from err
    except BaseException:
        database.close()
        raise
    return Store(database)
