"""Returns end to end through the embedded stack: how many a second, against a bare ceiling.

    python -m benchmarks.returns_load [--mode throughput|in-flight|crash] [--returns 300]
        [--concurrency 20] [--in-flight 10000] [--kills 5] [--sqlite-pragmas "…"]
        [--without-feed]

Starts its own embedded stack on free ports under var/bench/returns-load/ and plays returns of
the happy path (benchmarks/returns_paths.py) up to the proof of dispatch: `picked_up`, the
refund requested, the pickup notice and the seller's inbound notice sent. Each return goes
through the gateway over HTTP as in production: the order service's signed event, the customer's
choice of a mailbox pickup once the address email is in the mail sink, the carrier sandbox's
acceptance scan and its signed webhook. `--concurrency` returns are on their way at a time;
`--warmup` returns of each kind are played first and not counted, and each measured batch
waits `--settle` seconds first.

- `throughput` (the default): `--returns` bare returns (benchmarks/bare_return.py: the same
  commands, activities that do nothing, a worker process of their own), `--returns` bare ones
  with a bare event feed each, then `--returns` real ones, on the same dev server. Reports
  returns per second of each and the ratios (the goal: real at least 0.9 of bare), the choice's
  latency as the customer app sees it (p50/p90/p99), the history events and billable actions
  per return (and of each event feed), the requests Temporal served per return, the CPU each
  process used and the peak RSS of every process.
- `in-flight`: `--returns` real returns alone; then `--in-flight` returns withdrawn and left
  waiting for their customer's choice; the worker's RSS with them; `--returns` real returns
  again while they wait.
- `crash`: `--returns` real returns while the worker is killed with SIGKILL `--kills` times
  and started again; then what was made twice: labels and pickups (the carrier sandbox's
  idempotency keys), refunds (the order service), emails (Message-IDs in the mail sink).

Prints a report and writes it as JSON to var/bench/returns-load.json (returns-in-flight.json,
returns-crash.json), with when, how and where it was measured (benchmarks/record.py); exit
status 0 when every return got there (and, under `crash`, every kill took place and no label,
pickup or refund was made twice; an email sent twice is shown, not failed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from unittest import mock

from benchmarks import returns_measure as measure
from benchmarks.gateway_load import machine_cpu_seconds, percentiles, stack_options
from benchmarks.record import measured
from benchmarks.returns_paths import (
    NOTICES_PER_RETURN,
    Played,
    RealReturns,
    play_all,
    play_bare,
    real_players,
)
from benchmarks.returns_paths import withdrawals as make_withdrawals
from benchmarks.returns_report import FIRST_EVENTS, Batch, Report, summary
from benchmarks.running import publish, run_to_exit
from devstack.config import StackConfig
from devstack.stack import DevStack
from domain import ids
from domain.events import RetractEvent
from domain.notices import NoticeKind
from plumbing.settings import Settings
from worker import worker_tuning_of
from workflows.event_feed import feed_id

VAR_DIR = Path("var/bench/returns-load")
FEED_SETTINGS = (
    "RETURNFLOW_EVENT_SUBSCRIBERS",
    "RETURNFLOW_EVENT_SUBSCRIBER_SECRETS",
    "RETURNFLOW_EVENT_SUBSCRIBERS_PERSONAL",
)
"""What gives the stack's returns their event feed (`--without-feed` leaves them out)."""
REPORTS = {
    "throughput": Path("var/bench/returns-load.json"),
    "in-flight": Path("var/bench/returns-in-flight.json"),
    "crash": Path("var/bench/returns-crash.json"),
}

Play = Callable[[RetractEvent], Awaitable[Played]]


