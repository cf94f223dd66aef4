"""Sandbox Post as a subject of the carrier contract suite: the real sandbox over loopback HTTP.

    async with sandbox_subject(tmp_path) as subject:
        label = await subject.carrier.create_return_label(...)

Everything the suite asks of the carrier is done the way a tester would do it by hand: a scan
on command (`POST /sandbox/parcels/{tn}/scans`), a webhook signed with the sandbox's own
signing code, a restart of the sandbox with another API key, a fault rule for one request.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from activities.carriers.sandbox import SandboxCarrier
from carrier_sandbox.rules import object_id, stamp
from carrier_sandbox.server import SandboxServer
from carrier_sandbox.webhooks import WebhookPolicy, event_body, signed_headers
from domain.carriers import CarrierCapability, Parcel
from tests.activities.carriers.subject import ContractSubject
from tests.factories import HOME, SELLER_ADDRESS

CARRIER = "sandbox"
SECRET = "contract-webhook-secret"

SANDBOX_POST_CAN = frozenset(
    {
        CarrierCapability.ONLINE_RETURN_LABEL,
        CarrierCapability.COUNTER_RETURN_CODE,
        CarrierCapability.COUNTER_LABEL,
        CarrierCapability.MAILBOX_PICKUP,
        CarrierCapability.DROP_OFF,
        CarrierCapability.POST_OFFICE_LOCATOR,
        CarrierCapability.TRACKING_WEBHOOK,
        CarrierCapability.TRACKING_POLLING,
    }
)


class _SandboxBench:
    """The sandbox under test, and the tester's hands on it."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        # Rounds off: nothing scans a parcel unless the suite says so.
        self.server = SandboxServer(
            db_path, rounds=False, webhooks=WebhookPolicy(url=None, secret=SECRET)
        )
        self.carrier: SandboxCarrier | None = None

    async def start(self) -> SandboxCarrier:
        await self.server.start()
        self.carrier = SandboxCarrier(
            self.server.url, CARRIER, self.server.api_key, webhook_secret=SECRET, timeout=5.0
        )
        return self.carrier

    async def stop(self) -> None:
        if self.carrier is not None:
            await self.carrier.aclose()
        await self.server.stop()

    async def accept_parcel(self, tracking_number: str) -> None:
        await self._bench(
            "POST", f"/sandbox/parcels/{tracking_number}/scans", {"status": "accepted"}
        )

    def signed_webhook(self, tracking_number: str) -> tuple[dict[str, str], bytes]:
        """What the sandbox would push for an acceptance scan of the parcel, signed now."""
        found = self.server.sandbox.store.run(
            lambda db: db.execute(
                "SELECT reference FROM parcels WHERE tracking_number = ?", (tracking_number,)
            ).fetchone()
        )
        scan = {
            "scan_id": object_id("SC"),
            "status": "accepted",
            "occurred_at": stamp(self.server.sandbox.clock.now()),
            "location": "Sandbox Post — collection sorting centre",
            "description": "Parcel accepted by Sandbox Post.",
            "tracking_number": tracking_number,
            "reference": found["reference"] if found is not None else None,
        }
        body = event_body(CARRIER, scan)
        headers = signed_headers(SECRET, body, int(time.time()))
        return {name.lower(): value for name, value in headers.items()}, body

    async def break_credentials(self) -> None:
        """The carrier rotates our key: the sandbox comes back on the same port and file with
        another one, and the adapter still sends the old one."""
        port = self.server.port
        await self.server.stop()
        self.server = SandboxServer(
            self.db_path,
            port=port,
            api_key="rotated-key",
            rounds=False,
            webhooks=WebhookPolicy(url=None, secret=SECRET),
        )
        await self.server.start()

    async def fail_next(self, status: int, retry_after: float | None) -> None:
        """One fault rule for the very next carrier request, then none."""
        assert self.carrier is not None
        await self.carrier.describe()  # cached now, so the fault hits the operation itself
        rule: dict[str, Any] = {"endpoint": "*", "count": 1, "retry_after_seconds": retry_after}
        if status == 429:
            rule["rate_limit_rate"] = 1.0
        else:
            rule.update(error_rate=1.0, error_when="before", error_status=status)
        await self._bench("PUT", "/sandbox/faults", {"rules": [rule]})

    async def _bench(self, method: str, path: str, body: dict[str, Any]) -> None:
        async with httpx.AsyncClient(base_url=self.server.url, timeout=5.0) as http:
            response = await http.request(method, path, json=body)
            response.raise_for_status()


@asynccontextmanager
async def sandbox_subject(tmp_path: Path) -> AsyncIterator[ContractSubject]:
    """Sandbox Post, running on loopback for as long as the context is open."""
    bench = _SandboxBench(tmp_path / "carrier-sandbox.sqlite")
    carrier = await bench.start()
    try:
        yield ContractSubject(
            carrier=carrier,
            capabilities=SANDBOX_POST_CAN,
            customer=HOME,
            seller=SELLER_ADDRESS,
            parcel=Parcel(weight_grams=450, description="Smartphone"),
            accept_parcel=bench.accept_parcel,
            signed_webhook=bench.signed_webhook,
            break_credentials=bench.break_credentials,
            fail_next=bench.fail_next,
        )
    finally:
        await bench.stop()
