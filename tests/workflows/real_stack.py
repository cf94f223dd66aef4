"""`ReturnWorkflow` on the worker the product runs, against real components.

`worker.build_worker` wires every activity to its adapter from `Settings`, as in production;
here the settings point at a carrier sandbox on a real socket (its fault injection and bench
over HTTP), a real SMTP sink writing each message to disk, the order service's SQLite file, the
seller chat's files and a sellers file the test can edit. Nothing is a double: what a test
asserts is what the carrier, the mailbox, the order service and the seller chat hold.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.orders.service import FileOrderService, RefundRecord
from activities.sellers.chat import FileSellerChat
from carrier_sandbox.server import SandboxServer
from client.start import start_return
from domain.carriers import TrackingScan, TrackingStatus
from domain.events import RetractEvent
from domain.returns import ReturnStage, ReturnStatus
from mail_sink import MailSink
from mail_sink.mailbox import read_mailbox
from plumbing import versioning
from plumbing.settings import Settings
from tests.factories import SELLER_ADDRESS, SELLER_ID
from tests.workflows.harness import ReturnHandle
from worker import build_worker
from workflows.return_workflow import ReturnWorkflow

SELLER_EMAIL = "returns@refurbpro.example"


def seller_entry(email: str | None = SELLER_EMAIL) -> dict[str, Any]:
    return {
        "seller_id": SELLER_ID,
        "display_name": "RefurbPro",
        "return_address": SELLER_ADDRESS.model_dump(mode="json"),
        "email": email,
        "locale": "fr",
    }


TECHREVIVE_ID = "SELLER-TECHREVIVE"
TECHREVIVE = {
    "seller_id": TECHREVIVE_ID,
    "display_name": "TechRevive",
    "return_address": {
        "name": "TechRevive Retouren",
        "company": "TechRevive GmbH",
        "line1": "Lagerstraße 17",
        "postal_code": "10317",
        "city": "Berlin",
        "country_code": "DE",
    },
    "email": "retouren@techrevive.example",
    "locale": "en",
}
"""A seller in Germany: a carrier serving only France and its neighbours cannot reach it."""


class RealStack:
    """The product's worker and the components it talks to, for one test."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        settings: Settings,
        sandbox: SandboxServer,
        bench: httpx.AsyncClient,
    ) -> None:
        self.env = env
        self.client: Client = env.client
        self.settings = settings
        self.sandbox = sandbox
        self.bench = bench
        self.orders = FileOrderService(settings.orders_path)

    # --- Returns -------------------------------------------------------------------------

    async def start(self, event: RetractEvent) -> ReturnHandle:
        started = await start_return(self.client, self.settings, event)
        return self.client.get_workflow_handle_for(ReturnWorkflow.run, started.workflow_id)

    async def status(self, handle: ReturnHandle) -> ReturnStatus:
        return await handle.query(ReturnWorkflow.status)

    async def until(
        self, handle: ReturnHandle, check: Callable[[ReturnStatus], bool], within: float = 30
    ) -> ReturnStatus:
        """The return's status once `check` holds (the test fails after `within` s)."""
        async with asyncio.timeout(within):
            while True:
                status = await self.status(handle)
                if check(status):
                    return status
                await asyncio.sleep(0.1)

    async def stage_reached(
        self, handle: ReturnHandle, stage: ReturnStage, within: float = 30
    ) -> ReturnStatus:
        return await self.until(handle, lambda s: s.stage is stage, within)

    # --- The carrier ---------------------------------------------------------------------

    async def carrier_scans(
        self, tracking_number: str, status: TrackingStatus | None = None
    ) -> TrackingScan:
        """The carrier scans the parcel (its own record; no webhook is configured)."""
        body = {"status": status.value} if status else {}
        answer = await self.bench.post(f"/sandbox/parcels/{tracking_number}/scans", json=body)
        assert answer.status_code == 201, answer.text
        event = answer.json()
        return TrackingScan(
            carrier="sandbox",
            tracking_number=tracking_number,
            scan_id=event["scan_id"],
            status=TrackingStatus(event["status"]),
            occurred_at=dt.datetime.fromisoformat(event["occurred_at"]),
            location=event["location"],
        )

    async def scan_reaches(self, handle: ReturnHandle, scan: TrackingScan) -> None:
        """The carrier's tracking webhook for `scan`, as the gateway hands it to the return."""
        await handle.signal(ReturnWorkflow.carrier_scan, scan)

    async def carrier_restarts(self, api_key: str) -> None:
        """The carrier comes back on the same address, with what it kept, now expecting
        `api_key` (a key rotated at the carrier: ours is refused until the settings follow)."""
        port = self.sandbox.port
        await self.sandbox.stop()
        self.sandbox = SandboxServer(self.sandbox.db_path, port=port, api_key=api_key, rounds=False)
        await self.sandbox.start()

    @property
    def sandbox_key(self) -> str:
        return self.settings.carrier_sandbox_api_key.get_secret_value()

    def carrier_api(self, code: str) -> httpx.AsyncClient:
        """The carrier's own API, with the key the product uses (closed with the stack)."""
        return httpx.AsyncClient(
            base_url=f"{self.sandbox.carrier_url(code)}/v1", headers={"X-Api-Key": self.sandbox_key}
        )

    async def carrier_clock(self, now: dt.datetime) -> None:
        answer = await self.bench.post("/sandbox/clock", json={"now": now.isoformat()})
        assert answer.status_code == 200, answer.text

    async def faults(self, *rules: dict[str, Any]) -> None:
        answer = await self.bench.put("/sandbox/faults", json={"rules": list(rules)})
        assert answer.status_code == 200, answer.text

    async def made_under_keys(self) -> dict[str, int]:
        """How many labels, pickups and codes the carrier made under each idempotency key."""
        answer = await self.bench.get("/sandbox/idempotency-keys")
        return {k["key"]: k["created"] for k in answer.json()["keys"]}

    # --- Mail, refunds, sellers ----------------------------------------------------------

    def emails(self) -> list[EmailMessage]:
        return read_mailbox(self.settings.mail_dir)

    def emails_by_id(self) -> Counter[str]:
        """How many copies of each email the mailbox holds, by Message-ID."""
        return Counter(str(m["Message-ID"]).strip() for m in self.emails())

    def kinds_to(self, address: str) -> list[str]:
        """The kinds of the emails sent to `address`, in order (read from the Message-ID)."""
        return [
            str(m["Message-ID"]).strip(" <>").split("@")[0].split(".")[1]
            for m in self.emails()
            if address in str(m["To"])
        ]

    async def refunds(self) -> list[RefundRecord]:
        return await self.orders.refunds()

    async def seller_chat(self, seller_id: str) -> list[str]:
        """The kinds of the messages posted in the seller's chat, oldest first."""
        chat = FileSellerChat(self.settings.seller_chat_path)
        return [str(entry.kind) for entry in await chat.messages(seller_id)]

    def order_service_drops(self, idempotency_key: str) -> None:
        """The order service's staff remove the request it holds under a key (in its own
        database): the key is free again."""
        with closing(sqlite3.connect(self.orders.path)) as db, db:
            db.execute("DELETE FROM refunds WHERE idempotency_key = ?", (idempotency_key,))

    def sellers_file(self, *sellers: dict[str, Any]) -> None:
        """Replace the sellers file (an operator's edit, read by the next activity)."""
        self.settings.sellers_file.write_text(
            json.dumps({"sellers": list(sellers)}), encoding="utf-8"
        )