class Run:
    """One benchmark run on its stack: the batches it plays and what it reads meanwhile."""

    def __init__(self, stack: DevStack, args: argparse.Namespace, stamp: str) -> None:
        self.stack = stack
        self.args = args
        self.stamp = stamp
        self.bare_worker: dict[str, int] = {}
        """The bare returns' worker process, while it runs."""
        self.bare_peak_mb = 0.0
        """The bare returns' worker's peak RSS."""

    def withdrawals(self, tag: str, count: int) -> list[RetractEvent]:
        return make_withdrawals(f"ORD-{self.stamp}{tag}-", count)

    async def batch(
        self,
        kind: str,
        play: Play,
        tag: str,
        *,
        count_cpu: bool = True,
    ) -> Batch:
        """`--warmup` returns, then `--returns` measured ones, played `--concurrency` at once."""
        args = self.args
        if args.warmup:
            await play_all(play, self.withdrawals(f"{tag}W", args.warmup), args.concurrency, 120)
        # Temporal checks the timeouts of what came before (a workflow task's 10 s, an
        # activity's heartbeat's 20 s) when they fall due: not on this batch's clock.
        await asyncio.sleep(args.settle)
        events = self.withdrawals(tag, args.returns)
        processes = measure.pids(self.stack, self.bare_worker)
        requests_before = await measure.temporal_requests(self.stack)
        cpu_before = measure.cpu_seconds(processes)
        machine_before = machine_cpu_seconds()
        print(f"{args.returns} {kind} returns, {args.concurrency} at a time ...")
        began = time.monotonic()
        played = await play_all(play, events, args.concurrency, args.timeout)
        ended = time.monotonic()
        machine_after = machine_cpu_seconds()
        cpu_after = measure.cpu_seconds(processes)
        # The dev server's counters reach its metrics once a second.
        await asyncio.sleep(measure.METRICS_EVERY)
        requests = measure.per_return(
            requests_before, await measure.temporal_requests(self.stack), args.returns
        )
        done = [p for p in played if p.done is not None]
        seconds = max((p.done or began for p in done), default=ended) - began
        batch = Batch(
            kind=kind,
            returns=args.returns,
            completed=len(done),
            failures=[f"{p.return_id}: {p.error}" for p in played if p.done is None][:50],
            seconds=round(seconds, 2),
            returns_per_second=round(len(done) / seconds, 2) if seconds > 0 else 0.0,
            seconds_per_return=percentiles([(p.done or 0) - p.sent for p in done]),
            choice_ms=percentiles([p.choice_seconds for p in done if p.choice_seconds]),
            retried=dict(sum((p.retried for p in played), Counter[str]())),
            choice_answered_later=sum(p.choice_answered_later for p in played),
            workflow_ids=sorted(p.return_id for p in done),
            temporal_requests=requests,
        )
        if count_cpu:
            used = measure.cpu_used(cpu_before, cpu_after)
            busy = machine_after[0] - machine_before[0]
            batch.cpu_seconds = used
            batch.machine_cpu_busy_percent = round(
                100 * busy / max(machine_after[1] - machine_before[1], 1e-9)
            )
            # Another process's share: figures measured beside a busy neighbour differ.
            batch.cpu_seconds_elsewhere = round(busy - sum(used.values()), 1)
        print(
            f"  {batch.completed}/{batch.returns} in {batch.seconds:.1f} s: "
            f"{batch.returns_per_second:.2f} returns/s"
        )
        return batch

    async def costs(self, batch: Batch, with_feed: bool) -> None:
        """The histories of a sample of the batch's workflows (and of their event feeds)."""
        client, sample = self.stack.client, self.args.histories
        batch.history = asdict(await measure.history_cost(client, batch.workflow_ids, sample))
        if with_feed:
            feeds = [feed_id(r) for r in batch.workflow_ids]
            batch.feed_history = asdict(await measure.history_cost(client, feeds, sample))

    async def bare(self) -> tuple[Batch, Batch]:
        """The bare returns, then the bare returns with their event feeds."""
        worker = await measure.start_bare_worker(self.stack)
        self.bare_worker = {"bare worker": worker.pid or 0}
        client = self.stack.client
        try:
            alone = await self.batch("bare", lambda e: play_bare(client, e), "B")
            fed = await self.batch(
                "bare with feed", lambda e: play_bare(client, e, with_feed=True), "BF"
            )
            self.bare_peak_mb = measure.rss_mb(self.bare_worker).get("bare worker", 0.0)
        finally:
            self.bare_worker = {}
            await worker.stop()
        await self.costs(alone, with_feed=False)
        await self.costs(fed, with_feed=True)
        return alone, fed


