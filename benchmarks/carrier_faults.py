"""A batch of returns through a carrier that fails: every one picked up, nothing made twice.

    python -m benchmarks.carrier_faults [--returns 50] [--error-rate 0.2] [--slow-rate 0.1]

Starts its own embedded stack (dev server, worker, gateway, carrier sandbox, SMTP sink) on free
ports under var/bench/, turns the sandbox's fault injection on for every carrier endpoint, then
plays each return as the customer and the carrier would: the withdrawal, a mailbox pickup on
the first collectable day, and the carrier's round on that morning (the sandbox's clock moves to
08:30 that day), whose acceptance scans reach the returns as signed webhooks through the
gateway. It waits until every return is `picked_up`, then asks the sandbox how many labels and
pickups exist under each return's idempotency keys: exactly one of each is the pass mark.

Prints a report and writes it as JSON to var/bench/carrier-faults.json, with when, how and where
it was measured (benchmarks/record.py); exit status 0 on a pass.
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from benchmarks.record import measured
from benchmarks.running import publish, run_to_exit
from client.start import parse_event, start_return
from devstack.config import StackConfig
from devstack.demo import redate
from devstack.stack import DevStack
from domain.calendar import next_pickup_date
from domain.carriers import ReturnMethod
from domain.returns import ReturnMethodChoice, ReturnStage, ReturnStatus
from workflows.return_workflow import ReturnWorkflow

EVENT = Path("examples/events/01-mailbox-pickup.json")
PARIS = ZoneInfo("Europe/Paris")
CARRIER = "sandbox"


@dataclass
class Report:
    returns: int
    error_rate: float
    slow_rate: float
    slow_seconds: float
    carrier_timeout_seconds: float
    picked_up: int = 0
    labels_per_return: dict[str, int] = field(default_factory=dict)
    pickups_per_return: dict[str, int] = field(default_factory=dict)
    faults_injected: dict[str, Any] = field(default_factory=dict)
    activity_attempts: int = 0
    activities_retried: int = 0
    seconds_to_choice_ready: list[float] = field(default_factory=list)
    seconds_total: float = 0.0
    webhook_deliveries: int = 0
    webhook_attempts: int = 0

    @property
    def passed(self) -> bool:
        one_each = all(n == 1 for n in self.labels_per_return.values()) and all(
            n == 1 for n in self.pickups_per_return.values()
        )
        complete = len(self.labels_per_return) == len(self.pickups_per_return) == self.returns
        return self.picked_up == self.returns and one_each and complete


async def until_settled(
    handle: WorkflowHandle[ReturnWorkflow, ReturnStatus], stages: set[ReturnStage], within: float
) -> ReturnStatus:
    """The return's status once it is in one of `stages` (read with the `status` query)."""
    async with asyncio.timeout(within):
        while True:
            status = await handle.query(ReturnWorkflow.status)
            if status.stage in stages:
                return status
            await asyncio.sleep(0.2)


async def one_return(
    stack: DevStack, sample: bytes, index: int, stamp: str, pickup_day: dt.date, report: Report
) -> WorkflowHandle[ReturnWorkflow, ReturnStatus]:
    """The customer withdraws and books a mailbox pickup; the update returns once it is booked."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    event = redate(parse_event(sample), now, f"{stamp}{index:03d}")
    started = await start_return(stack.client, stack.settings, event)
    handle = stack.client.get_workflow_handle_for(ReturnWorkflow.run, started.workflow_id)
    await until_settled(handle, {ReturnStage.AWAITING_CUSTOMER_CHOICE}, within=600)
    choice = ReturnMethodChoice(
        method=ReturnMethod.MAILBOX_PICKUP, carrier=CARRIER, pickup_date=pickup_day
    )
    began = time.monotonic()
    await handle.execute_update(ReturnWorkflow.choose_return_method, choice)
    report.seconds_to_choice_ready.append(time.monotonic() - began)
    return handle


async def count_attempts(client: Client, workflow_id: str) -> tuple[int, int]:
    """Activity attempts in the return's history, and how many activities needed a retry."""
    attempts = retried = 0
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            tries = event.activity_task_started_event_attributes.attempt
            attempts += tries
            retried += tries > 1
    return attempts, retried


