"""A stranger's flood against the gateway while the order service's signed events flow.

    python -m benchmarks.gateway_flood [--flood 10000] [--flood-bytes 262144] [--rate 5]

Starts its own embedded stack (dev server, worker, gateway, carrier sandbox, SMTP sink) on free
ports under var/bench/, with the unauthenticated dead letters' quota set to `--quota-mib`. Then,
from 127.0.0.1, the order service sends signed events at a steady `--rate` a second, first
alone for `--baseline-seconds`, then during the flood: `--flood` unsigned POSTs of
`--flood-bytes` each, from 127.0.0.2 (another source) by `--flood-concurrency` senders in a
process of their own, half to the event door, half to webhook doors of carriers that do not
exist, ignoring every Retry-After.

Reports the flood's answers by status, how much the unauthenticated senders' dead letters grew
in the store (their documents' sizes; the pass mark: no more than the quota), whether
every signed event was acknowledged, and the signed events' acknowledgement latency without and
with the flood. Writes the report as JSON to var/bench/gateway-flood.json with when, how and
where it was measured (benchmarks/record.py); exit status 0 on a pass.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from benchmarks.gateway_load import (
    cpu_seconds,
    machine_cpu_seconds,
    own_ids,
    percentiles,
    proc_status,
)
from benchmarks.record import measured
from benchmarks.running import publish, run_to_exit
from client.start import parse_event
from dead_letters.store import DeadLetterStore
from devstack.config import StackConfig
from devstack.demo import redate
from devstack.stack import DevStack
from plumbing.settings import Settings
from plumbing.signing import signed_headers
from store import open_store

SAMPLES = sorted(Path("examples/events").glob("*.json"))
VAR_DIR = Path("var/bench/gateway-flood")
REPORT = Path("var/bench/gateway-flood.json")
ORDER_SERVICE = "127.0.0.1"
STRANGER = "127.0.0.2"


@dataclass
class Report:
    flood_requests: int
    flood_bytes_each: int
    flood_concurrency: int
    signed_rate_per_second: float
    quota_mib: float
    flood_answers: dict[str, int] = field(default_factory=dict)
    flood_transport_errors: int = 0
    flood_seconds: float = 0.0
    flood_requests_per_second: float = 0.0
    dead_letters_bytes_before: int = 0
    dead_letters_bytes_after: int = 0
    dead_letters_kept_from_flood: int = 0
    signed_sent_baseline: int = 0
    signed_sent_during_flood: int = 0
    signed_answers: dict[str, int] = field(default_factory=dict)
    signed_failures: list[str] = field(default_factory=list)
    latency_ms_baseline: dict[str, float] = field(default_factory=dict)
    latency_ms_during_flood: dict[str, float] = field(default_factory=dict)
    gateway_peak_rss_mb: float = 0.0
    cpu_seconds_during_flood: dict[str, float] = field(default_factory=dict)
    machine_cpu_busy_percent: int = 0
    wall_seconds: float = 0.0

    @property
    def growth(self) -> int:
        return self.dead_letters_bytes_after - self.dead_letters_bytes_before

    @property
    def passed(self) -> bool:
        return (
            self.growth <= self.quota_mib * 1024 * 1024
            and not self.signed_failures
            and self.signed_answers.get("202", 0)
            == self.signed_sent_baseline + self.signed_sent_during_flood
        )


def dead_letters_kept(settings: Settings) -> tuple[int, int]:
    """The size the unauthenticated senders' dead letters take in the stack's store, and how
    many letters it holds."""
    store = open_store(settings)
    try:
        letters = DeadLetterStore(store, None)
        return letters.unauthenticated_bytes(), sum(1 for _ in letters.letters())
    finally:
        store.close()


class SignedEvents:
    """The order service: distinct signed events, one every 1/rate seconds, until stopped."""

    def __init__(self, stack: DevStack, rate: float) -> None:
        self.stack = stack
        self.interval = 1 / rate
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        stamp = now.strftime("%y%m%d%H%M%S")
        self.samples = [redate(parse_event(p.read_bytes()), now, stamp) for p in SAMPLES]
        self.prefix = f"ORD-F{stamp}-"
        self.sent = 0
        self.answers: Counter[int] = Counter()
        self.failures: list[str] = []

    async def run(self, until: asyncio.Event, latencies: list[float]) -> int:
        """Send at the rate until `until` is set; how many were sent."""
        transport = httpx.AsyncHTTPTransport(local_address=ORDER_SERVICE)
        sent_here = 0
        tasks: list[asyncio.Task[None]] = []
        async with httpx.AsyncClient(
            base_url=self.stack.config.gateway_url, transport=transport, timeout=60
        ) as http:
            next_at = time.monotonic()
            while not until.is_set():
                tasks.append(asyncio.create_task(self._one(http, self.sent, latencies)))
                self.sent += 1
                sent_here += 1
                next_at += self.interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await asyncio.gather(*tasks)
        return sent_here

    async def _one(self, http: httpx.AsyncClient, i: int, latencies: list[float]) -> None:
        event = own_ids(self.samples[i % len(self.samples)], self.prefix, i)
        body = event.model_dump_json().encode()
        headers = {"Content-Type": "application/json"}
        headers |= signed_headers(self.stack.config.event_secret, body)
        began = time.perf_counter()
        try:
            answer = await http.post("/v1/events", content=body, headers=headers)
        except httpx.TransportError as err:
            self.failures.append(f"event {i}: {type(err).__name__}")
            return
        latencies.append(time.perf_counter() - began)
        self.answers[answer.status_code] += 1
        if answer.status_code != 202:
            self.failures.append(f"event {i}: {answer.status_code} {answer.text[:200]}")


async def flood(url: str, count: int, size: int, concurrency: int) -> dict[str, int]:
    """`count` unsigned POSTs of `size` bytes to `url` from another source: answers by status
    (`lost`: connections that failed)."""
    body = os.urandom(size // 2 + 1).hex().encode()[:size]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    answers: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport = httpx.AsyncHTTPTransport(local_address=STRANGER, limits=limits)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=60) as http:

        async def sender() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                path = "/v1/events" if i % 2 else f"/v1/carriers/nowhere-{i}/webhooks"
                try:
                    answer = await http.post(path, content=body)
                except httpx.TransportError:
                    answers["lost"] += 1
                    continue
                answers[str(answer.status_code)] += 1

        await asyncio.gather(*(sender() for _ in range(concurrency)))
    return dict(sorted(answers.items()))


async def flood_elsewhere(stack: DevStack, args: argparse.Namespace, report: Report) -> None:
    """The flood from a process of its own, so that its work does not slow the order
    service's sender down (as a stranger's machine would not)."""
    flooder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.gateway_flood",
        "--flooder",
        stack.config.gateway_url,
        "--flood",
        str(args.flood),
        "--flood-bytes",
        str(args.flood_bytes),
        "--flood-concurrency",
        str(args.flood_concurrency),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await flooder.communicate()
    if flooder.returncode != 0:
        raise SystemExit(f"the flooder failed (exit status {flooder.returncode})")
    answers = json.loads(out)
    report.flood_transport_errors = answers.pop("lost", 0)
    report.flood_answers = answers


async def run(stack: DevStack, args: argparse.Namespace, report: Report) -> None:
    report.dead_letters_bytes_before, _ = dead_letters_kept(stack.settings)
    signed = SignedEvents(stack, args.rate)
    baseline: list[float] = []
    during: list[float] = []

    print(f"signed events alone, {args.rate}/s for {args.baseline_seconds:.0f} s ...")
    stop = asyncio.Event()
    alone = asyncio.create_task(signed.run(stop, baseline))
    await asyncio.sleep(args.baseline_seconds)
    stop.set()
    report.signed_sent_baseline = await alone

    print(f"the flood: {args.flood} unsigned POSTs of {args.flood_bytes} bytes ...")
    stop = asyncio.Event()
    alongside = asyncio.create_task(signed.run(stop, during))
    cpu_before = cpu_seconds(stack)
    machine_before = machine_cpu_seconds()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    await flood_elsewhere(stack, args, report)
    report.flood_seconds = round(time.monotonic() - began, 1)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_after = machine_cpu_seconds()
    stop.set()
    report.signed_sent_during_flood = await alongside
    cpu_after = cpu_seconds(stack)
    report.cpu_seconds_during_flood = {
        name: round(cpu_after[name] - cpu_before.get(name, 0.0), 1) for name in cpu_after
    }
    flooder = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    report.cpu_seconds_during_flood["flooder"] = round(flooder, 1)
    busy = machine_after[0] - machine_before[0]
    report.machine_cpu_busy_percent = round(100 * busy / (machine_after[1] - machine_before[1]))
    report.flood_requests_per_second = round(args.flood / report.flood_seconds, 1)
    report.dead_letters_bytes_after, report.dead_letters_kept_from_flood = dead_letters_kept(
        stack.settings
    )
    report.signed_answers = {str(code): n for code, n in sorted(signed.answers.items())}
    report.signed_failures = signed.failures
    report.latency_ms_baseline = percentiles(baseline)
    report.latency_ms_during_flood = percentiles(during)
    gateway = next(p for p in stack.processes if p.name == "gateway")
    assert gateway.pid is not None
    report.gateway_peak_rss_mb = round(proc_status(gateway.pid, "VmHWM"), 1)


def summary(report: Report) -> str:
    def ms(figures: dict[str, float]) -> str:
        if not figures:
            return "-"
        return " / ".join(f"{figures[k]:.0f}" for k in ("p50", "p90", "p99", "max")) + " ms"

    cpu = ", ".join(f"{name} {s:.1f}" for name, s in report.cpu_seconds_during_flood.items())
    lines = [
        f"flood                               {report.flood_requests} x "
        f"{report.flood_bytes_each} bytes, {report.flood_concurrency} at a time, "
        f"{report.flood_seconds:.1f} s ({report.flood_requests_per_second:.0f}/s)",
        f"flood answers                       {report.flood_answers}"
        + (
            f", connections lost {report.flood_transport_errors}"
            if report.flood_transport_errors
            else ""
        ),
        f"dead letters grew by                {report.growth / 1024 / 1024:.1f} MiB "
        f"(quota {report.quota_mib:g} MiB; {report.dead_letters_kept_from_flood} letters kept)",
        f"signed events                       {report.signed_sent_baseline} alone + "
        f"{report.signed_sent_during_flood} during the flood, answers {report.signed_answers}",
        f"ack p50 / p90 / p99 / max, alone    {ms(report.latency_ms_baseline)}",
        f"  during the flood                  {ms(report.latency_ms_during_flood)}",
        f"gateway peak RSS                    {report.gateway_peak_rss_mb:.0f} MB",
        f"CPU seconds during the flood        {cpu} "
        f"(machine {report.machine_cpu_busy_percent} % busy)",
        f"wall time, stack start and stop     {report.wall_seconds:.1f} s",
    ]
    lines += [f"  failure: {f}" for f in report.signed_failures[:20]]
    lines.append("PASS" if report.passed else "FAIL")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    stamp = measured("benchmarks.gateway_flood", sys.argv[1:])
    shutil.rmtree(VAR_DIR, ignore_errors=True)
    # The gateway inherits these: the quota under test, and nothing exempt from the limits.
    os.environ["RETURNFLOW_DEAD_LETTER_UNAUTHENTICATED_QUOTA_BYTES"] = str(
        int(args.quota_mib * 1024 * 1024)
    )
    os.environ.pop("RETURNFLOW_GATEWAY_RATE_LIMIT_EXEMPT", None)
    report = Report(
        flood_requests=args.flood,
        flood_bytes_each=args.flood_bytes,
        flood_concurrency=args.flood_concurrency,
        signed_rate_per_second=args.rate,
        quota_mib=args.quota_mib,
    )
    began = time.monotonic()
    async with DevStack(StackConfig.on_free_ports(VAR_DIR)) as stack:
        await run(stack, args, report)
    report.wall_seconds = round(time.monotonic() - began, 1)
    return await publish(REPORT, stamp, asdict(report), report.passed, summary(report))


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gateway_flood",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--flood", type=int, default=10_000, help="unsigned POSTs in all")
    parser.add_argument("--flood-bytes", type=int, default=256 * 1024, help="bytes in each")
    parser.add_argument("--flood-concurrency", type=int, default=50, help="in flight at most")
    parser.add_argument("--rate", type=float, default=5.0, help="signed events a second")
    parser.add_argument(
        "--baseline-seconds", type=float, default=30.0, help="signed events alone, first"
    )
    parser.add_argument(
        "--quota-mib", type=float, default=8.0, help="the unauthenticated letters' quota"
    )
    parser.add_argument("--flooder", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flooder:
        answers = asyncio.run(
            flood(args.flooder, args.flood, args.flood_bytes, args.flood_concurrency)
        )
        print(json.dumps(answers))
        return
    run_to_exit(lambda: main_async(args))


if __name__ == "__main__":
    main()