@asynccontextmanager
async def real_stack(
    env: WorkflowEnvironment, var_dir: Path, *, client: Client | None = None, **settings: Any
) -> AsyncIterator[RealStack]:
    """The worker of `worker.py` on a task queue of its own, with a fresh sandbox (its rounds
    off: the carrier acts only when the test says), SMTP sink, order service and sellers file;
    its client is `client` if given (one with interceptors), else the environment's."""
    client = client or env.client
    sandbox = SandboxServer(var_dir / "carrier-sandbox.sqlite", rounds=False)
    await sandbox.start()
    stack: RealStack | None = None
    try:
        async with (
            MailSink(var_dir / "mail") as sink,
            httpx.AsyncClient(base_url=sandbox.url, timeout=10) as bench,
        ):
            name = re.sub(r"[^A-Za-z0-9_-]", "-", f"returnflow-{var_dir.name}")[:100]
            config = Settings(
                task_queue=name,
                deployment_name=name,
                var_dir=var_dir,
                sellers_file=var_dir / "sellers.json",
                carriers="sandbox,relay",
                carrier_sandbox_url=sandbox.url,
                carrier_sandbox_api_key=sandbox.api_key,
                carrier_timeout_seconds=5.0,
                smtp_host=sink.host,
                smtp_port=sink.port,
                smtp_timeout_seconds=5.0,
                **settings,
            )
            stack = RealStack(env, config, sandbox, bench)
            stack.sellers_file(seller_entry(), TECHREVIVE)
            async with build_worker(client, config) as worker, worker:
                # As after a deploy: this build of the Worker Deployment takes new returns.
                await versioning.promote(
                    client, name, versioning.build_id(config), wait=dt.timedelta(seconds=30)
                )
                yield stack
    finally:
        await (stack.sandbox if stack else sandbox).stop()
