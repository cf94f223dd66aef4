"""`starter.py store`, as an operator runs it against SQLite and PostgreSQL: what the store holds,
and the ledgers' old rows removed while the recent ones stay."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from plumbing.settings import Settings
from store import Store
from store.commands import keep_at_least
from store.database import Database, as_timestamp
from store.migrations import latest
from tests.cli import Ran, run_command_now

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


def store_command(settings: Settings, *args: str, **more: str) -> Ran:
    """`starter.py store ARGS` on the store of `settings`, with `more` settings in its
    environment."""
    env = {**os.environ, **more, "RETURNFLOW_VAR_DIR": str(settings.var_dir)}
    if settings.store_url is not None:
        env["RETURNFLOW_STORE_URL"] = settings.store_url.get_secret_value()
    return run_command_now(["store", *args], env)


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
    written(product_store.database, 100 * DAY + HOUR, 2)
    # Within an hour of the limit, on the side kept: the stored times compare as times.
    written(product_store.database, 100 * DAY - HOUR, 3)
    written(product_store.database, DAY, 4)

    pruned = store_command(store_settings, "prune", "--older-than", "100")
    left = counts(product_store.database)

    assert pruned.returncode == 0, pruned.stderr
    assert left == {"carrier_results": 2, "carrier_label_documents": 2, "sent_notices": 2}
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
    assert rows["carrier_results"] == rows["carrier_label_documents"] == "1"
    assert rows["sent_notices"] == "1"
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


def test_a_longer_late_parcel_watch_keeps_the_rows_longer(
    store_settings: Settings, product_store: Store
) -> None:
    written(product_store.database, 160 * DAY, 1)
    watch = {"RETURNFLOW_LATE_PARCEL_WATCH": "P120D"}

    refused = store_command(store_settings, "prune", "--older-than", "150", **watch)
    allowed = store_command(store_settings, "prune", "--older-than", "170", **watch)

    # 14 days to ship, 3 of grace, 120 of watch and 30 of margin: 167.
    assert keep_at_least(Settings(late_parcel_watch=dt.timedelta(days=120))) == 167
    assert refused.returncode == 2
    assert "at least 167 days" in refused.stderr
    assert allowed.returncode == 0, allowed.stderr
    assert counts(product_store.database)["sent_notices"] == 1


def test_prune_refuses_a_store_nothing_has_run_on(tmp_path: Path) -> None:
    # The URL or directory of no deployment: a monthly job pruning it would do nothing, unseen.
    (tmp_path / "returnflow.sqlite").touch()
    refused = store_command(Settings(var_dir=tmp_path), "prune")

    assert refused.returncode == 2
    assert "has no schema: nothing has run on it" in refused.stderr


@pytest.mark.parametrize("verb", ["status", "prune"])
def test_reading_or_pruning_a_store_that_is_not_there_creates_none(
    tmp_path: Path, verb: str
) -> None:
    typo = tmp_path / "var-typo" / "returnflow.sqlite"

    refused = store_command(
        Settings(var_dir=tmp_path), verb, RETURNFLOW_STORE_URL=f"sqlite:///{typo}"
    )

    assert refused.returncode == 2
    assert f"RETURNFLOW_STORE_URL: no store at {typo}" in refused.stderr
    assert not typo.parent.exists()


def test_prune_leaves_a_store_of_a_newer_build_alone(
    store_settings: Settings, product_store: Store
) -> None:
    written(product_store.database, 400 * DAY, 1)
    product_store.database.execute(
        "INSERT INTO returnflow_schema (version, name, applied_at) VALUES (?, ?, ?)",
        (
            latest() + 1,
            "a newer build's",
            as_timestamp(product_store.database.dialect, dt.datetime.now(dt.UTC)),
        ),
    )

    refused = store_command(store_settings, "prune")
    left = counts(product_store.database)

    assert refused.returncode == 2
    assert f"schema version {latest() + 1}; this build knows versions up to {latest()}" in (
        refused.stderr
    )
    assert left == {"carrier_results": 1, "carrier_label_documents": 1, "sent_notices": 1}


def test_a_span_of_centuries_is_a_typing_error_said_so(tmp_path: Path) -> None:
    refused = store_command(Settings(var_dir=tmp_path), "prune", "--older-than", "800000")

    assert refused.returncode == 2
    assert "--older-than: 800000 days is more than a century" in refused.stderr


@pytest.mark.parametrize("verb", [["list"], ["list", "--all"], ["show", "dl-1"]])
def test_dead_letter_commands_where_there_is_no_store_create_none(
    tmp_path: Path, verb: list[str]
) -> None:
    # An operator in the wrong directory is told there is no store, not shown an empty one.
    elsewhere = tmp_path / "not-a-deployment"
    elsewhere.mkdir()

    refused = run_command_now(
        ["dead-letters", *verb], {**os.environ, "RETURNFLOW_VAR_DIR": str(elsewhere / "var")}
    )

    assert refused.returncode == 2, refused.stderr
    assert f"RETURNFLOW_STORE_URL: no store at {elsewhere / 'var'}" in refused.stderr
    assert not (elsewhere / "var").exists()
