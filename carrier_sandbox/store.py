"""The sandbox's SQLite file: one connection, one writer at a time, and the idempotency ledger."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from carrier_sandbox.errors import ApiError

T = TypeVar("T")

KEYS_TABLE = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    carrier TEXT NOT NULL,
    key TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    requests INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (carrier, key)
);
"""

SCHEMA = (
    KEYS_TABLE
    + """
CREATE TABLE IF NOT EXISTS parcels (
    tracking_number TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    parcel TEXT NOT NULL,
    created_at TEXT NOT NULL,
    carrier TEXT NOT NULL DEFAULT 'sandbox'
);
CREATE TABLE IF NOT EXISTS labels (
    label_id TEXT PRIMARY KEY,
    tracking_number TEXT NOT NULL UNIQUE REFERENCES parcels (tracking_number),
    reference TEXT NOT NULL,
    created_at TEXT NOT NULL,
    idempotency_key TEXT,
    carrier TEXT NOT NULL DEFAULT 'sandbox',
    voided_at TEXT
);
CREATE TABLE IF NOT EXISTS counter_codes (
    code TEXT PRIMARY KEY,
    tracking_number TEXT NOT NULL UNIQUE REFERENCES parcels (tracking_number),
    reference TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    idempotency_key TEXT,
    carrier TEXT NOT NULL DEFAULT 'sandbox'
);
CREATE TABLE IF NOT EXISTS pickups (
    pickup_id TEXT PRIMARY KEY,
    label_id TEXT NOT NULL REFERENCES labels (label_id),
    reference TEXT NOT NULL,
    pickup_date TEXT NOT NULL,
    address TEXT NOT NULL,
    confirmation TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    idempotency_key TEXT,
    carrier TEXT NOT NULL DEFAULT 'sandbox',
    cancelled_at TEXT
);
CREATE INDEX IF NOT EXISTS pickups_by_label ON pickups (label_id);
CREATE TABLE IF NOT EXISTS scans (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id TEXT NOT NULL UNIQUE,
    tracking_number TEXT NOT NULL REFERENCES parcels (tracking_number),
    status TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    location TEXT,
    description TEXT
);
CREATE INDEX IF NOT EXISTS scans_by_parcel ON scans (tracking_number, seq);
CREATE TABLE IF NOT EXISTS webhook_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    carrier TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    scan_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_attempt_at TEXT,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TEXT,
    failed_at TEXT
);
CREATE INDEX IF NOT EXISTS webhooks_by_parcel ON webhook_events (tracking_number, seq);
CREATE INDEX IF NOT EXISTS webhooks_pending ON webhook_events (tracking_number, seq)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE TABLE IF NOT EXISTS sandbox_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
)

CREATED_UNDER_A_KEY = ("labels", "counter_codes", "pickups")
"""The tables of what a creating call makes; each row keeps the Idempotency-Key it came with."""

_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    *((table, "idempotency_key", "TEXT") for table in CREATED_UNDER_A_KEY),
    *(
        (table, "carrier", "TEXT NOT NULL DEFAULT 'sandbox'")
        for table in ("parcels", *CREATED_UNDER_A_KEY)
    ),
    ("labels", "voided_at", "TEXT"),
    ("pickups", "cancelled_at", "TEXT"),
)
"""Columns a file made by an earlier sandbox lacks; its rows were all Sandbox Post's."""


@dataclass(frozen=True)
class StoredResponse:
    """What a creating call answered, kept so a repeat of it gets the very same answer."""

    status: int
    body: bytes
    replayed: bool


class SandboxStore:
    """All the carriers' state in one SQLite file.

    Every unit of work runs under one lock in one transaction, so two requests never
    interleave: that is what makes a check-then-create (an idempotency key, a second pickup for
    a label) safe when the same request arrives twice at once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # The lock, not SQLite's thread check, keeps the connection to one thread at a time.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode = WAL")
            # A response that was sent must survive a crash: its key may be replayed later.
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._upgrade_keys_to_carriers()
            self._db.executescript(SCHEMA)
            self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        for table, column, declaration in _ADDED_COLUMNS:
            columns = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def _upgrade_keys_to_carriers(self) -> None:
        """Keys were one space before there were several carriers; they were Sandbox Post's."""
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(idempotency_keys)")}
        if not columns or "carrier" in columns:
            return
        db = self._db
        db.execute("BEGIN")
        db.execute("ALTER TABLE idempotency_keys RENAME TO idempotency_keys_before_carriers")
        db.execute(KEYS_TABLE)
        # Its calls were to the un-prefixed routes, now under /carriers/sandbox.
        db.execute(
            "INSERT INTO idempotency_keys SELECT 'sandbox', key,"
            " replace(endpoint, ' /v1/', ' /carriers/sandbox/v1/'), body_sha256, status,"
            " response, requests, created_at FROM idempotency_keys_before_carriers ORDER BY rowid"
        )
        db.execute("DROP TABLE idempotency_keys_before_carriers")
        db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in a transaction of its own; an exception undoes all of it."""
        with self._transaction() as db:
            return work(db)

    def state(self, name: str) -> str | None:
        """A setting the sandbox keeps across restarts (e.g. how far its clock was moved)."""
        row = self.run(
            lambda db: db.execute(
                "SELECT value FROM sandbox_state WHERE name = ?", (name,)
            ).fetchone()
        )
        return str(row["value"]) if row is not None else None

    @staticmethod
    def set_state(db: sqlite3.Connection, name: str, value: str) -> None:
        db.execute(
            "INSERT INTO sandbox_state VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def create_once(
        self,
        carrier: str,
        key: str,
        endpoint: str,
        body_sha256: str,
        now: dt.datetime,
        work: Callable[[sqlite3.Connection], dict[str, Any]],
        status: int = 201,
    ) -> StoredResponse:
        """Do `work` once per idempotency key of the carrier; a repeat gets the first answer.

        `work` raising `ApiError` rolls everything back and records nothing, so the caller can
        fix the request and retry under the same key.
        """
        with self._transaction() as db:
            row = db.execute(
                "SELECT endpoint, body_sha256, status, response FROM idempotency_keys"
                " WHERE carrier = ? AND key = ?",
                (carrier, key),
            ).fetchone()
            if row is None:
                body = json.dumps(work(db), ensure_ascii=False, separators=(",", ":")).encode()
                db.execute(
                    "INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
                    (carrier, key, endpoint, body_sha256, status, body.decode(), now.isoformat()),
                )
                return StoredResponse(status, body, replayed=False)
            db.execute(
                "UPDATE idempotency_keys SET requests = requests + 1 WHERE carrier = ? AND key = ?",
                (carrier, key),
            )
            same = row["endpoint"] == endpoint and row["body_sha256"] == body_sha256
            if same:
                return StoredResponse(row["status"], row["response"].encode(), replayed=True)
        raise ApiError(
            409,
            "idempotency_key_reused",
            f"This Idempotency-Key was used before for {row['endpoint']} with a different "
            "body; use a new key for a new request.",
            "Idempotency-Key",
        )

    def idempotency_keys(self) -> list[dict[str, Any]]:
        """Per key: the requests that came with it, and the objects that exist under it."""
        made = " + ".join(
            f"(SELECT COUNT(*) FROM {t} WHERE {t}.idempotency_key = k.key"  # noqa: S608 - our own table names
            f" AND {t}.carrier = k.carrier)"
            for t in CREATED_UNDER_A_KEY
        )
        rows = self.run(
            lambda db: db.execute(
                f"SELECT k.carrier, k.key, k.endpoint, k.requests, {made} AS created"  # noqa: S608
                " FROM idempotency_keys AS k ORDER BY k.rowid"
            ).fetchall()
        )
        return [dict(r) for r in rows]

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
