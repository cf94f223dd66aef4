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

SCHEMA = """
CREATE TABLE IF NOT EXISTS parcels (
    tracking_number TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    parcel TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS labels (
    label_id TEXT PRIMARY KEY,
    tracking_number TEXT NOT NULL UNIQUE REFERENCES parcels (tracking_number),
    reference TEXT NOT NULL,
    created_at TEXT NOT NULL,
    idempotency_key TEXT
);
CREATE TABLE IF NOT EXISTS counter_codes (
    code TEXT PRIMARY KEY,
    tracking_number TEXT NOT NULL UNIQUE REFERENCES parcels (tracking_number),
    reference TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    idempotency_key TEXT
);
CREATE TABLE IF NOT EXISTS pickups (
    pickup_id TEXT PRIMARY KEY,
    label_id TEXT NOT NULL REFERENCES labels (label_id),
    reference TEXT NOT NULL,
    pickup_date TEXT NOT NULL,
    address TEXT NOT NULL,
    confirmation TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    idempotency_key TEXT
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
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    requests INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
"""

CREATED_UNDER_A_KEY = ("labels", "counter_codes", "pickups")
"""The tables of what a creating call makes; each row keeps the Idempotency-Key it came with."""


@dataclass(frozen=True)
class StoredResponse:
    """What a creating call answered, kept so a repeat of it gets the very same answer."""

    status: int
    body: bytes
    replayed: bool


class SandboxStore:
    """All the carrier's state in one SQLite file.

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
            self._db.executescript(SCHEMA)
            self._add_missing_key_columns()

    def _add_missing_key_columns(self) -> None:
        """A file made before objects kept their key gets the column (empty for old rows)."""
        for table in CREATED_UNDER_A_KEY:
            columns = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if "idempotency_key" not in columns:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN idempotency_key TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in a transaction of its own; an exception undoes all of it."""
        with self._transaction() as db:
            return work(db)

    def create_once(
        self,
        key: str,
        endpoint: str,
        body_sha256: str,
        now: dt.datetime,
        work: Callable[[sqlite3.Connection], dict[str, Any]],
        status: int = 201,
    ) -> StoredResponse:
        """Do `work` once per idempotency key; a repeat gets the first answer back.

        `work` raising `ApiError` rolls everything back and records nothing, so the caller can
        fix the request and retry under the same key.
        """
        with self._transaction() as db:
            row = db.execute(
                "SELECT endpoint, body_sha256, status, response FROM idempotency_keys"
                " WHERE key = ?",
                (key,),
            ).fetchone()
            if row is None:
                body = json.dumps(work(db), ensure_ascii=False, separators=(",", ":")).encode()
                db.execute(
                    "INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?, 1, ?)",
                    (key, endpoint, body_sha256, status, body.decode(), now.isoformat()),
                )
                return StoredResponse(status, body, replayed=False)
            db.execute("UPDATE idempotency_keys SET requests = requests + 1 WHERE key = ?", (key,))
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
            f"(SELECT COUNT(*) FROM {t} WHERE {t}.idempotency_key = k.key)"  # noqa: S608 - our own table names
            for t in CREATED_UNDER_A_KEY
        )
        rows = self.run(
            lambda db: db.execute(
                f"SELECT k.key, k.endpoint, k.requests, {made} AS created"  # noqa: S608
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
