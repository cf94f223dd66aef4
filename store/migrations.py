"""The store's schema, as numbered migrations applied in order, each once.

`migrate` runs at every process's start: the first process to take the migration lock applies
what is missing, in one transaction, and the others find it done. A store whose schema is newer
than this build knows is refused (a rollback to an older build must not write a schema it does
not understand). A migration, once released, is never edited: a change is a new migration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from store.database import Database, Dialect, Session, StoreError, as_timestamp

SCHEMA_TABLE = "returnflow_schema"
LOCK_ID = 7_204_811_022
"""PostgreSQL's advisory lock the migrating process holds (any fixed number of ours)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    """DDL with the portable type names of `Dialect.ddl`."""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "carrier ledger",
        (
            """CREATE TABLE carrier_results (
                carrier TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                result TEXT NOT NULL,
                recorded_at {timestamp} NOT NULL,
                PRIMARY KEY (carrier, idempotency_key)
            )""",
            """CREATE TABLE carrier_label_documents (
                carrier TEXT NOT NULL,
                label_id TEXT NOT NULL,
                pdf {bytes} NOT NULL,
                kept_at {timestamp} NOT NULL,
                PRIMARY KEY (carrier, label_id)
            )""",
        ),
    ),
    Migration(
        2,
        "sent notices",
        (
            """CREATE TABLE sent_notices (
                message_id TEXT PRIMARY KEY,
                return_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                sent_at {timestamp} NOT NULL
            )""",
            "CREATE INDEX sent_notices_by_return ON sent_notices (return_id)",
        ),
    ),
    Migration(
        3,
        "dead letters",
        (
            """CREATE TABLE dead_letters (
                letter_id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                state TEXT NOT NULL,
                authenticated {bool} NOT NULL,
                received_at {timestamp} NOT NULL,
                size INTEGER NOT NULL,
                document TEXT NOT NULL
            )""",
            # The unauthenticated senders' letters, oldest first, with their sizes: their quota
            # is summed and evicted from this index alone.
            "CREATE INDEX dead_letters_by_sender ON dead_letters (authenticated, letter_id, size)",
            "CREATE INDEX dead_letters_by_state ON dead_letters (state, letter_id)",
            """CREATE TABLE dead_letter_index (
                name TEXT PRIMARY KEY,
                letter_id TEXT NOT NULL
            )""",
        ),
    ),
)


def latest() -> int:
    return MIGRATIONS[-1].version


def migrate(database: Database) -> list[Migration]:
    """Bring the store's schema to this build's version; the migrations it applied.

    A store already at this version is only read: a role with rights on the tables alone (a
    worker's or a gateway's, where `store migrate` runs as the schema's owner) opens it."""
    at = version(database)
    refuse_newer(database, at)
    if at == latest():
        return []
    dialect = database.dialect
    with database.transaction() as session:
        if dialect is Dialect.POSTGRESQL:
            session.execute("SELECT pg_advisory_xact_lock(?)", (LOCK_ID,))
        session.execute(
            dialect.ddl(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {timestamp} NOT NULL)"
            )
        )
        done = _applied(session)
        refuse_newer(database, max(done, default=0))
        applied = []
        now = as_timestamp(dialect, dt.datetime.now(dt.UTC))
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            for statement in migration.statements:
                session.execute(dialect.ddl(statement))
            session.execute(
                "INSERT INTO returnflow_schema (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, now),
            )
            applied.append(migration)
        return applied


def refuse_newer(database: Database, at: int) -> None:
    """Raises `StoreError` when the store's schema version `at` is newer than this build's."""
    if at > latest():
        raise StoreError(
            f"the store at {database.describe()} has schema version {at}; this build "
            f"knows versions up to {latest()}: run a build at least as new as the one "
            "that migrated it"
        )


def version(database: Database) -> int:
    """The schema version the store is at (0: never migrated)."""
    with database.transaction(write=False) as session:
        if database.dialect is Dialect.POSTGRESQL:
            found = session.fetch_one("SELECT to_regclass(?)", (SCHEMA_TABLE,))
        else:
            found = session.fetch_one(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (SCHEMA_TABLE,)
            )
        if found is None or found[0] is None:
            return 0
        return max(_applied(session), default=0)


def _applied(session: Session) -> set[int]:
    return {row[0] for row in session.fetch_all("SELECT version FROM returnflow_schema")}
