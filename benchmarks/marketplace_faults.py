"""A batch of returns against a marketplace that fails: every refund once, every event in order.

    python -m benchmarks.marketplace_faults [--returns 100] [--error-rate 0.2] [--slow-rate 0.2]

Starts its own embedded stack on free ports under var/bench/, with two subscribers to the event
feed (`marketplace`, which receives personal data, and `analytics`, which does not; both the
marketplace sandbox), and turns the marketplace sandbox's fault injection on for every endpoint
it serves: the order service, the seller directory and chat, and the webhooks of the feed.
`--error-rate` of the answers are 5xx errors (half of them after the work is done, the answer
lost), `--slow-rate` are held `--slow-seconds`, past the worker's marketplace timeout.

Each return is played as the customer and the carrier would: the withdrawal, a mailbox pickup,
the carrier's round, whose acceptance scan is the proof of dispatch the refund waits for. The
pass mark, once every return is `picked_up` with its refund requested and every feed has
delivered what its return published:

- exactly one refund per return, counted by the order service (the sandbox) per return;
- each subscriber received each return's events complete and in sequence (first deliveries
  1, 2, 3, ..., none missing); duplicates (an event ID received again) are allowed and counted.

Prints a report and writes it as JSON to var/bench/marketplace-faults.json, with when, how and
where it was measured (benchmarks/record.py); exit status 0 on a pass.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from temporalio.client import WorkflowHandle

from benchmarks.carrier_faults import count_attempts, until_settled
from benchmarks.record import measured
from benchmarks.running import publish, run_to_exit
from client.start import parse_event, start_return
from devstack.config import StackConfig
from devstack.demo import redate
from devstack.stack import DevStack
from domain.calendar import next_pickup_date
from domain.carriers import ReturnMethod
from domain.returns import ReturnMethodChoice, ReturnStage, ReturnStatus
from plumbing.standard_webhooks import make_secret
from workflows.event_feed import EventFeedWorkflow, feed_id
from workflows.return_workflow import ReturnWorkflow

EVENT = Path("examples/events/01-mailbox-pickup.json")
PARIS = ZoneInfo("Europe/Paris")
SUBSCRIBERS = ("analytics", "marketplace")


@dataclass
class Report:
    returns: int
    error_rate: float
    slow_rate: float
    slow_seconds: float
    marketplace_timeout_seconds: float
    refunded: int = 0
    refunds_per_return: dict[str, int] = field(default_factory=dict)
    events_published: int = 0
    feeds_complete: dict[str, int] = field(default_factory=dict)
    """Per subscriber: the returns whose events it received complete and in sequence."""
    deliveries: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    parked: int = 0
    faults_injected: dict[str, Any] = field(default_factory=dict)
    activity_attempts: int = 0
    activities_retried: int = 0
    seconds_to_refund: list[float] = field(default_factory=list)
    seconds_to_feeds_delivered: float = 0.0
    seconds_total: float = 0.0

    @property
    def passed(self) -> bool:
        one_each = len(self.refunds_per_return) == self.returns and all(
            n == 1 for n in self.refunds_per_return.values()
        )
        feeds = all(self.feeds_complete.get(s) == self.returns for s in SUBSCRIBERS)
        return self.refunded == self.returns and one_each and feeds and self.parked == 0


async def one_return(
    stack: DevStack, sample: bytes, index: int, stamp: str, pickup_day: dt.date
) -> WorkflowHandle[ReturnWorkflow, ReturnStatus]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    event = redate(parse_event(sample), now, f"{stamp}{index:03d}")
    started = await start_return(stack.client, stack.settings, event)
    handle = stack.client.get_workflow_handle_for(ReturnWorkflow.run, started.workflow_id)
    await until_settled(handle, {ReturnStage.AWAITING_CUSTOMER_CHOICE}, within=900)
    choice = ReturnMethodChoice(
        method=ReturnMethod.MAILBOX_PICKUP, carrier="sandbox", pickup_date=pickup_day
    )
    await handle.execute_update(ReturnWorkflow.choose_return_method, choice)
    return handle


async def refunded(
    handle: WorkflowHandle[ReturnWorkflow, ReturnStatus], began: float, within: float
) -> tuple[ReturnStatus, float]:
    async with asyncio.timeout(within):
        while True:
            status = await handle.query(ReturnWorkflow.status)
            if status.stage is ReturnStage.PICKED_UP and status.refund is not None:
                return status, time.monotonic() - began
            await asyncio.sleep(0.5)


async def feed_delivered(
    stack: DevStack, sandbox: httpx.AsyncClient, return_id: str, within: float
) -> tuple[int, int]:
    """(events published, deliveries parked) once every subscriber has had what was published
    (the refund's event among it: the return hands it over a moment after its status shows the
    refund) or is parked."""
    feed = stack.client.get_workflow_handle_for(EventFeedWorkflow.run, feed_id(return_id))
    async with asyncio.timeout(within):
        while True:
            view = await feed.query(EventFeedWorkflow.view)
            parked = sum(s.parked is not None for s in view.subscribers)
            if all(s.delivered == view.published or s.parked for s in view.subscribers):
                received = await sandbox.get("/sandbox/events", params={"return_id": return_id})
                refunds = {
                    e["subscriber"]
                    for e in received.raise_for_status().json()
                    if e["type"] == "return.refund_requested"
                }
                if parked or refunds == set(SUBSCRIBERS):
                    return view.published, parked
            await asyncio.sleep(0.5)


async def run_batch(stack: DevStack, args: argparse.Namespace, report: Report) -> None:
    config = stack.config
    sandbox = httpx.AsyncClient(base_url=config.marketplace_url, timeout=60)
    carrier = httpx.AsyncClient(base_url=config.sandbox_url, timeout=30)
    plan = {
        "error_rate": args.error_rate,
        "error_status": 503,
        "slow_rate": args.slow_rate,
        "slow_seconds": args.slow_seconds,
        "seed": 2026,
    }
    (await sandbox.put("/sandbox/faults", json=plan)).raise_for_status()
    began = time.monotonic()
    stamp = dt.datetime.now(dt.UTC).strftime("%H%M%S")
    pickup_day = next_pickup_date(dt.datetime.now(dt.UTC))
    print(f"{args.returns} returns, mailbox pickup on {pickup_day}; marketplace faults: {plan}")
    sample = EVENT.read_bytes()  # noqa: ASYNC240 - once, before anything runs
    handles = await asyncio.gather(
        *(one_return(stack, sample, i, stamp, pickup_day) for i in range(args.returns))
    )
    print(f"all booked after {time.monotonic() - began:.1f} s; the carrier's round on {pickup_day}")
    round_at = dt.datetime.combine(pickup_day, dt.time(8, 30), tzinfo=PARIS)
    (await carrier.post("/sandbox/clock", json={"now": round_at.isoformat()})).raise_for_status()
    settled = await asyncio.gather(*(refunded(h, began, args.timeout) for h in handles))
    report.refunded = len(settled)
    report.seconds_to_refund = [round(seconds, 1) for _, seconds in settled]
    print(f"all refunded after {time.monotonic() - began:.1f} s; waiting for the feeds")
    feeds = await asyncio.gather(
        *(feed_delivered(stack, sandbox, h.id, args.timeout) for h in handles)
    )
    report.seconds_to_feeds_delivered = round(time.monotonic() - began, 1)
    published = {h.id: n for h, (n, _) in zip(handles, feeds, strict=True)}
    report.events_published = sum(published.values())
    report.parked = sum(p for _, p in feeds)
    report.seconds_total = round(time.monotonic() - began, 1)

    report.faults_injected = (await sandbox.get("/sandbox/faults")).json()["injected"]
    (await sandbox.put("/sandbox/faults", json={})).raise_for_status()
    refunds = (await sandbox.get("/sandbox/refunds")).json()
    per_return = Counter(r["return_id"] for r in refunds)
    report.refunds_per_return = {h.id: per_return.get(h.id, 0) for h in handles}
    for row in (await sandbox.get("/sandbox/feed")).json():
        subscriber, return_id = row["subscriber"], row["return_id"]
        if return_id not in published:
            continue
        whole = row["sequences"] == list(range(1, published[return_id] + 1))
        report.feeds_complete[subscriber] = report.feeds_complete.get(subscriber, 0) + whole
        report.deliveries[subscriber] = report.deliveries.get(subscriber, 0) + row["received"]
        report.duplicates[subscriber] = report.duplicates.get(subscriber, 0) + row["duplicates"]
    await sandbox.aclose()
    await carrier.aclose()
    for handle in handles:
        for workflow_id in (handle.id, feed_id(handle.id)):
            attempts, retried = await count_attempts(stack.client, workflow_id)
            report.activity_attempts += attempts
            report.activities_retried += retried


def summary(report: Report) -> str:
    waits = sorted(report.seconds_to_refund)
    per_return = sorted(set(report.refunds_per_return.values()))
    feeds = ", ".join(
        f"{s} {report.feeds_complete.get(s, 0)}/{report.returns} complete in sequence "
        f"({report.deliveries.get(s, 0)} deliveries, {report.duplicates.get(s, 0)} duplicates)"
        for s in SUBSCRIBERS
    )
    return "\n".join(
        [
            f"returns                       {report.returns}",
            f"picked up and refunded        {report.refunded}",
            f"refunds per return            {per_return} (must be [1])",
            f"events published              {report.events_published}",
            f"feeds                         {feeds}",
            f"deliveries parked             {report.parked} (must be 0)",
            f"faults injected               {json.dumps(report.faults_injected)}",
            f"activity attempts             {report.activity_attempts} "
            f"({report.activities_retried} activities needed a retry)",
            f"withdrawal to refund, p50/max {statistics.median(waits):.1f} s / {waits[-1]:.1f} s",
            f"to every feed delivered       {report.seconds_to_feeds_delivered} s",
            "PASS" if report.passed else "FAIL",
        ]
    )


async def main_async(args: argparse.Namespace) -> int:
    stamp = measured("benchmarks.marketplace_faults", sys.argv[1:])
    var_dir = Path("var/bench/marketplace-faults")
    shutil.rmtree(var_dir, ignore_errors=True)
    # Slow answers outlast the worker's patience: the answer is lost, the call made again.
    os.environ["RETURNFLOW_MARKETPLACE_TIMEOUT_SECONDS"] = str(args.marketplace_timeout)
    report = Report(
        returns=args.returns,
        error_rate=args.error_rate,
        slow_rate=args.slow_rate,
        slow_seconds=args.slow_seconds,
        marketplace_timeout_seconds=args.marketplace_timeout,
    )
    config = StackConfig.on_free_ports(var_dir)
    stack = DevStack(config)
    hooks = f"{config.marketplace_url}/webhooks"
    stack.env["RETURNFLOW_EVENT_SUBSCRIBERS"] = ",".join(f"{s}={hooks}/{s}" for s in SUBSCRIBERS)
    # Each subscriber its own secret: a delivery signed for one is refused by the other.
    secrets = {s: make_secret(f"bench-{s}-secret".encode().ljust(32, b".")) for s in SUBSCRIBERS}
    signed = ",".join(f"{s}={secret}" for s, secret in secrets.items())
    stack.env["RETURNFLOW_EVENT_SUBSCRIBER_SECRETS"] = signed
    stack.env["RETURNFLOW_MARKETPLACE_SANDBOX_WEBHOOK_SECRET"] = signed
    async with stack:
        await run_batch(stack, args, report)
    out = Path("var/bench/marketplace-faults.json")
    return await publish(out, stamp, asdict(report), report.passed, summary(report))


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.marketplace_faults", description=__doc__
    )
    parser.add_argument("--returns", type=int, default=100)
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--slow-rate", type=float, default=0.2)
    parser.add_argument("--slow-seconds", type=float, default=4.0)
    parser.add_argument("--marketplace-timeout", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds to wait for each")
    args = parser.parse_args()
    run_to_exit(lambda: main_async(args))


if __name__ == "__main__":
    main()