async def throughput(run: Run, real: RealReturns, report: Report) -> None:
    alone, fed = await run.bare()
    report.bare, report.bare_with_feed = asdict(alone), asdict(fed)
    batch = await run.batch("real", real.play, "R")
    await run.costs(batch, with_feed=report.event_feed)
    report.real = asdict(batch)
    report.peak_rss_mb = measure.rss_mb(measure.pids(run.stack))
    report.peak_rss_mb["bare worker"] = run.bare_peak_mb


async def in_flight(run: Run, real: RealReturns, report: Report) -> None:
    args = run.args
    alone = await run.batch("real", real.play, "A")
    # Counted once the batch's feeds are done: their last deliveries are not the waiting ones'.
    delivered_before = await measure.settled_deliveries(run.stack, args.in_flight_timeout)
    rss_before = measure.rss_mb(measure.pids(run.stack), "VmRSS")
    events = run.withdrawals("F", args.in_flight)
    print(f"{args.in_flight} returns withdrawn and left waiting for their customer ...")
    began = time.monotonic()
    sent = await play_all(real.leave_waiting, events, args.concurrency, args.timeout)
    prefix = f"{ids.PREFIX}ORD-{run.stamp}F-"
    waiting = await real.mail.count_until(
        NoticeKind.RETURN_ADDRESS, prefix, args.in_flight, args.in_flight_timeout
    )
    seconds = time.monotonic() - began
    # Their feeds deliver their first three events each: the batch below is timed once they
    # are out, on a steady state rather than against that backlog.
    expected = delivered_before + FIRST_EVENTS * args.in_flight
    delivered = await measure.until_delivered(run.stack, expected, args.in_flight_timeout)
    drained = time.monotonic() - began
    processes = measure.pids(run.stack)
    rss_waiting = measure.rss_mb(processes, "VmRSS")
    batch = await run.batch("real", real.play, "R")
    await run.costs(batch, with_feed=True)
    report.real = asdict(batch)
    report.in_flight = {
        "returns": args.in_flight,
        "withdrawn": sum(p.done is not None for p in sent),
        "waiting_for_choice": waiting,
        "seconds_to_all_waiting": round(seconds, 1),
        "events_delivered": delivered - delivered_before,
        "seconds_to_feeds_delivered": round(drained, 1),
        "rss_mb_before": rss_before,
        "rss_mb_while_waiting": rss_waiting,
        "rss_mb_after": measure.rss_mb(processes, "VmRSS"),
        "alone": asdict(alone),
    }
    report.peak_rss_mb = measure.rss_mb(processes)


async def crash(run: Run, real: RealReturns, report: Report) -> None:
    args = run.args
    killer = measure.WorkerKiller(run.stack)
    batch_ids = f"{ids.PREFIX}ORD-{run.stamp}C-"
    emails = args.returns * NOTICES_PER_RETURN
    rng = random.Random(args.seed)
    killing = measure.start_killing(killer, args.kills, real.mail, batch_ids, emails, rng)
    try:
        batch = await run.batch("real", real.play, "C", count_cpu=False)
    finally:
        await measure.stop_killing(killing, killer)
    await run.costs(batch, with_feed=False)
    report.real = asdict(batch)
    # Every return the batch played, those a kill kept from completing too: what was made
    # twice is likeliest there.
    played = [
        ids.return_id(e.order.order_id, e.order.line_id) for e in run.withdrawals("C", args.returns)
    ]
    found = await measure.duplicates(run.stack, played)
    report.crash = {
        "kills_asked": args.kills,
        "kills": [asdict(c) for c in killer.crashes],
        "batch_emails": emails,
        "duplicates": asdict(found),
        "send_window_ms": measure.send_window_ms(run.stack, played),
    }
    report.peak_rss_mb = measure.rss_mb(measure.pids(run.stack))
    # The worker's: the highest of the killed ones and the one running now.
    report.peak_rss_mb["worker"] = max(report.peak_rss_mb.get("worker", 0.0), killer.peak_mb)


