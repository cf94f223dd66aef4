"""The order service, as far as returns need it: refund requests, and claims of a deduction
approved after the seller's inspection.

`FileOrderService` is the local adapter of the dev stack: it records each refund request and
claim in a SQLite file (`{orders_path}/refunds.sqlite`) instead of calling the marketplace's
order service. It honours the idempotency key as the real service does: the same request under
the same key answers what was recorded the first time; another request under a used key is
refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from pydantic import AwareDatetime

from activities.failures import refund_conflict
from domain.base import DomainModel, Identifier, Money
from domain.failures import FailureType
from domain.inspection import Claim, ClaimRequest
from domain.money import RefundBreakdown
from domain.returns import Refund, RefundReason, RefundRequest

REFUND_CONFLICT = FailureType.REFUND_CONFLICT
"""ApplicationError type: an idempotency key reused for a different refund (non-retryable)."""

REFUNDS_FILE = "refunds.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS refunds (
    idempotency_key TEXT PRIMARY KEY,
    refund_id TEXT NOT NULL UNIQUE,
    return_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    line_id TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    due_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    breakdown TEXT
)
"""

_CLAIMS_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    idempotency_key TEXT PRIMARY KEY,
    claim_id TEXT NOT NULL UNIQUE,
    return_id TEXT NOT NULL,
    request TEXT NOT NULL,
    filed_at TEXT NOT NULL
)
"""

_ADDED_COLUMNS = {"breakdown": "ALTER TABLE refunds ADD COLUMN breakdown TEXT"}
"""Columns a file written by an earlier release lacks, and how each is added (NULL in its rows:
a refund recorded without a breakdown)."""

_COLUMNS = (
    "idempotency_key, refund_id, return_id, order_id, line_id, amount, currency, reason, "
    "due_by, requested_at, breakdown"
)

_COMPARED = ("return_id", "order_id", "line_id", "amount", "currency", "reason", "due_by")
"""The fields of a request that must match the recorded one for a key to be reused."""


class OrderService(Protocol):
    """The marketplace's order service."""

    async def request_refund(self, request: RefundRequest) -> Refund:
        """Record the refund of a line, once per idempotency key.

        Raises `ApplicationError(type="RefundConflict", non_retryable=True)` when the key was
        used for a different request.
        """
        ...

    async def file_claim(self, request: ClaimRequest) -> Claim:
        """Record a claim of an approved deduction against the line's refund, once per
        idempotency key (the same conflict as a refund's when the key was used differently)."""
        ...


class RefundRecord(DomainModel):
    """A refund request as the order service recorded it (for tests, demos and operators)."""

    idempotency_key: str
    refund_id: Identifier
    return_id: str
    order_id: Identifier
    line_id: Identifier
    amount: Money
    breakdown: RefundBreakdown | None = None
    reason: RefundReason
    due_by: AwareDatetime
    requested_at: AwareDatetime


