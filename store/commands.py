"""`python starter.py store status|migrate|prune`: where the store is, what its schema holds,
and how long it keeps what it keeps.

Every process migrates the store at start; `migrate` does it ahead of a rollout (a release
whose migration takes a while, say) and says what it applied. `prune` removes the ledgers' rows
older than a number of days, once no return can still use them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math

from plumbing.settings import Settings
from store.database import Database, StoreError, as_timestamp
from store.migrations import MIGRATIONS, latest, migrate, refuse_newer, version
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
"""The least `prune` keeps, whatever the timings. A return uses its carrier results and its label
(the label email, the return page's download, a later choice reusing a call left in doubt) from
the withdrawal until it ends: within 14 days to ship, the expiry grace and the late-parcel watch
(47 days with the defaults), and a sent notice is looked up only by retries within that span."""

MARGIN = dt.timedelta(days=30)
"""Added to a return's longest span: a deadline moved by operations, a relay down for weeks."""

LONGEST_DAYS = 36_500
"""A span beyond this is a typing error."""


def keep_at_least(settings: Settings) -> int:
    """The fewest days `prune` keeps with these timings: at least `KEEP_AT_LEAST_DAYS`."""
    span = dt.timedelta(days=14) + settings.expiry_grace + settings.late_parcel_watch + MARGIN
    return max(KEEP_AT_LEAST_DAYS, math.ceil(span / dt.timedelta(days=1)))


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
        help=f"rows written more than DAYS days ago (default {PRUNE_AFTER_DAYS}; at least "
        f"{KEEP_AT_LEAST_DAYS}, more with a longer expiry grace or late-parcel watch)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Raises `StoreError` for a store that cannot be opened or is newer than this build, and
    for a prune that would remove what a return may still use."""
    if args.verb == "prune":
        least = keep_at_least(settings)
        if args.older_than < least:
            raise StoreError(
                f"--older-than: {args.older_than} days is too recent; rows are kept at least "
                f"{least} days (14 days to ship, RETURNFLOW_EXPIRY_GRACE, "
                "RETURNFLOW_LATE_PARCEL_WATCH and 30 days of margin)"
            )
        if args.older_than > LONGEST_DAYS:
            raise StoreError(f"--older-than: {args.older_than} days is more than a century")
    database = open_database(settings, create=args.verb == "migrate")
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
    at = version(database)
    if at == 0:
        raise StoreError(
            f"the store at {database.describe()} has no schema: nothing has run on it (is "
            "RETURNFLOW_STORE_URL or RETURNFLOW_VAR_DIR the workers' own?)"
        )
    refuse_newer(database, at)
    known = {m.version for m in MIGRATIONS if m.version <= at}
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