MODES = {"throughput": throughput, "in-flight": in_flight, "crash": crash}


def stack_for(args: argparse.Namespace, config: StackConfig) -> DevStack:
    """The run's stack, not started yet: its workers without event feed subscribers when
    `args` ask for it."""
    stack = DevStack(config)
    if args.without_feed:
        # Set empty rather than left out: the workers inherit the shell's environment and
        # read `.env`, where a subscriber could otherwise come back.
        for setting in FEED_SETTINGS:
            stack.env[setting] = ""
    return stack


async def run_mode(args: argparse.Namespace, var_dir: Path) -> Report:
    """The run `args` ask for, on a stack of its own under `var_dir`."""
    report = Report.of(args)
    began = time.monotonic()
    config = StackConfig.on_free_ports(var_dir, **stack_options(args))
    # The order service, the customer app and the carrier all reach the gateway from loopback
    # here: exempt from the per-source rate limits, as production exempts the order service's
    # egress. The stack's processes (a restarted worker too) inherit it for the run.
    exempt = {"RETURNFLOW_GATEWAY_RATE_LIMIT_EXEMPT": "127.0.0.1"}
    stack = stack_for(args, config)
    report.event_feed = bool(stack.env.get("RETURNFLOW_EVENT_SUBSCRIBERS"))
    with mock.patch.dict(os.environ, exempt):
        async with stack, real_players(stack, args.concurrency) as real:
            report.sqlite_pragmas = stack.config.sqlite_pragmas
            # What the stack's workers read (the environment, then .env), as they read it.
            report.worker_settings = {
                f"RETURNFLOW_{name.upper()}": str(value)
                for name, value in worker_tuning_of(Settings()).items()
            }
            run = Run(stack, args, time.strftime("%y%m%d%H%M%S"))
            await MODES[args.mode](run, real, report)
    report.wall_seconds = round(time.monotonic() - began, 1)
    return report


async def main_async(args: argparse.Namespace) -> int:
    stamp = measured("benchmarks.returns_load", sys.argv[1:])
    shutil.rmtree(VAR_DIR, ignore_errors=True)
    report = await run_mode(args, VAR_DIR)
    return await publish(
        REPORTS[args.mode], stamp, report.as_json(), report.passed, summary(report)
    )


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.returns_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--mode", choices=sorted(MODES), default="throughput", help="what to measure (above)"
    )
    parser.add_argument("--returns", type=int, default=300, help="returns measured per batch")
    parser.add_argument("--concurrency", type=int, default=20, help="returns on their way at once")
    parser.add_argument("--warmup", type=int, default=5, help="returns played first, not counted")
    parser.add_argument(
        "--in-flight", type=int, default=10000, help="returns left waiting (mode in-flight)"
    )
    parser.add_argument("--kills", type=int, default=5, help="worker kills (mode crash)")
    parser.add_argument("--seed", type=int, default=11, help="when each kill falls (mode crash)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds each return may take")
    parser.add_argument(
        "--settle",
        type=float,
        default=25.0,
        help="seconds of pause before each measured batch, for the timeouts of the one before",
    )
    parser.add_argument(
        "--in-flight-timeout",
        type=float,
        default=3600.0,
        help="seconds the returns left waiting may take to all be waiting",
    )
    parser.add_argument(
        "--histories", type=int, default=30, help="histories read per batch for their cost"
    )
    parser.add_argument(
        "--without-feed",
        action="store_true",
        help="the stack's workers with no event feed subscriber: real returns start no feed "
        "(mode throughput)",
    )
    parser.add_argument(
        "--sqlite-pragmas",
        default=None,
        help="the dev server's SQLite pragmas (default: the dev stack's; '' for SQLite's own)",
    )
    return parser


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    options = parser()
    args = options.parse_args(argv)
    if args.without_feed and args.mode != "throughput":
        # The other modes wait for the feeds' deliveries or count on them.
        options.error("--without-feed: only with --mode throughput")
    return args


def main() -> None:
    args = arguments()
    run_to_exit(lambda: main_async(args))


if __name__ == "__main__":
    main()
