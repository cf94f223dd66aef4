"""1,000 signed order events through the gateway: how fast each is acknowledged, none lost.

    python -m benchmarks.gateway_load [--events 1000] [--duplicates 0.1] [--concurrency 20]

Starts its own embedded stack (dev server, worker, gateway, carrier sandbox, SMTP sink) on free
ports under var/bench/, then plays the order service: `--events` POSTs to `/v1/events`, of
which a share (`--duplicates`) are redeliveries of an event already in the batch (the same
bytes, signed again when sent), shuffled, sent by `--concurrency` senders over one keep-alive
HTTP client. Each event is one of the samples in examples/events/ re-dated to now, with an order
number of its own. A 503 is retried after a short pause, as a real sender would; any other
answer but 202 (created) or 200 (duplicate) is a failure. The worker runs the returns meanwhile
(eligibility, the acknowledgement email), on the same machine.

Reports the answers by status, the acknowledgement latency (request sent → answer received),
the throughput, the gateway's peak RSS and the CPU each service used during the load, and the
number of returns visibility finds afterwards: exactly one per distinct event is the pass mark.

Prints a report and writes it as JSON to var/bench/gateway-load.json, with when, how and where
it was measured (benchmarks/record.py); exit status 0 on a pass.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import resource
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.record import measured
from benchmarks.running import publish, run_to_exit
from client.start import parse_event
from devstack.config import StackConfig
from devstack.demo import redate
from devstack.stack import DevStack
from domain.events import RetractEvent
from plumbing.signing import signed_headers

SAMPLES = sorted(Path("examples/events").glob("*.json"))
VAR_DIR = Path("var/bench/gateway-load")
REPORT = Path("var/bench/gateway-load.json")
MAX_ATTEMPTS = 20
"""A sender gives an event up after this many 503s (or lost connections) in a row."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Send:
    """One POST the order service makes: an event's bytes, the first delivery or a redelivery."""

    index: int
    body: bytes
    redelivery: bool


@dataclass
class Report:
    events_sent: int
    distinct: int
    redeliveries: int
    concurrency: int
    order_prefix: str
    sqlite_pragmas: str = ""
    """The dev server's SQLite pragmas during the run (empty: SQLite's own defaults)."""
    answers: dict[str, int] = field(default_factory=dict)
    retried_503: int = 0
    retried_transport: int = 0
    failures: list[str] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    latency_ms_created: dict[str, float] = field(default_factory=dict)
    latency_ms_duplicate: dict[str, float] = field(default_factory=dict)
    load_seconds: float = 0.0
    events_per_second: float = 0.0
    returns_found: int = -1
    visibility_seconds: float = 0.0
    past_intake_at_count: int = -1
    """Returns the worker had taken past `checking_eligibility` when they were counted."""
    notices_sent_at_count: int = -1
    gateway_peak_rss_mb: float = 0.0
    cpu_seconds_during_load: dict[str, float] = field(default_factory=dict)
    machine_cpu_busy_percent: int = 0
    cpu_seconds_elsewhere: float = 0.0
    wall_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.returns_found == self.distinct and not self.failures

    @classmethod
    def of(cls, args: argparse.Namespace) -> Report:
        """An empty report of a load run with `args` (`load_arguments`)."""
        return cls(
            events_sent=args.events,
            distinct=0,
            redeliveries=0,
            concurrency=args.concurrency,
            order_prefix="",
        )


def build_sends(
    count: int, duplicates: float, stamp: str, rng: random.Random
) -> tuple[list[Send], str]:
    """`count` sends, `duplicates` of them redeliveries, shuffled; and the runs' order prefix."""
    redeliveries = round(count * duplicates)
    distinct = count - redeliveries
    if distinct < 1:
        raise SystemExit("--duplicates leaves no distinct event to send")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    samples = [parse_event(path.read_bytes()) for path in SAMPLES]
    prefix = f"ORD-{stamp}-"
    bodies = []
    for i in range(distinct):
        event = redate(samples[i % len(samples)], now, stamp)
        bodies.append(own_ids(event, prefix, i).model_dump_json().encode())
    sends = [Send(i, body, redelivery=False) for i, body in enumerate(bodies)]
    for _ in range(redeliveries):
        i = rng.randrange(distinct)
        sends.append(Send(i, bodies[i], redelivery=True))
    rng.shuffle(sends)
    return sends, prefix


