"""The product's store on SQLite and on PostgreSQL: its schema migrated once whoever starts
first, a newer schema refused, lost connections replaced, and the carrier ledger shared by
workers on different hosts."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from activities.carriers.ledger import CarrierLedger
from plumbing.settings import Settings
from store import Store, StoreError, StoreUnavailable, open_store
from store import sqlite as sqlite_store
from store.database import as_timestamp
from store.migrations import MIGRATIONS, latest, migrate, version
from store.opening import open_database, store_url
from store.postgres import PostgresDatabase
from tests.postgres import PASSWORD, USER, PostgresServer


def test_a_new_store_is_brought_to_this_builds_schema_once(store_settings: Settings) -> None:
    first = open_store(store_settings)
    again = open_store(store_settings)
    try:
        assert version(first.database) == latest()
        assert migrate(again.database) == []
        rows = first.database.fetch_all("SELECT version, name FROM returnflow_schema")
        assert sorted(rows) == [(m.version, m.name) for m in MIGRATIONS]
    finally:
        first.close()
        again.close()


def test_processes_starting_together_migrate_the_store_once(postgres: PostgresServer) -> None:
    settings = Settings(store_url=SecretStr(postgres.new_database()))
    opened: list[Store] = []
    failures: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(open_store(settings))
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    rows = opened[0].database.fetch_all("SELECT version FROM returnflow_schema")
    assert sorted(r[0] for r in rows) == [m.version for m in MIGRATIONS]
    for store in opened:
        store.close()


def test_a_store_migrated_by_a_newer_build_is_refused_naming_both_versions(
    store_settings: Settings,
) -> None:
    store = open_store(store_settings)
    newer = latest() + 1
    store.database.execute(
        "INSERT INTO returnflow_schema (version, name, applied_at) VALUES (?, ?, ?)",
        (newer, "from a newer build", "2026-12-06T00:00:00+00:00"),
    )
    store.close()

    with pytest.raises(StoreError) as refused:
        open_store(store_settings)

    assert f"schema version {newer}" in str(refused.value)
    assert f"up to {latest()}" in str(refused.value)


def test_a_connection_the_server_dropped_is_replaced_unnoticed(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    store = open_store(Settings(store_url=SecretStr(url), store_pool_size=2))
    try:
        # PostgreSQL ends every session of the store, as a restart or a failover would.
        with psycopg.connect(postgres.url(), autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
                (url.rsplit("/", 1)[1],),
            ).fetchone()
        assert ended is not None and ended[0] >= 1

        written = store.database.execute(
            "INSERT INTO carrier_results (carrier, idempotency_key, result, recorded_at)"
            " VALUES (?, ?, ?, now())",
            ("easypost", "return-1:label:1", '{"shipment": "shp_1"}'),
        )

        assert written == 1
        assert isinstance(store.database, PostgresDatabase)
        assert store.database.pool_stats().get("connections_lost", 0) >= 1
    finally:
        store.close()


async def test_workers_on_two_hosts_find_what_either_bought(postgres: PostgresServer) -> None:
    settings = Settings(store_url=SecretStr(postgres.new_database()))
    host_a, host_b = open_store(settings), open_store(settings)
    try:
        await CarrierLedger(host_a).remember("easypost", "r-1:label:1", {"shipment": "shp_9"})
        await CarrierLedger(host_a).keep_label("colissimo", "6A1", b"%PDF-1.4 label")

        assert await CarrierLedger(host_b).recall("easypost", "r-1:label:1") == {
            "shipment": "shp_9"
        }
        assert await CarrierLedger(host_b).label("colissimo", "6A1") == b"%PDF-1.4 label"
    finally:
        host_a.close()
        host_b.close()


async def test_a_ledger_file_of_its_own_is_imported_once_and_set_aside(
    product_store: Store, tmp_path: Path
) -> None:
    old = tmp_path / "carrier-ledger.sqlite"
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE results (carrier, idempotency_key, result)")
        db.execute("CREATE TABLE label_documents (carrier, label_id, pdf BLOB)")
        db.execute("INSERT INTO results VALUES ('easypost', 'r-2:label:1', '{\"shipment\": 1}')")
        db.execute("INSERT INTO label_documents VALUES ('colissimo', '6A2', x'25504446')")
    db.close()
    ledger = CarrierLedger(product_store)
    await ledger.remember("easypost", "r-3:label:1", {"shipment": 3})

    assert ledger.import_file(old) == 2
    assert ledger.import_file(old) is None

    assert await ledger.recall("easypost", "r-2:label:1") == {"shipment": 1}
    assert await ledger.recall("easypost", "r-3:label:1") == {"shipment": 3}
    assert await ledger.label("colissimo", "6A2") == b"%PDF"
    assert not old.exists()
    assert (tmp_path / "carrier-ledger.sqlite.imported").is_file()


async def test_a_ledger_file_made_again_after_an_import_is_imported_beside_the_first_copy(
    product_store: Store, tmp_path: Path
) -> None:
    """A worker of the earlier build, restarted during a rollout, makes the file again: its
    import keeps the first copy, and the store holds both."""
    ledger = CarrierLedger(product_store)
    old = tmp_path / "carrier-ledger.sqlite"
    for n in (1, 2):
        with sqlite3.connect(old) as db:
            db.execute("CREATE TABLE results (carrier, idempotency_key, result)")
            db.execute("CREATE TABLE label_documents (carrier, label_id, pdf BLOB)")
            db.execute("INSERT INTO results VALUES ('easypost', ?, '{}')", (f"r-{n}:label:1",))
        db.close()
        Path(f"{old}-wal").write_bytes(b"")  # as a file still open beside it would have
        assert ledger.import_file(old) == 1

    assert await ledger.recall("easypost", "r-1:label:1") == {}
    assert await ledger.recall("easypost", "r-2:label:1") == {}
    kept = sorted(p.name for p in tmp_path.glob("carrier-ledger.sqlite*"))
    assert kept == [
        "carrier-ledger.sqlite.imported",
        "carrier-ledger.sqlite.imported-2",
        "carrier-ledger.sqlite.imported-2-wal",
        "carrier-ledger.sqlite.imported-wal",
    ]


def test_the_embedded_store_is_a_file_for_this_user_only(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    open_store(settings).close()

    assert store_url(settings) == f"sqlite:///{tmp_path.resolve()}/returnflow.sqlite"
    assert (tmp_path / "returnflow.sqlite").stat().st_mode & 0o777 == 0o600


def test_a_store_url_is_read_as_sqlalchemy_spells_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_database(Settings(store_url=SecretStr("sqlite:///var/elsewhere.sqlite")))
    absolute = open_database(Settings(store_url=SecretStr(f"sqlite:///{tmp_path}/a.sqlite")))
    try:
        assert relative.describe() == f"sqlite:///{Path('var/elsewhere.sqlite').resolve()}"
        assert absolute.describe() == f"sqlite:///{tmp_path}/a.sqlite"
    finally:
        relative.close()
        absolute.close()


def test_an_unknown_store_or_an_unreachable_one_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="store_url"):
        Settings(store_url=SecretStr("mysql://db/returns"))
    with pytest.raises(ValueError, match="not a store URL") as no_scheme:
        Settings(store_url=SecretStr("returnflow:s3cret@db.example/returnflow"))
    assert "store_url" in str(no_scheme.value) and "s3cret" not in str(no_scheme.value)
    with pytest.raises(StoreError) as unreadable:
        open_store(Settings(store_url=SecretStr("postgresql://returnflow:p%zzs3cret@db/r")))
    assert "percent-encoded" in str(unreadable.value) and "s3cret" not in str(unreadable.value)
    unreachable = Settings(
        store_url=SecretStr("postgresql://returnflow:secret@127.0.0.1:9/returns"),
        store_connect_timeout_seconds=0.5,
    )
    with pytest.raises(StoreError) as refused:
        open_store(unreachable)
    assert "RETURNFLOW_STORE_URL" in str(refused.value)
    assert "secret" not in str(refused.value)


def test_where_a_store_is_is_said_without_its_password(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    in_query = url.replace(f":{PASSWORD}@", "@") + f"?password={PASSWORD}"
    store = open_store(Settings(store_url=SecretStr(in_query)))
    try:
        assert (
            store.describe()
            == f"postgresql://{USER}@127.0.0.1:{postgres.port}/" + (url.rsplit("/", 1)[1])
        )
    finally:
        store.close()


def test_a_read_does_not_wait_for_another_process_writing_the_embedded_store(
    tmp_path: Path,
) -> None:
    store = open_store(Settings(var_dir=tmp_path))
    ledger_row = (
        "INSERT INTO carrier_results (carrier, idempotency_key, result, recorded_at)"
        " VALUES ('easypost', 'r-4:label:1', '{}', '2026-12-06T00:00:00+00:00')"
    )
    store.database.execute(ledger_row)
    other_process = sqlite3.connect(tmp_path / "returnflow.sqlite", isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        row = store.database.fetch_one("SELECT count(*) FROM carrier_results")
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()
        store.close()
    assert row == (1,)


def test_a_read_does_not_wait_behind_a_write_of_its_own_process_that_waits(
    tmp_path: Path,
) -> None:
    """Another process holds the write lock (a `store prune`, say); a thread of this one waits
    to write. A read on another thread (a sent notice looked up, a label downloaded) answers
    at once."""
    store = open_store(Settings(var_dir=tmp_path))
    other_process = sqlite3.connect(tmp_path / "returnflow.sqlite", isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    written = threading.Event()

    def write() -> None:
        store.database.execute(
            "INSERT INTO carrier_results (carrier, idempotency_key, result, recorded_at)"
            " VALUES ('easypost', 'r-6:label:1', '{}', '2026-12-07T00:00:00+00:00')"
        )
        written.set()

    writer = threading.Thread(target=write)
    try:
        writer.start()
        time.sleep(0.3)  # the writer is waiting for the lock
        row = store.database.fetch_one("SELECT count(*) FROM carrier_results")
        read_while_waiting = not written.is_set()
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()
        writer.join(timeout=30)
        store.close()

    assert row == (0,)
    assert read_while_waiting, "the read answered while the write still waited"
    assert written.is_set()


def test_writers_in_line_behind_another_process_each_wait_one_busy_timeout_at_most(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock past the wait: each of this process's writers
    gives up after the busy timeout, not the third after three of them."""
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 500)
    store = open_store(Settings(var_dir=tmp_path))
    other_process = sqlite3.connect(tmp_path / "returnflow.sqlite", isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    waits: list[float] = []

    def write(n: int) -> None:
        began = time.monotonic()
        with contextlib.suppress(StoreUnavailable):
            store.database.execute(
                "INSERT INTO carrier_results (carrier, idempotency_key, result, recorded_at)"
                " VALUES ('easypost', ?, '{}', '2026-12-07T00:00:00+00:00')",
                (f"r-{n}:label:1",),
            )
        waits.append(time.monotonic() - began)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    try:
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=30)
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()
        store.close()

    assert len(waits) == 4 and max(waits) < 1.5, waits


