"""`make demo`: the sample returns in examples/, end to end on the embedded stack.

Each sample event is re-dated so that the customer withdraws now (the legal clocks then mean
something) and given this run's order number suffix (each run makes new returns; earlier runs
stay in the Web UI). Everything goes through the gateway, as in production: the order service's
signed event (or, for the samples marked so, the customer withdrawing with the withdrawal
function's two steps), the customer's choice on the return page their email links to, status
reads with the customer app's bearer token; the carrier
sandbox is told to scan each parcel, and its signed tracking webhooks reach the returns through
the gateway too; once a parcel is delivered, the seller portal reports what came back (or stays
silent, and the sample's return waits out its inspection period), and operations decide on a
deduction with their token. Each return's events go to the marketplace sandbox as signed
webhooks (the event feed): the demo prints what it received, and a sample whose events did not
all come, once each and in sequence, is not ok.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from activities.notices.compose import notice_key
from client.start import parse_event
from customer_page.links import PageLinks
from devstack.__main__ import run_stack, serve, where_to_watch
from devstack.config import StackConfig
from devstack.customer import Browser
from devstack.interrupts import Interrupts
from devstack.stack import DevStack
from domain.events import RetractEvent
from domain.ids import return_id as return_id_of
from domain.returns import FINAL_STAGES, ReturnStage, ReturnStatus
from domain.withdrawals import WithdrawalLinkRequest
from mail_sink import read_mailbox
from plumbing.signing import signed_headers
from plumbing.temporal import exit_process, web_ui_link
from workflows.event_feed import EventFeedWorkflow, feed_id

EXAMPLES = Path("examples")
PAGE_LINK = re.compile(r"https?://\S+/my/returns/[A-Za-z0-9._-]+")
WAIT_SECONDS = 60.0

EXPECTED_MAIL = {
    # The seller's address is on file: the acknowledgement and the address are one email.
    "mailbox_pickup": [
        "return_address",
        "return_label",
        "pickup_confirmed",
        "seller_parcel_inbound",
    ],
    "post_office_drop_off": [
        "return_address",
        "return_label",
        "pickup_confirmed",
        "seller_parcel_inbound",
    ],
    "post_office_counter": [
        "return_address",
        "counter_code",
        "pickup_confirmed",
        "seller_parcel_inbound",
    ],
    None: ["rejection"],
}
DELIVERED_MAIL = ["seller_parcel_delivered"]
DEDUCTION_MAIL = ["operations_attention", "deduction_approved"]


@dataclass
class Sample:
    name: str
    event: RetractEvent
    choice: dict[str, Any] | None
    expected: ReturnStage
    withdraws_on_page: bool = False
    """The customer withdraws with the withdrawal function (else the order service's event)."""
    seller_reports: dict[str, Any] | None = None
    """What the seller reports once the parcel is back (none: the seller is not heard from)."""
    operations: str | None = None
    """Operations' action on the seller's report (`approve_deduction`, ...)."""
    return_id: str | None = None
    status: ReturnStatus | None = None
    link: str = ""
    mail: list[str] = field(default_factory=list)
    events: list[tuple[int, str]] = field(default_factory=list)
    """The event feed as the marketplace sandbox received it: (sequence, type), first
    deliveries in order of arrival."""
    events_published: int = 0
    """The events the return's feed had published when last asked."""
    feed_settled: bool = False
    """The feed delivered every event of the stage the return reached, within the wait."""
    error: str | None = None
    sample: RetractEvent | None = None
    """The event as `examples/` has it, before it was re-dated for this run."""

    @property
    def option(self) -> str:
        return self.choice["method"] if self.choice else "(rejected)"

    @property
    def expected_mail(self) -> list[str]:
        mail = EXPECTED_MAIL[self.choice["method"] if self.choice else None]
        if self.expected is ReturnStage.DELIVERED:
            mail = mail + DELIVERED_MAIL
        if self.operations == "approve_deduction":
            mail = mail + DEDUCTION_MAIL
        return mail

    @property
    def feed_ok(self) -> bool:
        """The marketplace received every event the return published, once each, in order."""
        sequences = [sequence for sequence, _ in self.events]
        return (
            self.feed_settled
            and bool(sequences)
            and sequences == list(range(1, self.events_published + 1))
        )

    @property
    def ok(self) -> bool:
        reached = self.status is not None and self.status.stage is self.expected
        mailed = self.mail == self.expected_mail
        return reached and self.error is None and mailed and self.feed_ok


def redate(event: RetractEvent, now: dt.datetime, suffix: str) -> RetractEvent:
    """The same withdrawal, given now: every timestamp shifted, a fresh order number."""
    shift = now - event.occurred_at
    order = event.order

    def moved(moment: dt.datetime | None) -> dt.datetime | None:
        return moment + shift if moment else None

    return event.model_copy(
        update={
            "event_id": f"{event.event_id}-{suffix}",
            "occurred_at": now,
            "order": order.model_copy(
                update={
                    "order_id": f"{order.order_id}-{suffix}",
                    "ordered_at": order.ordered_at + shift,
                    "shipped_at": moved(order.shipped_at),
                    "delivered_at": moved(order.delivered_at),
                }
            ),
        }
    )


def load_samples(now: dt.datetime, out_dir: Path) -> list[Sample]:
    plan = json.loads((EXAMPLES / "demo.json").read_text())
    suffix = now.strftime("%y%m%d%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = []
    for entry in plan["samples"]:
        path = EXAMPLES / entry["event"]
        sample = parse_event(path.read_bytes())
        event = redate(sample, now, suffix)
        (out_dir / path.name).write_text(event.model_dump_json(indent=2) + "\n")
        samples.append(
            Sample(
                path.stem,
                event,
                entry["choice"],
                ReturnStage(entry["expected_stage"]),
                withdraws_on_page=entry.get("withdraws_on") == "page",
                seller_reports=entry.get("seller_reports"),
                operations=entry.get("operations"),
                sample=sample,
            )
        )
    return samples


class Apps:
    """The order service and the customer app, as the gateway sees them: signed events and
    bearer tokens over HTTP."""

    def __init__(self, http: httpx.AsyncClient, config: StackConfig) -> None:
        self.http = http
        self.config = config

    async def send_event(self, event: RetractEvent) -> str:
        """The order service's retract event, signed; the ID of the return it started."""
        body = event.model_dump_json().encode()
        headers = {"Content-Type": "application/json"}
        headers |= signed_headers(self.config.event_secret, body)
        answer = await self.http.post("/v1/events", content=body, headers=headers)
        if answer.status_code not in (200, 202):
            raise RuntimeError(f"event refused: {answer.status_code} {answer.text}")
        return_id: str = answer.json()["return_id"]
        return return_id

    async def withdrawal_link(self, event: RetractEvent, request_id: str) -> str:
        """The order service asks for the withdrawal function's link of the event's order."""
        request = WithdrawalLinkRequest(
            request_id=request_id, customer=event.customer, lines=[event.order]
        )
        body = request.model_dump_json().encode()
        headers = {"Content-Type": "application/json"}
        headers |= signed_headers(self.config.event_secret, body)
        answer = await self.http.post("/v1/withdrawal-links", content=body, headers=headers)
        if answer.status_code != 201:
            raise RuntimeError(f"withdrawal link refused: {answer.status_code} {answer.text}")
        url: str = answer.json()["url"]
        return url

    async def withdraw_on_page(self, event: RetractEvent) -> str:
        """The customer withdraws in the withdrawal function's two steps; the return's ID."""
        link = await self.withdrawal_link(event, f"demo-{event.event_id}"[:64])
        async with Browser() as browser:
            await browser.open(link)
            await browser.submit(browser.form("/review"))
            await browser.submit(browser.form("/confirm"))
        return return_id_of(event.order.order_id, event.order.line_id)

    async def choose_on_page(self, return_id: str, choice: dict[str, Any]) -> ReturnStatus:
        """The customer opens the return page from the address email and chooses there (the
        first pickup day offered, for a pickup); the status once the carrier has answered."""
        link = await page_link_in_mail(self.config.mail_dir, return_id, "return_address")
        async with Browser() as browser:
            await browser.open(link)
            form = browser.form("/choice", way=f"{choice['carrier']}:{choice['method']}")
            days = form.options.get("pickup_date", [])
            await browser.submit(form, **({"pickup_date": days[0]} if days else {}))
        return await self.until_settled(return_id, AWAITING_SHIPMENT)

    async def status(self, return_id: str) -> ReturnStatus:
        answer = await self.http.get(f"/v1/returns/{return_id}", headers=self._customer)
        answer.raise_for_status()
        return ReturnStatus.model_validate_json(answer.content)

    async def until_settled(
        self, return_id: str, stages: set[ReturnStage], within: float = WAIT_SECONDS
    ) -> ReturnStatus:
        async with asyncio.timeout(within):
            while True:
                status = await self.status(return_id)
                if status.stage in stages:
                    return status
                await asyncio.sleep(0.2)

    async def act(self, return_id: str, action: str, body: dict[str, Any], token: str) -> None:
        """The seller portal or an operations tool acting on a return through the gateway."""
        answer = await self.http.post(
            f"/v1/returns/{return_id}/{action}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        if answer.status_code not in (200, 202):
            raise RuntimeError(f"{action} refused: {answer.status_code} {answer.text}")

    async def until(
        self, return_id: str, check: Callable[[ReturnStatus], bool], within: float = WAIT_SECONDS
    ) -> ReturnStatus:
        async with asyncio.timeout(within):
            while True:
                status = await self.status(return_id)
                if check(status):
                    return status
                await asyncio.sleep(0.2)

    @property
    def _customer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.customer_token}"}


AWAITING_SHIPMENT = {
    ReturnStage.AWAITING_PICKUP,
    ReturnStage.AWAITING_DROP_OFF,
    ReturnStage.AWAITING_COUNTER_DROP_OFF,
}


async def play(stack: DevStack, apps: Apps, sample: Sample) -> None:
    """One sample, as the order service, the customer and the carrier would play it."""
    if sample.withdraws_on_page:
        return_id = await apps.withdraw_on_page(sample.event)
    else:
        return_id = await apps.send_event(sample.event)
    sample.return_id = return_id
    sample.link = web_ui_link(stack.settings, stack.config.namespace, return_id)
    status = await apps.until_settled(
        return_id, {ReturnStage.AWAITING_CUSTOMER_CHOICE, ReturnStage.REJECTED}
    )
    if sample.choice is not None and status.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE:
        ready = await apps.choose_on_page(return_id, sample.choice)
        assert ready.tracking_number is not None
        await carrier_collects(stack, ready.tracking_number)
        await apps.until(return_id, lambda s: s.refund is not None)
        # The parcel reaches the seller: the carrier scans its delivery.
        await carrier_collects(stack, ready.tracking_number, "delivered")
        await apps.until(return_id, lambda s: s.inspection is not None)
        await seller_and_operations(apps, sample, return_id)
    if status.stage is ReturnStage.REJECTED:
        # A rejected return stays open for operations to override it (the review period).
        sample.status = status
        return
    sample.status = await apps.until_settled(return_id, set(FINAL_STAGES))
    await mail_settled(stack.config.mail_dir, sample)


async def seller_and_operations(apps: Apps, sample: Sample, return_id: str) -> None:
    """The seller reports what came back; operations decide on a deduction it asks."""
    if sample.seller_reports is None:
        return
    config = apps.config
    await apps.act(return_id, "inspection", sample.seller_reports, config.seller_token)
    if sample.operations is not None:
        await apps.until(return_id, lambda s: bool(s.attention))
        decision = {"action": sample.operations, "reason": "photos checked (demo)"}
        await apps.act(return_id, "attention", decision, config.operations_token)


async def mail_settled(mail_dir: Path, sample: Sample, within: float = 15.0) -> None:
    """The last notices go out as the return ends: give the mail sink a moment to have them."""
    assert sample.return_id is not None
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if mail_kinds(mail_dir, sample.return_id) == sample.expected_mail:
            return
        await asyncio.sleep(0.2)


async def carrier_collects(
    stack: DevStack, tracking_number: str, status: str | None = None
) -> None:
    """The sandbox's carrier scans the parcel (its next scan, or `status`); its signed webhook
    reaches the return through the gateway, as a real carrier's would."""
    body = {"status": status} if status else {}
    async with httpx.AsyncClient(base_url=stack.config.sandbox_url, timeout=10) as http:
        response = await http.post(f"/sandbox/parcels/{tracking_number}/scans", json=body)
        response.raise_for_status()


def mail_kinds(mail_dir: Path, workflow_id: str) -> list[str]:
    """The notice kinds the customer of `workflow_id` received, in order."""
    keys = (notice_key(str(m["Message-ID"])) for m in read_mailbox(mail_dir))
    return [key.kind.value for key in keys if key and key.return_id == workflow_id]


async def page_link_in_mail(mail_dir: Path, return_id: str, kind: str) -> str:
    """The return page link of the customer's `kind` email, once the mail sink has it."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            for message in read_mailbox(mail_dir):
                key = notice_key(str(message["Message-ID"]))
                if key and key.return_id == return_id and key.kind.value == kind:
                    body = message.get_body(preferencelist=("plain",))
                    found = body and PAGE_LINK.search(str(body.get_content()))
                    if found:
                        return found[0]
            await asyncio.sleep(0.2)


def table(samples: list[Sample]) -> str:
    rows = [f"{'sample':<28} {'option':<22} {'final stage':<14} {'ok':<4} Web UI"]
    for s in samples:
        stage = s.status.stage.value if s.status else "-"
        rows.append(
            f"{s.name:<28} {s.option:<22} {stage:<14} {'yes' if s.ok else 'NO':<4} {s.link}"
        )
        if not s.ok:
            rows.append(f"{'':<28} expected {s.expected.value}, mail {s.expected_mail}")
            rows.append(f"{'':<28} got mail {s.mail}" + (f", error: {s.error}" if s.error else ""))
            rows.append(f"{'':<28} events {len(s.events)} of {s.events_published} received")
    return "\n".join(rows)


def feed_table(samples: list[Sample], config: StackConfig) -> str:
    """What the marketplace learnt of each sample return, from its event feed."""
    rows = [
        f"\nthe event feed, as the marketplace received it ({config.marketplace_url}/sandbox/feed):"
    ]
    for s in samples:
        told = " > ".join(f"{n} {kind.removeprefix('return.')}" for n, kind in s.events)
        rows.append(f"  {s.name:<26} {told or '(nothing)'}")
    return "\n".join(rows)


def demo(exit_after: bool) -> Callable[[DevStack, Interrupts], Awaitable[int]]:
    async def play_the_samples(stack: DevStack, interrupts: Interrupts) -> int:
        config = stack.config
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        samples = load_samples(now, config.var_dir / "demo" / "events")
        print(f"\nplaying {len(samples)} sample returns (events in var/demo/events/) ...")
        await interrupts.guard(play_all(stack, samples))
        print("\n" + table(samples))
        print(feed_table(samples, config))
        print(f"\nemails (.eml, label PDFs attached) are in {config.mail_dir}/")
        print("\n".join(["the figures of the run:", *where_to_watch(config)]))
        print(await customer_pages(stack, samples, now))
        all_ok = all(s.ok for s in samples)
        print("every sample reached its expected stage" if all_ok else "SOME SAMPLES FAILED")
        if exit_after:
            return 0 if all_ok else 1
        print(f"\nWeb UI: {config.web_ui_url} — the stack stays up until Ctrl-C.", flush=True)
        return await serve(stack, interrupts)

    return play_the_samples


async def customer_pages(stack: DevStack, samples: list[Sample], now: dt.datetime) -> str:
    """The customers' pages to open in a browser: each sample's return page, and the withdrawal
    function of a sample order nobody has withdrawn from yet."""
    links = PageLinks(stack.settings)
    rows = ["\ncustomer pages (open them in a browser):"]
    for sample in samples:
        if sample.return_id is not None:
            rows.append(f"  {sample.name:<26} {links.return_page(sample.return_id)}")
    untouched = next((s.sample for s in samples if s.choice and s.sample), None)
    if untouched is not None:
        fresh = redate(untouched, now, f"{now:%y%m%d%H%M%S}W")
        async with httpx.AsyncClient(base_url=stack.config.gateway_url, timeout=60) as http:
            link = await Apps(http, stack.config).withdrawal_link(fresh, "demo-try-it")
        minutes = stack.settings.withdrawal_link_minutes
        rows.append(f"  withdrawal function of order {fresh.order.order_id} ({minutes} min):")
        rows.append(f"  {'':<26} {link}")
    return "\n".join(rows)


async def play_all(stack: DevStack, samples: list[Sample]) -> None:
    """Play every sample at once; a failing sample is reported in the table, not raised."""
    async with httpx.AsyncClient(base_url=stack.config.gateway_url, timeout=60) as http:
        apps = Apps(http, stack.config)
        results = await asyncio.gather(
            *(play(stack, apps, s) for s in samples), return_exceptions=True
        )
    for sample, result in zip(samples, results, strict=True):
        if isinstance(result, BaseException):
            sample.error = f"{type(result).__name__}: {result}"
        if sample.return_id is not None:
            sample.mail = mail_kinds(stack.config.mail_dir, sample.return_id)
    await asyncio.gather(*(feed_received(stack, s) for s in samples if s.return_id and s.status))


async def feed_received(stack: DevStack, sample: Sample, within: float = 30.0) -> None:
    """The sample's events, once its feed has delivered all the return has published: up to
    its end, or (a return still open: a rejection operations may override, a parcel in its
    inspection period) up to the event of the stage it has reached."""
    assert sample.return_id is not None and sample.status is not None
    feed = stack.client.get_workflow_handle_for(EventFeedWorkflow.run, feed_id(sample.return_id))
    returned = stack.client.get_workflow_handle(sample.return_id)
    url = f"{stack.config.marketplace_url}/sandbox/events"
    query = {"subscriber": "marketplace", "return_id": sample.return_id}
    received: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            async with asyncio.timeout(within):
                while True:
                    view = await feed.query(EventFeedWorkflow.view)
                    sample.events_published = view.published  # what a shortfall is said against
                    received = (await http.get(url, params=query)).raise_for_status().json()
                    described = await returned.describe()
                    if described.status is WorkflowExecutionStatus.RUNNING:
                        last = received[-1]["data"]["stage"] if received else None
                        ended = last == sample.status.stage
                    else:
                        ended = view.ended
                    if ended and all(s.delivered == view.published for s in view.subscribers):
                        sample.feed_settled = True
                        break
                    await asyncio.sleep(0.2)
        except (TimeoutError, RPCError, httpx.HTTPError):
            pass  # reported: the events received fall short of those published
    sample.events = [(e["sequence"], e["type"]) for e in received if not e["duplicate"]]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo", description=__doc__)
    parser.add_argument(
        "--exit",
        action="store_true",
        help="stop after the table: exit 0 if every sample reached its expected stage",
    )
    args = parser.parse_args()
    exit_process(asyncio.run(run_stack(demo(args.exit))))


if __name__ == "__main__":
    main()
