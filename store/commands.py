"""`python starter.py store status|migrate`: where the store is and what its schema holds.

Every process migrates the store at start; `migrate` does it ahead of a rollout (a release
whose migration takes a while, say) and says what it applied.
"""

from __future__ import annotations

import argparse

from plumbing.settings import Settings
from store.database import StoreError
from store.migrations import MIGRATIONS, latest, migrate, version
from store.opening import open_database

TABLES = (
    ("carrier_results", "carrier results kept by idempotency key"),
    ("carrier_label_documents", "label PDFs kept until the label email"),
    ("sent_notices", "notices the relay accepted"),
    ("dead_letters", "dead letters"),
)


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


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Raises `StoreError` for a store that cannot be opened or is newer than this build."""
    database = open_database(settings)
    try:
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


def _has_table(table: str, versions: set[int]) -> bool:
    return any(
        table in statement
        for migration in MIGRATIONS
        if migration.version in versions
        for statement in migration.statements
    )


__all__ = ["StoreError", "add_parser", "run"]