def test_a_transaction_that_failed_leaves_nothing_open_behind_it(product_store: Store) -> None:
    database = product_store.database

    def half_done() -> None:
        with database.transaction() as session:
            session.execute(
                "INSERT INTO sent_notices (message_id, return_id, kind, sent_at)"
                " VALUES ('<m1>', 'r-5', 'acknowledgement', ?)",
                (as_timestamp(database.dialect, dt.datetime.now(dt.UTC)),),
            )
            raise RuntimeError("the step failed")

    with pytest.raises(RuntimeError):
        half_done()

    assert database.fetch_one("SELECT count(*) FROM sent_notices") == (0,)
    assert database.execute("DELETE FROM sent_notices") == 0


def test_a_role_with_rights_on_the_tables_alone_opens_a_migrated_store(
    postgres: PostgresServer,
) -> None:
    """Production migrates as the schema's owner (`starter.py store migrate`) and runs workers
    and gateways as a role that may read and write the tables but create nothing."""
    url = postgres.new_database()
    open_store(Settings(store_url=SecretStr(url))).close()
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as owner:
        owner.execute("CREATE ROLE app_rw LOGIN PASSWORD 'app-only-password'")
        owner.execute("CREATE ROLE app_none LOGIN PASSWORD 'app-only-password'")
        owner.execute(f"GRANT CONNECT ON DATABASE {database} TO app_rw, app_none")
        owner.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        owner.execute("GRANT USAGE ON SCHEMA public TO app_rw")
        owner.execute(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_rw"
        )
    as_role = url.replace(f"{USER}:{PASSWORD}@", "{role}:app-only-password@")

    store = open_store(Settings(store_url=SecretStr(as_role.format(role="app_rw"))))
    try:
        written = store.database.execute(
            "INSERT INTO carrier_results (carrier, idempotency_key, result, recorded_at)"
            " VALUES (?, ?, ?, now())",
            ("easypost", "return-7:label:1", '{"shipment": "shp_7"}'),
        )
    finally:
        store.close()
    with pytest.raises(StoreError) as refused:
        open_store(Settings(store_url=SecretStr(as_role.format(role="app_none"))))

    assert written == 1
    message = str(refused.value)
    assert message.startswith("RETURNFLOW_STORE_URL: postgresql://app_none@")
    assert "permission denied" in message and "store migrate" in message
    assert "app-only-password" not in message