def own_ids(event: RetractEvent, prefix: str, i: int) -> RetractEvent:
    """The sample as event number `i` of the run: its own event ID, order and customer."""
    order = event.order.model_copy(update={"order_id": f"{prefix}{i:05d}"})
    customer = event.customer.model_copy(update={"customer_id": f"CUST-L{i:05d}"})
    return event.model_copy(
        update={"event_id": f"EVT-{prefix}{i:05d}", "order": order, "customer": customer}
    )


@dataclass
class Load:
    """What the senders saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies: dict[int, list[float]] = field(default_factory=dict)
    retried_503: int = 0
    retried_transport: int = 0
    last_transport_error: str = ""
    failures: list[str] = field(default_factory=list)


async def deliver(
    http: httpx.AsyncClient, secret: str, send: Send, load: Load, retry_pause: float
) -> None:
    """POST one event until it is acknowledged (202 or 200), retrying 503s after a pause."""
    for _attempt in range(MAX_ATTEMPTS):
        headers = {"Content-Type": "application/json"}
        headers |= signed_headers(secret, send.body)  # signed as it leaves: 300 s tolerance
        began = time.perf_counter()
        try:
            answer = await http.post("/v1/events", content=send.body, headers=headers)
        except httpx.TransportError as err:
            load.retried_transport += 1
            load.last_transport_error = f"{type(err).__name__}: {err}"
            await asyncio.sleep(retry_pause)
            continue
        took = time.perf_counter() - began
        load.statuses[answer.status_code] += 1
        load.latencies.setdefault(answer.status_code, []).append(took)
        if answer.status_code in (200, 202):
            return
        if answer.status_code == 503:
            load.retried_503 += 1
            await asyncio.sleep(retry_pause)
            continue
        load.failures.append(f"event {send.index}: {answer.status_code} {answer.text}")
        return
    last = f" (last: {load.last_transport_error})" if load.last_transport_error else ""
    load.failures.append(f"event {send.index}: given up after {MAX_ATTEMPTS} attempts{last}")


async def send_all(
    stack: DevStack, sends: list[Send], concurrency: int, retry_pause: float, load: Load
) -> None:
    """`concurrency` senders share the queue of sends and one keep-alive client."""
    queue: asyncio.Queue[Send] = asyncio.Queue()
    for send in sends:
        queue.put_nowait(send)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    secret = stack.config.event_secret
    async with httpx.AsyncClient(
        base_url=stack.config.gateway_url, timeout=60, limits=limits
    ) as http:
        # As a load balancer would: send only once the gateway says Temporal answers (its
        # client connects on first use).
        async with asyncio.timeout(30):
            while True:
                if (await http.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.2)

        async def sender() -> None:
            while not queue.empty():
                await deliver(http, secret, queue.get_nowait(), load, retry_pause)

        await asyncio.gather(*(sender() for _ in range(concurrency)))


async def count_returns(stack: DevStack, prefix: str, expected: int, within: float) -> int:
    """Returns of this run, as visibility counts them, once it has caught up (or the deadline)."""
    query = f"WorkflowType = 'ReturnWorkflow' AND OrderId STARTS_WITH '{prefix}'"
    deadline = time.monotonic() + within
    while True:
        count = (await stack.client.count_workflows(query)).count
        if count >= expected or time.monotonic() > deadline:
            # Once more after a pause: a count past the mark would show up now.
            await asyncio.sleep(1.0)
            return (await stack.client.count_workflows(query)).count
        await asyncio.sleep(0.5)


def proc_status(pid: int, key: str) -> float:
    """A `kB` figure of /proc/<pid>/status (VmHWM: the peak RSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process `pid` has used so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_seconds(stack: DevStack) -> dict[str, float]:
    """User + system CPU seconds each service of the stack has used so far."""
    used = {}
    for proc in stack.processes:
        if proc.pid is None or proc.exited:
            continue
        used[proc.name] = process_cpu_seconds(proc.pid)
    own = resource.getrusage(resource.RUSAGE_SELF)
    used["load script"] = own.ru_utime + own.ru_stime
    return used


def machine_cpu_seconds() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far (all cores, /proc/stat)."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / CLOCK_TICKS, sum(ticks) / CLOCK_TICKS


def percentiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    ordered = sorted(seconds)

    def at(q: float) -> float:
        # Nearest rank: the smallest latency at or above q of the answers.
        rank = max(1, -(-len(ordered) * q // 100))
        return round(ordered[int(rank) - 1] * 1000, 1)

    return {
        "p50": at(50),
        "p90": at(90),
        "p99": at(99),
        "max": round(ordered[-1] * 1000, 1),
        "mean": round(sum(ordered) / len(ordered) * 1000, 1),
    }


def stack_options(args: argparse.Namespace) -> dict[str, Any]:
    """The stack's settings the options change (the dev server's SQLite pragmas)."""
    return {} if args.sqlite_pragmas is None else {"sqlite_pragmas": args.sqlite_pragmas}


async def run_load(stack: DevStack, args: argparse.Namespace, report: Report) -> None:
    rng = random.Random(args.seed)
    report.sqlite_pragmas = stack.config.sqlite_pragmas
    stamp = dt.datetime.now(dt.UTC).strftime("%y%m%d%H%M%S")
    sends, report.order_prefix = build_sends(args.events, args.duplicates, stamp, rng)
    report.distinct = len({s.index for s in sends})
    report.redeliveries = sum(s.redelivery for s in sends)
    print(
        f"{len(sends)} signed events ({report.distinct} distinct, {report.redeliveries} "
        f"redeliveries), {args.concurrency} at a time, order numbers {report.order_prefix}*"
    )
    load = Load()
    cpu_before = cpu_seconds(stack)
    machine_before = machine_cpu_seconds()
    began = time.monotonic()
    await send_all(stack, sends, args.concurrency, args.retry_pause, load)
    report.load_seconds = round(time.monotonic() - began, 2)
    cpu_after = cpu_seconds(stack)
    machine_after = machine_cpu_seconds()
    report.cpu_seconds_during_load = {
        name: round(cpu_after[name] - cpu_before.get(name, 0.0), 1) for name in cpu_after
    }
    busy = machine_after[0] - machine_before[0]
    report.machine_cpu_busy_percent = round(100 * busy / (machine_after[1] - machine_before[1]))
    # Another process's share: figures measured beside a busy neighbour are not comparable.
    report.cpu_seconds_elsewhere = round(busy - sum(report.cpu_seconds_during_load.values()), 1)
    answered = load.statuses[202] + load.statuses[200]
    report.events_per_second = round(answered / report.load_seconds, 1)
    report.answers = {str(code): n for code, n in sorted(load.statuses.items())}
    report.retried_503 = load.retried_503
    report.retried_transport = load.retried_transport
    report.failures = load.failures
    report.latency_ms = percentiles([t for ts in load.latencies.values() for t in ts])
    report.latency_ms_created = percentiles(load.latencies.get(202, []))
    report.latency_ms_duplicate = percentiles(load.latencies.get(200, []))
    gateway = next(p for p in stack.processes if p.name == "gateway")
    assert gateway.pid is not None
    report.gateway_peak_rss_mb = round(proc_status(gateway.pid, "VmHWM"), 1)
    print(f"all answered after {report.load_seconds:.1f} s; counting the returns ...")
    seen = time.monotonic()
    report.returns_found = await count_returns(
        stack, report.order_prefix, report.distinct, args.visibility_timeout
    )
    report.visibility_seconds = round(time.monotonic() - seen, 1)
    # How far the worker, sharing the two cores, has got with the returns meanwhile.
    prefix = report.order_prefix
    behind = f"OrderId STARTS_WITH '{prefix}' AND ReturnStage = 'checking_eligibility'"
    still = (await stack.client.count_workflows(behind)).count
    report.past_intake_at_count = report.returns_found - still
    report.notices_sent_at_count = len(list(stack.config.mail_dir.glob("*.eml")))


def latency_line(name: str, figures: dict[str, float]) -> str:
    if not figures:
        return f"{name:<36}-"
    shown = " / ".join(f"{figures[k]:.0f}" for k in ("p50", "p90", "p99", "max"))
    return f"{name:<36}{shown} ms"


def summary(report: Report) -> str:
    answers = Counter({int(code): n for code, n in report.answers.items()})
    other = sum(n for code, n in answers.items() if code not in (200, 202, 503))
    cpu = ", ".join(f"{name} {s:.1f}" for name, s in report.cpu_seconds_during_load.items())
    lines = [
        f"events sent                         {report.events_sent} "
        f"({report.distinct} distinct, {report.redeliveries} redeliveries), "
        f"concurrency {report.concurrency}",
        f"answers                             202 created {answers[202]}, "
        f"200 duplicate {answers[200]}, 503 retried {answers[503]}, other {other}"
        + (f", connections lost {report.retried_transport}" if report.retried_transport else ""),
        latency_line("ack latency p50 / p90 / p99 / max", report.latency_ms),
        latency_line("  of 202 created", report.latency_ms_created),
        latency_line("  of 200 duplicate", report.latency_ms_duplicate),
        f"throughput                          {report.events_per_second:.1f} events/s "
        f"({report.load_seconds:.1f} s for the batch)",
        f"gateway peak RSS                    {report.gateway_peak_rss_mb:.0f} MB",
        f"CPU seconds during the load         {cpu}; anything else "
        f"{report.cpu_seconds_elsewhere:.1f} (machine {report.machine_cpu_busy_percent} % busy)",
        f"returns found through visibility    {report.returns_found} "
        f"(must be {report.distinct}; {report.visibility_seconds:.1f} s after the last answer)",
        f"worker's progress at the count      {report.past_intake_at_count} returns past "
        f"intake, {report.notices_sent_at_count} emails sent",
        "the dev server's SQLite pragmas     " + (report.sqlite_pragmas or "SQLite's defaults"),
        f"wall time, stack start and stop     {report.wall_seconds:.1f} s",
    ]
    for failure in report.failures[:20]:
        lines.append(f"  failure: {failure}")
    if len(report.failures) > 20:
        lines.append(f"  ... and {len(report.failures) - 20} more failures (see the JSON report)")
    lines.append("PASS" if report.passed else "FAIL")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    stamp = measured("benchmarks.gateway_load", sys.argv[1:])
    shutil.rmtree(VAR_DIR, ignore_errors=True)
    report = Report.of(args)
    began = time.monotonic()
    async with DevStack(StackConfig.on_free_ports(VAR_DIR, **stack_options(args))) as stack:
        await run_load(stack, args, report)
    report.wall_seconds = round(time.monotonic() - began, 1)
    return await publish(REPORT, stamp, asdict(report), report.passed, summary(report))


def load_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of one load (`run_load`), for this script and those that play it."""
    parser.add_argument("--events", type=int, default=1000, help="POSTs to send in all")
    parser.add_argument(
        "--duplicates", type=float, default=0.1, help="share of the POSTs that are redeliveries"
    )
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight at most")
    parser.add_argument(
        "--retry-pause", type=float, default=1.0, help="seconds a sender waits after a 503"
    )
    parser.add_argument("--seed", type=int, default=5, help="which events are redelivered")
    parser.add_argument(
        "--visibility-timeout",
        type=float,
        default=120.0,
        help="seconds to wait for visibility to count every return",
    )
    parser.add_argument(
        "--sqlite-pragmas",
        default=None,
        help="the dev server's SQLite pragmas (default: the dev stack's; '' for SQLite's own)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gateway_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load_arguments(parser)
    args = parser.parse_args()
    run_to_exit(lambda: main_async(args))


if __name__ == "__main__":
    main()
