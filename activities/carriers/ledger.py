"""What the workers remember of carriers that forget: results by idempotency key, label PDFs.

The sandbox honours `Idempotency-Key`; Colissimo and EasyPost do not. For them the adapter
records what a creating call returned under the step's key before answering, and a retry of the
step finds it here instead of buying a second label. Colissimo hands the label PDF over once,
inside the label response, so the PDF is kept here until the label email fetches it.

The ledger lives in the product's store (`store`): on PostgreSQL every worker of every host
finds what any of them bought; on the embedded SQLite file, the workers of one host.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

from store import Store
from store.database import as_timestamp
from store.imported import set_aside


class CarrierLedger:
    """Durable memory for carrier adapters; every method is safe to call from any task."""

    def __init__(self, store: Store) -> None:
        self._db = store.database

    async def recall(self, carrier: str, key: str) -> dict[str, Any] | None:
        """What was recorded under `key` for `carrier`, or None."""
        row = await self._db.run(
            self._db.fetch_one,
            "SELECT result FROM carrier_results WHERE carrier = ? AND idempotency_key = ?",
            (carrier, key),
        )
        if row is None:
            return None
        result: dict[str, Any] = json.loads(row[0])
        return result

    async def remember(self, carrier: str, key: str, result: dict[str, Any]) -> None:
        """Record (or update) what the step under `key` has achieved so far."""
        await self._db.run(
            self._db.execute,
            "INSERT INTO carrier_results (carrier, idempotency_key, result, recorded_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (carrier, idempotency_key)"
            " DO UPDATE SET result = excluded.result, recorded_at = excluded.recorded_at",
            (carrier, key, json.dumps(result, sort_keys=True), self._now()),
        )

    async def claim(self, carrier: str, key: str, progress: dict[str, Any]) -> dict[str, Any]:
        """Record `progress` under `key` unless something is recorded there already: what is
        recorded once the claim is made, ours or an overlapping attempt's."""
        await self._db.run(
            self._db.execute,
            "INSERT INTO carrier_results (carrier, idempotency_key, result, recorded_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (carrier, idempotency_key) DO NOTHING",
            (carrier, key, json.dumps(progress, sort_keys=True), self._now()),
        )
        return await self.recall(carrier, key) or progress

    async def keep_label(self, carrier: str, label_id: str, pdf: bytes) -> None:
        await self._db.run(
            self._db.execute,
            "INSERT INTO carrier_label_documents (carrier, label_id, pdf, kept_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (carrier, label_id)"
            " DO UPDATE SET pdf = excluded.pdf, kept_at = excluded.kept_at",
            (carrier, label_id, pdf, self._now()),
        )

    async def label(self, carrier: str, label_id: str) -> bytes | None:
        row = await self._db.run(
            self._db.fetch_one,
            "SELECT pdf FROM carrier_label_documents WHERE carrier = ? AND label_id = ?",
            (carrier, label_id),
        )
        return bytes(row[0]) if row is not None else None

    def import_file(self, path: Path) -> int | None:
        """Copy a ledger kept in a SQLite file of its own (`RETURNFLOW_CARRIER_LEDGER`) into
        the store, keeping what the store already holds, then rename the file `*.imported`:
        the rows copied, or None when there is no such file."""
        if not path.is_file():
            return None
        try:
            source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                results = source.execute(
                    "SELECT carrier, idempotency_key, result FROM results"
                ).fetchall()
                labels = source.execute(
                    "SELECT carrier, label_id, pdf FROM label_documents"
                ).fetchall()
            finally:
                source.close()
        except sqlite3.OperationalError:
            if not path.exists():
                return None  # another worker, starting at the same time, imported it
            raise
        now = self._now()
        with self._db.transaction() as session:
            for carrier, key, result in results:
                session.execute(
                    "INSERT INTO carrier_results (carrier, idempotency_key, result, recorded_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (carrier, idempotency_key) DO NOTHING",
                    (carrier, key, result, now),
                )
            for carrier, label_id, pdf in labels:
                session.execute(
                    "INSERT INTO carrier_label_documents (carrier, label_id, pdf, kept_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (carrier, label_id) DO NOTHING",
                    (carrier, label_id, bytes(pdf), now),
                )
        # Its -wal and -shm beside it under the new name, as SQLite looks for them.
        set_aside(path, companions=("-wal", "-shm"))
        return len(results) + len(labels)

    def _now(self) -> Any:
        return as_timestamp(self._db.dialect, dt.datetime.now(dt.UTC))
