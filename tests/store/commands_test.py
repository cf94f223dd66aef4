"""`starter.py store`, as an operator runs it against SQLite and PostgreSQL: what the store holds,
and the ledgers' old rows removed while the recent ones stay."""

from __future__ import annotations

import datetime as dt
import os
import subprocess

from plumbing.settings import Settings
from store import Store
from store.database import Database, as_timestamp
from tests.starter.starter_test import starter

DAY = dt.timedelta(days=1)


def store_command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RETURNFLOW_VAR_DIR": str(settings.var_dir)}
    if settings.store_url is not None:
        env["RETURNFLOW_STORE_URL"] = settings.store_url.get_secret_value()
    return starter("store", *args, env=env)


def written(database: Database, age: dt.timedelta, n: int) -> None:
    """One row in each ledger, written `age` ago."""
    at = as_timestamp(database.dialect, dt.datetime.now(dt.UTC) - age)
    database.execute(
        "INSERT INTO carrier_results (carrier, idempotency_key, result, recorded_at)"
        " VALUES (?, ?, ?, ?)",
        ("sandbox", f"return-ORD-{n}-1:label", '{"label_id": "L1"}', at),
    )
    database.execute(
        "INSERT INTO carrier_label_documents (carrier, label_id, pdf, kept_at) VALUES (?, ?, ?, ?)",
        ("colissimo", f"L{n}", b"%PDF-1.4", at),
    )
    database.execute(
        "INSERT INTO sent_notices (message_id, return_id, kind, sent_at) VALUES (?, ?, ?, ?)",
        (f"<return-ORD-{n}-1.acknowledgement.1@returnflow.test>", f"return-ORD-{n}-1", "ack", at),
    )


def counts(database: Database) -> dict[str, int]:
    tables = ("carrier_results", "carrier_label_documents", "sent_notices")
    found = {}
    for table in tables:
        row = database.fetch_one(f"SELECT count(*) FROM {table}")  # noqa: S608 (our names)
        found[table] = row[0] if row else -1
    return found


def test_prune_removes_the_ledgers_rows_older_than_asked_and_keeps_the_rest(
    store_settings: Settings, product_store: Store
) -> None:
    written(product_store.database, 400 * DAY, 1)
    written(product_store.database, 120 * DAY, 2)
    written(product_store.database, DAY, 3)

    pruned = store_command(store_settings, "prune", "--older-than", "100")
    left = counts(product_store.database)

    assert pruned.returncode == 0, pruned.stderr
    assert left == {"carrier_results": 1, "carrier_label_documents": 1, "sent_notices": 1}
    lines = pruned.stdout.splitlines()
    assert lines[1].endswith("(100 days ago)")
    assert [line.split() for line in lines[2:]] == [
        ["carrier_results", "2", "removed"],
        ["carrier_label_documents", "2", "removed"],
        ["sent_notices", "2", "removed"],
    ]


def test_prune_keeps_a_year_unless_told_otherwise_and_status_counts_what_is_left(
    store_settings: Settings, product_store: Store
) -> None:
    written(product_store.database, 400 * DAY, 1)
    written(product_store.database, 200 * DAY, 2)

    pruned = store_command(store_settings, "prune")
    status = store_command(store_settings, "status")

    assert pruned.returncode == 0, pruned.stderr
    assert "(365 days ago)" in pruned.stdout
    assert status.returncode == 0, status.stderr
    rows = {line.split()[0]: line.split()[1] for line in status.stdout.splitlines()[2:]}
    assert rows["carrier_results"] == rows["sent_notices"] == "1"
    assert rows["dead_letters"] == "0"


def test_prune_refuses_to_remove_what_a_retry_may_still_need(
    store_settings: Settings, product_store: Store
) -> None:
    written(product_store.database, 60 * DAY, 1)

    refused = store_command(store_settings, "prune", "--older-than", "30")
    left = counts(product_store.database)

    assert refused.returncode == 2
    assert "--older-than: 30 days is too recent" in refused.stderr
    assert "at least 90 days" in refused.stderr
    assert left == {"carrier_results": 1, "carrier_label_documents": 1, "sent_notices": 1}
