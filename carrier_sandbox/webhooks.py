"""Signed tracking webhooks: an outbox in the store, and a sender that retries with backoff.

Every scan of a carrier that offers `tracking_webhook` adds an event to the outbox in the same
transaction as the scan, so no scan is ever without its event, even across a crash. The sender
posts each event to the configured URL, signed with HMAC-SHA256 over the real wall-clock time of
the attempt and the body; a failed attempt is retried after 1 s, 2 s, 4 s … (capped), each time
signed afresh, until it is delivered or the attempts run out. One parcel's events go in order: an
event waits until the one before it was delivered or given up.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

import httpx

from carrier_sandbox.carriers import CarrierConfig
from carrier_sandbox.rules import object_id
from carrier_sandbox.store import SandboxStore
from domain.carriers import CarrierCapability

logger = logging.getLogger(__name__)

DEFAULT_WEBHOOK_SECRET = "sandbox-webhook-secret"  # noqa: S105 - the sandbox's public default
EVENT_TYPE = "tracking.updated"
TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
SIGNATURE_HEADER = "X-Sandbox-Signature"
_BATCH = 50


@dataclass(frozen=True)
class WebhookPolicy:
    """Where tracking events go and how hard the sender tries."""

    url: str | None = None
    """The receiver; `{carrier}` is replaced by the carrier's code. None: no webhooks."""
    secret: str = DEFAULT_WEBHOOK_SECRET
    max_attempts: int = 10
    first_retry_seconds: float = 1.0
    max_retry_seconds: float = 60.0
    timeout_seconds: float = 10.0

    def url_for(self, carrier: str) -> str | None:
        return self.url.replace("{carrier}", carrier) if self.url else None

    def retry_delay(self, attempts: int) -> float:
        """How long to wait after the `attempts`-th failed attempt: doubling, capped."""
        return float(min(self.first_retry_seconds * 2 ** (attempts - 1), self.max_retry_seconds))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=` and the lower-case hex HMAC-SHA256 of `"{timestamp}."` followed by the body."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers of one delivery attempt, signed at `timestamp` (default: now, real time)."""
    at = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(at),
        SIGNATURE_HEADER: signature(secret, at, body),
    }


def event_body(carrier: str, scan: dict[str, Any], event_id: str | None = None) -> bytes:
    """The JSON body of the event telling a scan (`scan` as `tracking.record_scan` returns)."""
    event = {
        "id": event_id or object_id("EV"),
        "type": EVENT_TYPE,
        "carrier": carrier,
        "tracking_number": scan["tracking_number"],
        "reference": scan["reference"],
        "scan": {
            k: scan[k] for k in ("scan_id", "status", "occurred_at", "location", "description")
        },
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


class Outbox:
    """The events waiting to be delivered, in the store."""

    def __init__(self, policy: WebhookPolicy) -> None:
        self.policy = policy

    def enqueue(self, db: sqlite3.Connection, carrier: CarrierConfig, scan: dict[str, Any]) -> None:
        """Within the scan's transaction: its event, if the carrier sends webhooks."""
        if self.policy.url is None or not carrier.offers(CarrierCapability.TRACKING_WEBHOOK):
            return
        body = event_body(carrier.code, scan)
        db.execute(
            "INSERT INTO webhook_events (event_id, carrier, tracking_number, scan_id, body,"
            " created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                json.loads(body)["id"],
                carrier.code,
                scan["tracking_number"],
                scan["scan_id"],
                body.decode(),
                _real_stamp(time.time()),
                time.time(),
            ),
        )

    @staticmethod
    def deliveries(db: sqlite3.Connection, tracking_number: str | None) -> list[dict[str, Any]]:
        rows = db.execute(
            "SELECT * FROM webhook_events WHERE ? IS NULL OR tracking_number = ? ORDER BY seq",
            (tracking_number, tracking_number),
        ).fetchall()
        return [
            {
                "id": r["event_id"],
                "carrier": r["carrier"],
                "tracking_number": r["tracking_number"],
                "scan_id": r["scan_id"],
                "scan_status": json.loads(r["body"])["scan"]["status"],
                "state": (
                    "delivered" if r["delivered_at"] else "failed" if r["failed_at"] else "pending"
                ),
                "delivered": r["delivered_at"] is not None,
                "attempts": r["attempts"],
                "last_status": r["last_status"],
                "last_error": r["last_error"],
                "created_at": r["created_at"],
                "last_attempt_at": r["last_attempt_at"],
                "next_attempt_at": (
                    _real_stamp(r["next_attempt_at"])
                    if not (r["delivered_at"] or r["failed_at"])
                    else None
                ),
                "delivered_at": r["delivered_at"],
            }
            for r in rows
        ]


@dataclass(frozen=True)
class _Due:
    seq: int
    event_id: str
    carrier: str
    tracking_number: str
    body: bytes
    attempts: int


DUE = (
    "SELECT e.seq, e.event_id, e.carrier, e.tracking_number, e.body, e.attempts"
    " FROM webhook_events e INDEXED BY webhooks_pending"
    " WHERE e.delivered_at IS NULL AND e.failed_at IS NULL"
    " AND e.seq = (SELECT MIN(f.seq) FROM webhook_events f"
    "   WHERE f.tracking_number = e.tracking_number"
    "   AND f.delivered_at IS NULL AND f.failed_at IS NULL)"
    " AND e.next_attempt_at <= ? ORDER BY e.seq LIMIT ?"
)
"""Each parcel's first event still to deliver, once due. It reads the pending events alone (an
index of their own, `webhooks_pending`): what was delivered or given up on piles up, and is
never read again here."""


class WebhookSender:
    """Delivers due events, every `poll_seconds` or when woken after a scan."""

    def __init__(
        self,
        store: SandboxStore,
        policy: WebhookPolicy,
        *,
        poll_seconds: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._store = store
        self._policy = policy
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._http = httpx.AsyncClient(
            timeout=policy.timeout_seconds,
            transport=transport,
            headers={"User-Agent": "returnflow-carrier-sandbox/1"},
        )

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled; a failing pass is logged and the next one tried."""
        try:
            while True:
                try:
                    await self.deliver_due()
                except Exception:
                    logger.exception("webhook delivery pass failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
                self._wake.clear()
        finally:
            await self._http.aclose()

    async def deliver_due(self) -> int:
        """One attempt for each parcel's first undelivered event that is due; how many."""
        due = await asyncio.to_thread(self._store.run, self._due)
        await asyncio.gather(*(self._attempt(event) for event in due))
        return len(due)

    def _due(self, db: sqlite3.Connection) -> list[_Due]:
        rows = db.execute(DUE, (time.time(), _BATCH)).fetchall()
        return [
            _Due(
                r["seq"],
                r["event_id"],
                r["carrier"],
                r["tracking_number"],
                r["body"].encode(),
                r["attempts"],
            )
            for r in rows
        ]

    async def _attempt(self, event: _Due) -> None:
        url = self._policy.url_for(event.carrier)
        status: int | None = None
        error: str | None = None
        if url is None:
            error = "no webhook URL configured"
        else:
            headers = signed_headers(self._policy.secret, event.body)
            try:
                response = await self._http.post(url, content=event.body, headers=headers)
                status = response.status_code
                if not response.is_success:
                    error = f"HTTP {status}"
            except httpx.TimeoutException as err:
                error = f"timed out: {type(err).__name__}"
            except httpx.HTTPError as err:
                error = f"unreachable: {type(err).__name__}"
        await asyncio.to_thread(self._store.run, lambda db: self._record(db, event, status, error))

    def _record(
        self, db: sqlite3.Connection, event: _Due, status: int | None, error: str | None
    ) -> None:
        attempts = event.attempts + 1
        now = time.time()
        delivered = _real_stamp(now) if error is None else None
        failed = None
        if error is not None and attempts >= self._policy.max_attempts:
            failed = _real_stamp(now)
        db.execute(
            "UPDATE webhook_events SET attempts = ?, last_attempt_at = ?, last_status = ?,"
            " last_error = ?, delivered_at = ?, failed_at = ?, next_attempt_at = ?"
            " WHERE seq = ?",
            (
                attempts,
                _real_stamp(now),
                status,
                error,
                delivered,
                failed,
                now + self._policy.retry_delay(attempts),
                event.seq,
            ),
        )
        logger.info(
            "tracking webhook attempted",
            extra={
                "event_id": event.event_id,
                "carrier": event.carrier,
                "tracking_number": event.tracking_number,
                "attempt": attempts,
                "http_status": status,
                "outcome": "delivered" if delivered else "given_up" if failed else "retrying",
            },
        )


def _real_stamp(unix: float) -> str:
    return dt.datetime.fromtimestamp(unix, dt.UTC).isoformat(timespec="milliseconds")
