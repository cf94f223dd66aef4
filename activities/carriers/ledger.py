"""What this worker remembers of carriers that forget: results by idempotency key, label PDFs.

The sandbox honours `Idempotency-Key`; Colissimo and EasyPost do not. For them the adapter
records what a creating call returned under the step's key before answering, and a retry of the
step finds it here instead of buying a second label. Colissimo hands the label PDF over once,
inside the label response, so the PDF is kept here until the label email fetches it.

One SQLite file (`RETURNFLOW_CARRIER_LEDGER`). Several workers must share it: put it on storage
they all mount, or run the adapters of these carriers on one worker's task queue.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    carrier TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (carrier, idempotency_key)
);
CREATE TABLE IF NOT EXISTS label_documents (
    carrier TEXT NOT NULL,
    label_id TEXT NOT NULL,
    pdf BLOB NOT NULL,
    PRIMARY KEY (carrier, label_id)
);
"""


class CarrierLedger:
    """Durable memory for carrier adapters; every method is safe to call from any task."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode = WAL")
            # What was bought must survive a crash of the worker that bought it.
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(_SCHEMA)

    async def recall(self, carrier: str, key: str) -> dict[str, Any] | None:
        """What was recorded under `key` for `carrier`, or None."""
        row = await asyncio.to_thread(
            self._fetch,
            "SELECT result FROM results WHERE carrier = ? AND idempotency_key = ?",
            (carrier, key),
        )
        if row is None:
            return None
        result: dict[str, Any] = json.loads(row[0])
        return result

    async def remember(self, carrier: str, key: str, result: dict[str, Any]) -> None:
        """Record (or update) what the step under `key` has achieved so far."""
        await asyncio.to_thread(
            self._write,
            "INSERT INTO results VALUES (?, ?, ?) ON CONFLICT (carrier, idempotency_key)"
            " DO UPDATE SET result = excluded.result",
            (carrier, key, json.dumps(result, sort_keys=True)),
        )

    async def keep_label(self, carrier: str, label_id: str, pdf: bytes) -> None:
        await asyncio.to_thread(
            self._write,
            "INSERT OR REPLACE INTO label_documents VALUES (?, ?, ?)",
            (carrier, label_id, pdf),
        )

    async def label(self, carrier: str, label_id: str) -> bytes | None:
        row = await asyncio.to_thread(
            self._fetch,
            "SELECT pdf FROM label_documents WHERE carrier = ? AND label_id = ?",
            (carrier, label_id),
        )
        return bytes(row[0]) if row is not None else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _fetch(self, query: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._db.execute(query, args).fetchone()
            return row

    def _write(self, query: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute(query, args)
