"""`python starter.py store status|migrate|prune`: where the store is, what its schema holds,
and how long it keeps what it keeps.

Every process migrates the store at start; `migrate` does it ahead of a rollout (a release
whose migration takes a while, say) and says what it applied. `prune` removes the ledgers' rows
older than a number of days: a row is only read by a retry of the activity that wrote it, and no
attempt lives that long.
"""

from __future__ import annotations

import argparse
import datetime as dt

from plumbing.settings import Settings
from store.database import Database, StoreError, as_timestamp
from store.migrations import MIGRATIONS, latest, migrate, version
from store.opening import open_database

TABLES = (
    ("carrier_results", "carrier results kept by idempotency key"),
    ("carrier_label_documents", "label PDFs kept until the label email"),
    ("sent_notices", "notices the relay accepted"),
    ("dead_letters", "dead letters"),
)

PRUNED = (
    ("carrier_results", "recorded_at"),
    ("carrier_label_documents", "kept_at"),
    ("sent_notices", "sent_at"),
)
"""The ledgers `prune` empties of old rows, by the column saying when each was written. Dead
letters are not among them: operations settle those (`starter.py dead-letters`)."""

PRUNE_AFTER_DAYS = 365
"""What `prune` keeps unless told otherwise: a year, the span of any return and its disputes."""

KEEP_AT_LEAST_DAYS = 90
"""`prune` refuses to remove rows younger than this: a carrier or relay down for weeks still
finds, on its next attempt, what an earlier one bought or sent."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    top = sub.add_parser(
        "store",
        help="the product's store (RETURNFLOW_STORE_URL): its schema version, what it holds",
        description="What returnflow keeps outside Temporal: the carrier ledger, the "
        "sent-notices ledger and the dead letters (docs/store.md).",
    )
    verbs = top.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("status", help="where the store is, its schema version and row counts")
    verbs.add_parser("migrate", help="bring the schema to this build's version now")
    prune = verbs.add_parser(
        "prune", help="remove the carrier and sent-notices ledgers' rows older than --older-than"
    )
    prune.add_argument(
        "--older-than",
        type=int,
        default=PRUNE_AFTER_DAYS,
        metavar="DAYS",
        help=f"rows written more than DAYS days ago (default {PRUNE_AFTER_DAYS}, "
        f"at least {KEEP_AT_LEAST_DAYS})",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Raises `StoreError` for a store that cannot be opened or is newer than this build."""
    if args.verb == "prune" and args.older_than < KEEP_AT_LEAST_DAYS:
        raise StoreError(
            f"--older-than: {args.older_than} days is too recent; rows are kept at least "
            f"{KEEP_AT_LEAST_DAYS} days, for the retries of a carrier or relay down for weeks"
        )
    database = open_database(settings)
    try:
        if args.verb == "prune":
            return _prune(database, args.older_than)
        if args.verb == "migrate":
            applied = migrate(database)
            for migration in applied:
                print(f"applied {migration.version}: {migration.name}")
            print(f"{database.describe()}: schema version {latest()}")
            return 0
        at = version(database)
        print(f"store:   {database.describe()}")
        print(f"schema:  version {at} of {latest()}")
        for migration in MIGRATIONS:
            if migration.version > at:
                print(f"  waiting: {migration.version} {migration.name} (applied at next start)")
        if at == 0:
            return 0
        known = {m.version for m in MIGRATIONS if m.version <= at}
        for table, what in TABLES:
            if not _has_table(table, known):
                continue
            row = database.fetch_one(f"SELECT count(*) FROM {table}")  # noqa: S608 (our names)
            print(f"{table:<24} {row[0] if row else 0:>9}  {what}")
        return 0
    finally:
        database.close()


def _prune(database: Database, days: int) -> int:
    known = {m.version for m in MIGRATIONS if m.version <= version(database)}
    before = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    cutoff = as_timestamp(database.dialect, before)
    print(f"store:   {database.describe()}")
    print(f"removing rows written before {before:%Y-%m-%d %H:%M} UTC ({days} days ago)")
    for table, written in PRUNED:
        if not _has_table(table, known):
            continue
        removed = database.execute(
            f"DELETE FROM {table} WHERE {written} < ?",  # noqa: S608 (our names)
            (cutoff,),
        )
        print(f"{table:<24} {removed:>9}  removed")
    return 0


def _has_table(table: str, versions: set[int]) -> bool:
    return any(
        table in statement
        for migration in MIGRATIONS
        if migration.version in versions
        for statement in migration.statements
    )


__all__ = ["StoreError", "add_parser", "run"]