def refund_id_for(idempotency_key: str, prefix: str = "RF") -> str:
    """The refund's (or claim's) ID, derived from the key: a retry, even after a crash, gets
    the same one."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return f"{prefix}-{digest[:12].upper()}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FileOrderService:
    """Refund requests kept in a SQLite file; safe to share between tasks and processes."""

    def __init__(self, directory: Path, clock: Callable[[], dt.datetime] = _now) -> None:
        self.path = Path(directory) / REFUNDS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        with self._connect() as db:
            db.execute("PRAGMA journal_mode = WAL")  # persistent: a property of the file
            db.execute(_SCHEMA)
            db.execute(_CLAIMS_SCHEMA)
            present = {row[1] for row in db.execute("PRAGMA table_info(refunds)")}
            for column, statement in _ADDED_COLUMNS.items():
                if column not in present:
                    db.execute(statement)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection per call: nothing to close when the worker stops, and SQLite's own
        locking serialises the workers sharing the file."""
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            # A refund requested must survive a crash of the worker that requested it.
            db.execute("PRAGMA synchronous = FULL")
            yield db
        finally:
            db.close()

    async def request_refund(self, request: RefundRequest) -> Refund:
        return await asyncio.to_thread(self._request_refund, request)

    async def refunds(self) -> list[RefundRecord]:
        """Every refund request recorded, oldest first."""
        return await asyncio.to_thread(self._refunds)

    def _request_refund(self, request: RefundRequest) -> Refund:
        row = (
            request.idempotency_key,
            refund_id_for(request.idempotency_key),
            request.return_id,
            request.order_id,
            request.line_id,
            str(request.amount.amount),
            request.amount.currency,
            request.reason.value,
            request.due_by.isoformat(),
            self._clock().isoformat(),
            request.breakdown.model_dump_json() if request.breakdown else None,
        )
        with self._connect() as db:
            # Insert-or-keep in one statement: two workers racing on a key cannot both create.
            created = (
                db.execute(
                    f"INSERT INTO refunds ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
                    " ON CONFLICT (idempotency_key) DO NOTHING",
                    row,
                ).rowcount
                == 1
            )
            recorded = db.execute(
                f"SELECT {_COLUMNS} FROM refunds WHERE idempotency_key = ?",  # noqa: S608
                (request.idempotency_key,),
            ).fetchone()
        record = _record(recorded)
        if not created:
            differing = _differing_fields(record, request)
            if differing:
                raise refund_conflict(
                    f"Refund key {request.idempotency_key} is already used by refund "
                    f"{record.refund_id}, with a different {', '.join(differing)}"
                )
        return Refund(
            refund_id=record.refund_id,
            requested_at=record.requested_at,
            amount=record.amount,
            created=created,
        )

    async def file_claim(self, request: ClaimRequest) -> Claim:
        return await asyncio.to_thread(self._file_claim, request)

    async def claims(self) -> list[ClaimRequest]:
        """Every claim recorded, oldest first."""
        return await asyncio.to_thread(self._claims)

    def _file_claim(self, request: ClaimRequest) -> Claim:
        claim_id = refund_id_for(request.idempotency_key, "CL")
        with self._connect() as db:
            created = (
                db.execute(
                    "INSERT INTO claims (idempotency_key, claim_id, return_id, request, filed_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                    (
                        request.idempotency_key,
                        claim_id,
                        request.return_id,
                        request.model_dump_json(),
                        self._clock().isoformat(),
                    ),
                ).rowcount
                == 1
            )
            recorded, filed_at = db.execute(
                "SELECT request, filed_at FROM claims WHERE idempotency_key = ?",
                (request.idempotency_key,),
            ).fetchone()
        if not created and ClaimRequest.model_validate_json(recorded) != request:
            raise refund_conflict(
                f"Claim key {request.idempotency_key} is already used by claim {claim_id}, "
                "for a different claim"
            )
        return Claim(
            claim_id=claim_id,
            filed_at=dt.datetime.fromisoformat(filed_at),
            amount=request.amount,
            created=created,
        )

    def _claims(self) -> list[ClaimRequest]:
        with self._connect() as db:
            rows = db.execute("SELECT request FROM claims ORDER BY rowid").fetchall()
        return [ClaimRequest.model_validate_json(row[0]) for row in rows]

    def _refunds(self) -> list[RefundRecord]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM refunds ORDER BY rowid"  # noqa: S608
            ).fetchall()
        return [_record(row) for row in rows]


def _record(row: tuple[Any, ...]) -> RefundRecord:
    key, refund_id, return_id, order_id, line_id, amount, currency, reason, due_by, at, parts = row
    return RefundRecord(
        idempotency_key=key,
        refund_id=refund_id,
        return_id=return_id,
        order_id=order_id,
        line_id=line_id,
        amount=Money(amount=Decimal(amount), currency=currency),
        breakdown=RefundBreakdown.model_validate_json(parts) if parts else None,
        reason=RefundReason(reason),
        due_by=dt.datetime.fromisoformat(due_by),
        requested_at=dt.datetime.fromisoformat(at),
    )


def _differing_fields(record: RefundRecord, request: RefundRequest) -> list[str]:
    """The fields of `request` that are not those recorded under its key (by value: 429 is
    429.00, and an instant is the same in any time zone)."""
    recorded = {
        "return_id": record.return_id,
        "order_id": record.order_id,
        "line_id": record.line_id,
        "amount": record.amount.amount,
        "currency": record.amount.currency,
        "reason": record.reason,
        "due_by": record.due_by,
    }
    asked = {
        "return_id": request.return_id,
        "order_id": request.order_id,
        "line_id": request.line_id,
        "amount": request.amount.amount,
        "currency": request.amount.currency,
        "reason": request.reason,
        "due_by": request.due_by,
    }
    differing = [name for name in _COMPARED if recorded[name] != asked[name]]
    parts = (record.breakdown, request.breakdown)
    if None not in parts and parts[0] != parts[1]:
        differing.append("breakdown")
    return differing
