"""What metrics and traces cost the gateway: the gateway load benchmark three times.

    python -m benchmarks.telemetry_cost [--events 1000] [--concurrency 20] [--rounds 3]

Plays `benchmarks.gateway_load` (signed order events through the gateway while the worker runs
the returns) on a fresh embedded stack for each mode, `--rounds` times in turn:

- `off`: no metrics served, no traces;
- `metrics`: every service serves its metrics, scraped every 5 s by the stack's Prometheus
  (Debian's, when installed) or else by this script;
- `metrics+traces`: the same, and every process traces every request and sends its spans over
  OTLP/HTTP to a collector this script plays (it reads each batch and counts the spans).

Reports, per mode, the acknowledgement latency, the throughput, the CPU seconds the gateway and
the worker used during the load and the gateway's peak RSS, then the difference to `off`.
Writes var/bench/telemetry-cost.json, with when, how and where it was measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.requests import Request
from starlette.responses import Response

from benchmarks.gateway_load import Report, load_arguments, run_load, stack_options
from benchmarks.record import measured
from benchmarks.running import publish, run_to_exit
from devstack.config import StackConfig
from devstack.stack import DevStack
from monitoring.scraping import PROMETHEUS
from plumbing.serving import HostedApp

VAR_DIR = Path("var/bench/telemetry-cost")
REPORT = Path("var/bench/telemetry-cost.json")
MODES = ("off", "metrics", "metrics+traces")


class Collector:
    """An OTLP/HTTP traces endpoint that reads each batch and counts its spans."""

    def __init__(self) -> None:
        self.batches = 0
        self.spans = 0
        self.bytes = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        body = await request.body()
        if scope["path"] == "/v1/traces" and request.method == "POST":
            exported = ExportTraceServiceRequest.FromString(body)
            self.batches += 1
            self.bytes += len(body)
            self.spans += sum(
                len(scoped.spans) for rs in exported.resource_spans for scoped in rs.scope_spans
            )
            answer = Response(b"", media_type="application/x-protobuf")
        else:
            answer = Response(status_code=404)
        await answer(scope, receive, send)


@dataclass
class Run:
    mode: str
    round: int
    load: dict[str, Any]
    scrapes: int = 0
    spans_exported: int = 0
    span_batches: int = 0


@dataclass
class Outcome:
    events: int
    concurrency: int
    runs: list[Run] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(r.load["returns_found"] == r.load["distinct"] for r in self.runs) and all(
            r.spans_exported > 0 for r in self.runs if r.mode == "metrics+traces"
        )


async def scrape_meanwhile(stack: DevStack, stop: asyncio.Event) -> int:
    """Scrape every service every 5 s, as Prometheus would, until `stop`; how many scrapes."""
    done = 0
    async with httpx.AsyncClient(timeout=10) as http:
        while not stop.is_set():
            for service, address in stack.config.metrics_addresses().items():
                if service != "temporal":
                    (await http.get(f"http://{address}/metrics")).raise_for_status()
                    done += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5)
    return done


async def one_run(mode: str, round_: int, args: argparse.Namespace) -> Run:
    var_dir = VAR_DIR / f"{mode.replace('+', '-')}-{round_}"
    config = StackConfig.on_free_ports(var_dir, metrics=mode != "off", **stack_options(args))
    stack = DevStack(config)
    collector = Collector()
    async with HostedApp(collector) as otlp:
        if mode == "metrics+traces":
            stack.env["RETURNFLOW_OTLP_ENDPOINT"] = f"{otlp.url}/v1/traces"
        report = Report.of(args)
        scrapes = 0
        async with stack:
            stop = asyncio.Event()
            # The stack runs Prometheus when it is installed; otherwise the script scrapes.
            scrapes_itself = mode != "off" and not PROMETHEUS.exists()
            scraping = (
                asyncio.create_task(scrape_meanwhile(stack, stop)) if scrapes_itself else None
            )
            await run_load(stack, args, report)
            stop.set()
            if scraping is not None:
                scrapes = await scraping
        # The processes have flushed their last spans on the way out.
    print(f"{mode} (round {round_}): {report.events_per_second} events/s")
    return Run(mode, round_, asdict(report), scrapes, collector.spans, collector.batches)


def figures(run: Run) -> dict[str, float]:
    load = run.load
    cpu = load["cpu_seconds_during_load"]
    return {
        "gateway_cpu_ms_per_event": round(1000 * cpu.get("gateway", 0.0) / load["events_sent"], 2),
        "events_per_second": load["events_per_second"],
        "p50_ms": load["latency_ms"].get("p50", 0.0),
        "p99_ms": load["latency_ms"].get("p99", 0.0),
        "gateway_cpu_s": cpu.get("gateway", 0.0),
        "worker_cpu_s": cpu.get("worker", 0.0),
        "gateway_rss_mb": load["gateway_peak_rss_mb"],
    }


def medians(outcome: Outcome, mode: str) -> dict[str, float]:
    """The median of each figure over the rounds of `mode`."""
    runs = [figures(r) for r in outcome.runs if r.mode == mode]
    return {name: statistics.median(f[name] for f in runs) for name in runs[0]}


def summary(outcome: Outcome) -> str:
    lines = [
        f"{outcome.events} signed events, {outcome.concurrency} in flight, per mode and round",
        f"{'mode':<16}{'round':>6}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'gateway CPU s':>15}{'worker CPU s':>14}{'gateway MB':>12}{'spans':>8}",
    ]
    for run in outcome.runs:
        f = figures(run)
        lines.append(
            f"{run.mode:<16}{run.round:>6}{f['events_per_second']:>10.1f}{f['p50_ms']:>9.0f}"
            f"{f['p99_ms']:>9.0f}{f['gateway_cpu_s']:>15.1f}{f['worker_cpu_s']:>14.1f}"
            f"{f['gateway_rss_mb']:>12.0f}{run.spans_exported:>8}"
        )
    lines.append("medians per mode (the change from `off`):")
    base = medians(outcome, "off")
    for mode in MODES:
        middle = medians(outcome, mode)
        shown = ", ".join(
            f"{name} {value:g} ({value - base[name]:+.2f})" for name, value in middle.items()
        )
        lines.append(f"  {mode:<16}{shown}")
    lines.append(f"wall time {outcome.wall_seconds:.0f} s")
    lines.append("PASS" if outcome.passed else "FAIL")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    stamp = measured("benchmarks.telemetry_cost", sys.argv[1:])
    outcome = Outcome(args.events, args.concurrency)
    began = time.monotonic()
    for round_ in range(1, args.rounds + 1):
        for mode in MODES:
            outcome.runs.append(await one_run(mode, round_, args))
    outcome.wall_seconds = round(time.monotonic() - began, 1)
    report = asdict(outcome) | {
        "figures": [figures(r) | {"mode": r.mode, "round": r.round} for r in outcome.runs],
        "medians": {mode: medians(outcome, mode) for mode in MODES},
    }
    return await publish(REPORT, stamp, report, outcome.passed, summary(outcome))


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.telemetry_cost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load_arguments(parser)
    parser.add_argument("--rounds", type=int, default=3, help="times each mode is run, in turn")
    args = parser.parse_args()
    shutil.rmtree(VAR_DIR, ignore_errors=True)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    run_to_exit(lambda: main_async(args))


if __name__ == "__main__":
    main()