async def run_batch(stack: DevStack, args: argparse.Namespace, report: Report) -> None:
    sandbox = httpx.AsyncClient(base_url=stack.config.sandbox_url, timeout=30)
    faults = {
        "rules": [
            {
                "endpoint": "*",
                "error_rate": args.error_rate,
                "slow_rate": args.slow_rate,
                "slow_seconds": args.slow_seconds,
            }
        ]
    }
    (await sandbox.put("/sandbox/faults", json=faults)).raise_for_status()
    began = time.monotonic()
    stamp = dt.datetime.now(dt.UTC).strftime("%H%M%S")
    pickup_day = next_pickup_date(dt.datetime.now(dt.UTC))
    print(f"{args.returns} returns, mailbox pickup on {pickup_day}; faults: {faults['rules'][0]}")
    sample = EVENT.read_bytes()  # noqa: ASYNC240 - once, before anything runs
    handles = await asyncio.gather(
        *(one_return(stack, sample, i, stamp, pickup_day, report) for i in range(args.returns))
    )
    print(f"all booked after {time.monotonic() - began:.1f} s; the carrier's round on {pickup_day}")

    round_at = dt.datetime.combine(pickup_day, dt.time(8, 30), tzinfo=PARIS)
    (await sandbox.post("/sandbox/clock", json={"now": round_at.isoformat()})).raise_for_status()
    finals = await asyncio.gather(
        *(until_settled(h, {ReturnStage.PICKED_UP}, within=args.timeout) for h in handles)
    )
    report.seconds_total = round(time.monotonic() - began, 1)
    report.picked_up = sum(s.stage is ReturnStage.PICKED_UP for s in finals)

    keys = (await sandbox.get("/sandbox/idempotency-keys")).json()["keys"]
    for handle in handles:
        made = {k["key"]: k["created"] for k in keys if k["key"].startswith(f"{handle.id}:")}
        report.labels_per_return[handle.id] = sum(
            n for key, n in made.items() if key.startswith(f"{handle.id}:label:")
        )
        report.pickups_per_return[handle.id] = sum(
            n for key, n in made.items() if key.startswith(f"{handle.id}:pickup:")
        )
    report.faults_injected = (await sandbox.get("/sandbox/faults/stats")).json()
    deliveries = (await sandbox.get("/sandbox/webhook-deliveries")).json()
    events = deliveries["deliveries"]
    report.webhook_deliveries = len(events)
    report.webhook_attempts = sum(int(e.get("attempts", 0)) for e in events)
    await sandbox.aclose()
    for handle in handles:
        attempts, retried = await count_attempts(stack.client, handle.id)
        report.activity_attempts += attempts
        report.activities_retried += retried


def summary(report: Report) -> str:
    ready = sorted(report.seconds_to_choice_ready)
    labels = sorted(set(report.labels_per_return.values()))
    pickups = sorted(set(report.pickups_per_return.values()))
    return "\n".join(
        [
            f"returns                     {report.returns}",
            f"picked_up                   {report.picked_up}",
            f"labels per return           {labels} (must be [1])",
            f"pickups per return          {pickups} (must be [1])",
            f"faults injected             {json.dumps(report.faults_injected)}",
            f"activity attempts           {report.activity_attempts} "
            f"({report.activities_retried} activities needed a retry)",
            f"webhooks                    {report.webhook_deliveries} events, "
            f"{report.webhook_attempts} delivery attempts",
            f"choice update, p50 / max    {statistics.median(ready):.1f} s / {ready[-1]:.1f} s",
            f"wall time, start to last pickup confirmed  {report.seconds_total} s",
            "PASS" if report.passed else "FAIL",
        ]
    )


async def main_async(args: argparse.Namespace) -> int:
    stamp = measured("benchmarks.carrier_faults", sys.argv[1:])
    var_dir = Path("var/bench/carrier-faults")
    shutil.rmtree(var_dir, ignore_errors=True)
    # Slow answers must outlast the worker's patience, so that some responses are lost for good
    # and the activity retries under the same key.
    os.environ["RETURNFLOW_CARRIER_TIMEOUT_SECONDS"] = str(args.carrier_timeout)
    report = Report(
        returns=args.returns,
        error_rate=args.error_rate,
        slow_rate=args.slow_rate,
        slow_seconds=args.slow_seconds,
        carrier_timeout_seconds=args.carrier_timeout,
    )
    async with DevStack(StackConfig.on_free_ports(var_dir)) as stack:
        await run_batch(stack, args, report)
    out = Path("var/bench/carrier-faults.json")
    return await publish(out, stamp, asdict(report), report.passed, summary(report))


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.carrier_faults", description=__doc__
    )
    parser.add_argument("--returns", type=int, default=50)
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--slow-rate", type=float, default=0.1)
    parser.add_argument("--slow-seconds", type=float, default=4.0)
    parser.add_argument("--carrier-timeout", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for pickups")
    args = parser.parse_args()
    run_to_exit(lambda: main_async(args))


if __name__ == "__main__":
    main()