def test_a_connection_lost_mid_transaction_is_the_store_unavailable_not_an_error(
    postgres: PostgresServer,
) -> None:
    """A restart or a failover during a statement: nothing committed, and the caller (the
    gateway answering 503, an activity retried) may try again."""
    store = open_store(Settings(store_url=SecretStr(postgres.new_database())))

    def ended_by_the_server() -> None:
        with (
            psycopg.connect(postgres.url(), autocommit=True) as admin,
            store.database.transaction() as session,
        ):
            row = session.fetch_one("SELECT pg_backend_pid()")
            assert row is not None
            admin.execute("SELECT pg_terminate_backend(%s)", (row[0],))
            session.execute("SELECT 1")

    try:
        with pytest.raises(StoreUnavailable):
            ended_by_the_server()
        assert store.database.fetch_one("SELECT 1") == (1,), "the next call has a connection"
    finally:
        store.close()


def test_a_primary_refusing_writes_in_a_failover_is_the_store_unavailable(
    postgres: PostgresServer,
) -> None:
    """A primary demoted in a failover answers read-only until the client finds the new one:
    nothing committed, and worth trying again (the gateway answers 503, an activity retries)."""
    url = postgres.new_database()
    database = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    open_store(Settings(store_url=SecretStr(url))).close()  # migrated while it could write
    with psycopg.connect(postgres.url(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    store = open_store(Settings(store_url=SecretStr(url)))
    try:
        with pytest.raises(StoreUnavailable):
            store.database.execute(
                "INSERT INTO sent_notices (message_id, return_id, kind, sent_at)"
                " VALUES ('<m1>', 'r-7', 'acknowledgement', now())"
            )
    finally:
        store.close()


def test_a_statement_the_server_refuses_is_an_error_not_the_store_unavailable(
    postgres: PostgresServer,
) -> None:
    """A value past one of PostgreSQL's limits is no outage: retrying it would fail the same
    way, for ever."""
    store = open_store(Settings(store_url=SecretStr(postgres.new_database())))
    try:
        with pytest.raises(psycopg.OperationalError) as refused:
            store.database.execute(
                "INSERT INTO carrier_results (carrier, idempotency_key, result, recorded_at)"
                " VALUES (?, ?, ?, now())",
                ("easypost", secrets.token_hex(8_000), "{}"),
            )
    finally:
        store.close()

    assert not isinstance(refused.value, StoreUnavailable)


def test_the_read_connection_of_a_thread_that_ended_is_closed(tmp_path: Path) -> None:
    store = open_store(Settings(var_dir=tmp_path))
    opened_before = len(os.listdir("/proc/self/fd"))

    def read() -> None:
        store.database.fetch_one("SELECT count(*) FROM carrier_results")

    for _ in range(20):
        reader = threading.Thread(target=read)
        reader.start()
        reader.join()
    gc.collect()
    opened_after = len(os.listdir("/proc/self/fd"))
    store.close()

    assert opened_after - opened_before <= 2, "at most one reader's files still open"
