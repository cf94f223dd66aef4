"""The benchmarks' figures as images: one SVG per benchmark, drawn from its JSON.

    python -m benchmarks.plots [--check]        (make bench-plots)

Copies each benchmark's report under var/bench/ (what `make bench-<x>` writes) that carries its
`measured` stamp into docs/benchmarks/data/, then draws docs/benchmarks/<name>.svg from
docs/benchmarks/data/<name>.json alone: the same JSON always gives the same bytes. Each image
has a title, axes labelled with their units, the values written on the bars, and a caption with
when, by which command and on which machine the figures were measured.

With --check nothing is copied or written: exit status 1, naming the file, when a committed SVG
is not what the committed data draws (or is missing, or has no data).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import statistics
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from benchmarks.record import describe_machine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "var" / "bench"
DOCS = ROOT / "docs" / "benchmarks"

WIDTH = 760
MARGIN = 20
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
CHAR_WIDTH = 0.62
"""A generous average glyph width, in ems, for laying text out without measuring it."""
WRAP_WIDTH = 0.56
"""The average glyph width, in ems, a line of prose is wrapped at (DejaVu Sans: about 0.5)."""
INK = "#1f2328"
MUTED = "#57606a"
GRID = "#d8dee4"
PALETTE = ("#2f6db5", "#e0892b", "#4b9a52")


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


def number(value: float) -> str:
    """A figure as written on a bar: counts whole, measures to about 3 significant digits."""
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def scale(highest: float, ticks: int = 5) -> tuple[float, float]:
    """The axis' end and its step: 1, 2, 2.5 or 5 times a power of ten, reaching `highest`."""
    if highest <= 0:
        return 1.0, 0.25
    raw = highest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return math.ceil(highest / step - 1e-9) * step, step


def tick_label(value: float, step: float) -> str:
    return f"{value:,.0f}" if float(step).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")


def f(value: float) -> str:
    """A coordinate: one decimal, no trailing zero."""
    return f"{value:.1f}".removesuffix(".0")


@dataclass
class Series:
    name: str
    values: Sequence[float]


class Figure:
    """An SVG drawn top to bottom: a title, panels of bars, notes, and the measured caption."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []
        self.text(MARGIN, 30, title, size=17, weight="bold")
        self.y = 44.0

    # Primitives.

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: float = 12,
        anchor: str = "start",
        weight: str = "normal",
        fill: str = INK,
        rotate: bool = False,
    ) -> None:
        attributes = f'x="{f(x)}" y="{f(y)}" font-size="{f(size)}"'
        if anchor != "start":
            attributes += f' text-anchor="{anchor}"'
        if weight != "normal":
            attributes += f' font-weight="{weight}"'
        if fill != INK:
            attributes += f' fill="{fill}"'
        if rotate:
            attributes += f' transform="rotate(-90 {f(x)} {f(y)})"'
        self.parts.append(f"<text {attributes}>{escape(content)}</text>")

    def rect(self, x: float, y: float, width: float, height: float, fill: str) -> None:
        self.parts.append(
            f'<rect x="{f(x)}" y="{f(y)}" width="{f(width)}" height="{f(height)}" fill="{fill}"/>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = GRID) -> None:
        self.parts.append(
            f'<line x1="{f(x1)}" y1="{f(y1)}" x2="{f(x2)}" y2="{f(y2)}" stroke="{stroke}"/>'
        )

    # Blocks, each from self.y down.

    def heading(self, content: str) -> None:
        self.text(MARGIN, self.y + 22, content, size=14, weight="bold")
        self.y += 30

    def legend(self, series: Sequence[Series], x: float) -> None:
        if len(series) < 2:
            return
        for i, one in enumerate(series):
            self.rect(x, self.y + 2, 12, 12, PALETTE[i % len(PALETTE)])
            self.text(x + 17, self.y + 12.5, one.name, size=12)
            x += 17 + text_width(one.name, 12) + 18
        self.y += 22

    def vertical_bars(
        self,
        heading: str,
        value_axis: str,
        groups: Sequence[str],
        group_axis: str,
        series: Sequence[Series],
        plot_height: float = 200,
    ) -> None:
        """Bars standing on a category axis, one cluster per group, one bar per series."""
        self.heading(heading)
        top, step = scale(max((v for s in series for v in s.values), default=0.0))
        ticks = [i * step for i in range(round(top / step) + 1)]
        tick_room = max(text_width(tick_label(t, step), 11) for t in ticks)
        left = MARGIN + 22 + tick_room + 8
        right = WIDTH - MARGIN
        self.legend(series, left)
        plot_top = self.y + 18  # room for the tallest bar's value
        bottom = plot_top + plot_height
        for tick in ticks:
            y = bottom - tick / top * plot_height
            self.line(left, y, right, y)
            self.text(left - 6, y + 4, tick_label(tick, step), size=11, anchor="end", fill=MUTED)
        middle = (plot_top + bottom) / 2
        self.text(MARGIN + 12, middle, value_axis, size=12, anchor="middle", rotate=True)

        band = (right - left) / len(groups)
        cluster = band * 0.76
        bar = min(cluster / len(series), 64.0)
        labels = [number(v) for s in series for v in s.values]
        value_size = min(11.0, (bar + 4) / (CHAR_WIDTH * max(len(t) for t in labels)))
        for g, group in enumerate(groups):
            start = left + g * band + (band - bar * len(series)) / 2
            for i, one in enumerate(series):
                value = one.values[g]
                height = value / top * plot_height
                x = start + i * bar
                self.rect(x + 1, bottom - height, bar - 2, height, PALETTE[i % len(PALETTE)])
                self.text(
                    x + bar / 2,
                    bottom - height - 4,
                    number(value),
                    size=value_size,
                    anchor="middle",
                )
            for k, label_line in enumerate(group.split("\n")):
                self.text(
                    left + (g + 0.5) * band,
                    bottom + 17 + k * 15,
                    label_line,
                    size=12 if k == 0 else 11,
                    anchor="middle",
                    fill=INK if k == 0 else MUTED,
                )
        self.line(left, bottom, right, bottom, stroke=INK)
        label_lines = max(len(group.split("\n")) for group in groups)
        axis_y = bottom + 17 + label_lines * 15 + 4
        self.text((left + right) / 2, axis_y, group_axis, size=12, anchor="middle")
        self.y = axis_y + 8

    def horizontal_bars(
        self,
        heading: str,
        value_axis: str,
        labels: Sequence[str],
        series: Sequence[Series],
        bar_height: float = 11,
    ) -> None:
        """Bars lying along a value axis, one row per label, one bar per series."""
        self.heading(heading)
        label_room = max(text_width(label, 12) for label in labels)
        left = MARGIN + label_room + 10
        value_room = max(text_width(number(v), 10.5) for s in series for v in s.values)
        right = WIDTH - MARGIN - value_room - 6
        self.legend(series, left)
        top, step = scale(max((v for s in series for v in s.values), default=0.0))
        row = bar_height * len(series) + 8
        plot_top = self.y + 4
        bottom = plot_top + row * len(labels)
        for i in range(round(top / step) + 1):
            x = left + i * step / top * (right - left)
            self.line(x, plot_top, x, bottom)
            self.text(
                x, bottom + 15, tick_label(i * step, step), size=11, anchor="middle", fill=MUTED
            )
        for r, label in enumerate(labels):
            y = plot_top + r * row + 4
            self.text(left - 8, y + row / 2, label, size=12, anchor="end")
            for i, one in enumerate(series):
                value = one.values[r]
                width = value / top * (right - left)
                bar_y = y + i * bar_height
                self.rect(left, bar_y, width, bar_height - 1, PALETTE[i % len(PALETTE)])
                self.text(left + width + 4, bar_y + bar_height - 2.5, number(value), size=10.5)
        self.line(left, plot_top, left, bottom, stroke=INK)
        self.text((left + right) / 2, bottom + 33, value_axis, size=12, anchor="middle")
        self.y = bottom + 41

    def paragraph(self, content: str, *, size: float = 12, fill: str = INK) -> None:
        columns = int((WIDTH - 2 * MARGIN) / (size * WRAP_WIDTH))
        for line in textwrap.wrap(content, columns):
            self.text(MARGIN, self.y + size + 3, line, size=size, fill=fill)
            self.y += size + 5
        self.y += 3

    def caption(self, measured: dict[str, Any] | None) -> None:
        """When, by which command and on which machine: a rule, then the caption lines."""
        self.y += 10
        self.line(MARGIN, self.y, WIDTH - MARGIN, self.y, stroke=GRID)
        self.y += 4
        self.paragraph(measured_line(measured), size=11, fill=MUTED)
        if measured:
            self.paragraph(
                f"Machine: {describe_machine(measured.get('machine', {}))}.", size=11, fill=MUTED
            )

    def svg(self) -> str:
        height = math.ceil(self.y + 12)
        return "\n".join(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
                f'viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" role="img">',
                f"<title>{escape(self.title)}</title>",
                f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
                *self.parts,
                "</svg>",
                "",
            ]
        )


def measured_line(measured: dict[str, Any] | None) -> str:
    """`Measured 2026-12-05 07:41 UTC · command: make bench-gateway · returnflow 0.3.0`"""
    if not measured:
        return "Measured: when, how and where is not recorded in this data."
    try:
        when = dt.datetime.fromisoformat(str(measured.get("date")))
        date = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        date = str(measured.get("date"))
    return (
        f"Measured {date} · command: {measured.get('command', '?')} · "
        f"returnflow {measured.get('version', '?')}"
    )


def verdict(data: dict[str, Any]) -> str:
    return "Pass." if data.get("passed") else "FAIL."


PERCENTILES = ("p50", "p90", "p99", "max")


def percentile_series(name: str, figures: dict[str, float]) -> Series | None:
    if not figures:
        return None
    return Series(name, [float(figures[k]) for k in PERCENTILES])


# One drawing per benchmark.


def gateway_load(data: dict[str, Any]) -> Figure:
    figure = Figure(f"Gateway: {data['events_sent']:,} signed order events, each acknowledged")
    series = [
        s
        for s in (
            percentile_series("all answers", data["latency_ms"]),
            percentile_series("202 created", data.get("latency_ms_created", {})),
            percentile_series("200 duplicate", data.get("latency_ms_duplicate", {})),
        )
        if s is not None
    ]
    figure.vertical_bars(
        "Acknowledgement latency: request sent → answer received",
        "latency (ms)",
        PERCENTILES,
        "percentile of the answers",
        series,
    )
    answers = data.get("answers", {})
    figure.paragraph(
        f"Throughput {number(data['events_per_second'])} events/s "
        f"({number(data['load_seconds'])} s for the batch), {data['concurrency']} requests in "
        f"flight; {data['distinct']:,} distinct events and {data['redeliveries']:,} "
        f"redeliveries. Answers: 202 created {answers.get('202', 0):,}, 200 duplicate "
        f"{answers.get('200', 0):,}, 503 retried {answers.get('503', 0):,}. Returns found "
        f"through visibility: {data['returns_found']:,} of {data['distinct']:,}. "
        f"{verdict(data)}"
    )
    figure.paragraph(
        f"Gateway peak RSS {number(data['gateway_peak_rss_mb'])} MB. During the load the "
        f"machine was {data['machine_cpu_busy_percent']} % busy, "
        f"{number(data['cpu_seconds_elsewhere'])} CPU s of it outside the stack and the load "
        f"script."
    )
    figure.caption(data.get("measured"))
    return figure


def gateway_flood(data: dict[str, Any]) -> Figure:
    figure = Figure(
        f"Gateway: {data['flood_requests']:,} unsigned requests of "
        f"{data['flood_bytes_each'] // 1024:,} KiB from a stranger, signed events alongside"
    )
    series = [
        s
        for s in (
            percentile_series("signed events alone", data["latency_ms_baseline"]),
            percentile_series("during the flood", data["latency_ms_during_flood"]),
        )
        if s is not None
    ]
    figure.vertical_bars(
        "Signed events' acknowledgement latency, alone and during the flood",
        "latency (ms)",
        PERCENTILES,
        "percentile of the answers",
        series,
    )
    answers = ", ".join(f"{n:,} answered {code}" for code, n in data["flood_answers"].items())
    signed = data["signed_answers"]
    grown = (data["dead_letters_bytes_after"] - data["dead_letters_bytes_before"]) / 1024 / 1024
    figure.paragraph(
        f"The flood's answers: {answers}, in {number(data['flood_seconds'])} s. Dead letters "
        f"grew by {number(grown)} MiB (quota {number(data['quota_mib'])} MiB). Signed events: "
        f"{data['signed_sent_baseline'] + data['signed_sent_during_flood']:,} sent at "
        f"{number(data['signed_rate_per_second'])}/s, {signed.get('202', 0):,} acknowledged "
        f"202. {verdict(data)}"
    )
    cpu = data["cpu_seconds_during_flood"]
    figure.paragraph(
        f"Gateway peak RSS {number(data['gateway_peak_rss_mb'])} MB. CPU seconds during the "
        f"flood: gateway {number(cpu.get('gateway', 0))}, the stranger's process "
        f"{number(cpu.get('flooder', 0))}, Temporal {number(cpu.get('temporal', 0))}, worker "
        f"{number(cpu.get('worker', 0))}; the machine {data['machine_cpu_busy_percent']} % busy."
    )
    figure.caption(data.get("measured"))
    return figure


def codec(data: dict[str, Any]) -> Figure:
    figure = Figure("Payload encryption: in the worker's process and through the codec server")
    rows = data["in_process"]
    figure.vertical_bars(
        f"In process: one payload serialized and encrypted, or decrypted ({data['rounds']:,} "
        "rounds)",
        "time per payload (µs)",
        [f"{r['payload']}\n{r['plain_bytes']:,} B → {r['encrypted_bytes']:,} B" for r in rows],
        "payload (plain size → encrypted size)",
        [
            Series("encrypt", [float(r["encode_us"]) for r in rows]),
            Series("decrypt", [float(r["decode_us"]) for r in rows]),
        ],
        plot_height=160,
    )
    series = [
        s
        for s in (
            percentile_series("1 payload per request", data["decode_one_ms"]),
            percentile_series("20 payloads per request", data["decode_twenty_ms"]),
        )
        if s is not None
    ]
    figure.vertical_bars(
        f"Codec server: POST /decode latency ({data['requests']:,} requests each, "
        f"{data['concurrency']} in flight)",
        "latency (ms)",
        PERCENTILES,
        "percentile of the requests",
        series,
    )
    rates = data.get("requests_per_second", {})
    figure.paragraph(
        f"Throughput {number(rates.get('1 payloads', 0))} requests/s with 1 payload, "
        f"{number(rates.get('20 payloads', 0))} requests/s with 20; "
        f"{data['refused']} requests refused. Peak RSS {number(data['peak_rss_mb'])} MB."
    )
    figure.caption(data.get("measured"))
    return figure


FAULTS = {
    "error_before": "errors before the work",
    "error_after": "errors after the work",
    "slow": "slow answers",
    "rate_limit": "rate limited (429)",
    "hang": "hung requests",
}


def carrier_faults(data: dict[str, Any]) -> Figure:
    figure = Figure(f"{data['returns']} returns through a carrier failing on purpose")
    labels = data["labels_per_return"]
    pickups = data["pickups_per_return"]
    one_each = sum(1 for key, n in labels.items() if n == 1 and pickups.get(key) == 1)
    outcomes = {
        "returns started": data["returns"],
        "picked up": data["picked_up"],
        "labels created": sum(labels.values()),
        "pickups booked": sum(pickups.values()),
        "with one label and one pickup": one_each,
    }
    figure.horizontal_bars(
        "Outcome: every return picked up, nothing made twice",
        "returns, labels, pickups",
        list(outcomes),
        [Series("count", list(outcomes.values()))],
    )
    injected = data["faults_injected"].get("injected", {})
    faults = {"carrier requests": data["faults_injected"].get("requests", 0)}
    faults |= {label: injected.get(kind, 0) for kind, label in FAULTS.items() if injected.get(kind)}
    faults |= {
        "activity attempts": data["activity_attempts"],
        "activities retried": data["activities_retried"],
        "webhook events": data["webhook_deliveries"],
        "webhook delivery attempts": data["webhook_attempts"],
    }
    figure.horizontal_bars(
        "Faults injected by the carrier, and the retries that absorbed them",
        "requests, attempts, events",
        list(faults),
        [Series("count", list(faults.values()))],
    )
    ready = data.get("seconds_to_choice_ready") or [0.0]
    figure.paragraph(
        f"On every carrier endpoint: errors {data['error_rate']:.0%} of requests, slow answers "
        f"{data['slow_rate']:.0%} ({number(data['slow_seconds'])} s, past the worker's "
        f"{number(data['carrier_timeout_seconds'])} s timeout). "
        f"{number(data['seconds_total'])} s from the first withdrawal to the last pickup "
        f"confirmed; choosing the pickup answered in {number(statistics.median(ready))} s "
        f"(median), {number(max(ready))} s at most. {verdict(data)}"
    )
    figure.caption(data.get("measured"))
    return figure


def actions(data: dict[str, Any]) -> Figure:
    paths = {name: counts for name, counts in data.items() if name != "measured"}
    order = sorted(paths, key=lambda n: (-paths[n]["actions"], -paths[n]["events"], n))
    figure = Figure("Events and Temporal Cloud billable actions of each path of a return")
    figure.horizontal_bars(
        f"The {len(order)} recorded paths (tests/histories/), most actions first",
        "per return: billable actions, history events",
        order,
        [
            Series("billable actions", [paths[n]["actions"] for n in order]),
            Series("history events", [paths[n]["events"] for n in order]),
        ],
        bar_height=10,
    )
    figure.paragraph(
        "One action each for the start, an activity scheduled and each of its retries, the "
        "local activities of one workflow task, a timer, a signal received, an update accepted, "
        "a search attribute or memo upsert, a child workflow, and a signal or cancellation sent "
        "(benchmarks/actions.py)."
    )
    figure.caption(data.get("measured"))
    return figure


def telemetry_cost(data: dict[str, Any]) -> Figure:
    medians = data["medians"]
    modes = list(medians)
    rounds = max(run["round"] for run in data["runs"])
    figure = Figure(
        f"What metrics and traces cost the gateway: {data['events']:,} order events per run"
    )
    figure.vertical_bars(
        f"Gateway CPU per event (median of {rounds} rounds)",
        "CPU (ms per event)",
        modes,
        "what the processes export",
        [Series("gateway CPU", [medians[m]["gateway_cpu_ms_per_event"] for m in modes])],
        plot_height=140,
    )
    figure.vertical_bars(
        f"Acknowledgement latency, {data['concurrency']} in flight (median of {rounds} rounds)",
        "latency (ms)",
        modes,
        "what the processes export",
        [
            Series("p50", [medians[m]["p50_ms"] for m in modes]),
            Series("p99", [medians[m]["p99_ms"] for m in modes]),
        ],
    )
    spans = [run["spans_exported"] for run in data["runs"] if run["spans_exported"]]
    figure.paragraph(
        "Throughput (events/s): "
        + ", ".join(f"{m} {number(medians[m]['events_per_second'])}" for m in modes)
        + ". Gateway peak RSS (MB): "
        + ", ".join(f"{m} {number(medians[m]['gateway_rss_mb'])}" for m in modes)
        + ". Spans received by the OTLP collector per traced run: "
        + ", ".join(f"{n:,}" for n in spans)
        + f". {verdict(data)}"
    )
    figure.caption(data.get("measured"))
    return figure


def returns_load(data: dict[str, Any]) -> Figure:
    real, bare = data["real"], data["bare"]
    figure = Figure(
        f"Returns end to end: {data['returns']:,} real and {data['returns']:,} bare, "
        f"{data['concurrency']} at a time"
    )
    figure.horizontal_bars(
        "Returns per second to the proof of dispatch (picked_up, refund requested)",
        "returns per second",
        ["bare (the ceiling)", "real, through the gateway"],
        [Series("returns/s", [bare["returns_per_second"], real["returns_per_second"]])],
    )
    series = percentile_series("real returns", real["choice_ms"])
    if series is not None:
        figure.vertical_bars(
            "The customer's choice through the gateway: request sent → label and pickup",
            "latency (ms)",
            PERCENTILES,
            "percentile of the choices",
            [series],
            plot_height=160,
        )
    shown = [("bare", bare["history"]), ("real", real["history"])]
    if real.get("feed_history", {}).get("workflows"):
        shown.append(("real's event feed", real["feed_history"]))
    figure.vertical_bars(
        "History per return (mean of a sample)",
        "per return",
        ["history events", "billable actions"],
        "",
        [Series(name, [float(h["events"]), float(h["actions"])]) for name, h in shown],
        plot_height=140,
    )
    rss = data["peak_rss_mb"]
    figure.horizontal_bars(
        "Peak RSS of each process",
        "MB",
        list(rss),
        [Series("peak RSS", [float(v) for v in rss.values()])],
    )
    ratio = data.get("ratio")
    goal = data.get("ratio_goal", 0.9)
    met = "met" if ratio is not None and ratio >= goal else "not met"
    figure.paragraph(
        f"Real over bare: {number(ratio or 0.0)} (goal {number(goal)}: {met}). Completed: real "
        f"{real['completed']:,} of {real['returns']:,} in {number(real['seconds'])} s, bare "
        f"{bare['completed']:,} of {bare['returns']:,} in {number(bare['seconds'])} s. The bare "
        "return gives Temporal the real one's commands with activities that do nothing. CPU "
        "seconds during the real batch: "
        + ", ".join(f"{name} {number(s)}" for name, s in real.get("cpu_seconds", {}).items())
        + f"; the machine {real.get('machine_cpu_busy_percent', 0)} % busy. {verdict(data)}"
    )
    figure.caption(data.get("measured"))
    return figure


@dataclass(frozen=True)
class Benchmark:
    name: str
    """Its report's name: var/bench/<name>.json, docs/benchmarks/<name>.svg."""
    target: str
    draw: Callable[[dict[str, Any]], Figure]


BENCHMARKS = (
    Benchmark("gateway-load", "make bench-gateway", gateway_load),
    Benchmark("gateway-flood", "make bench-flood", gateway_flood),
    Benchmark("codec", "make bench-codec", codec),
    Benchmark("carrier-faults", "make bench-carriers", carrier_faults),
    Benchmark("actions", "make bench-actions", actions),
    Benchmark("telemetry-cost", "make bench-telemetry", telemetry_cost),
    Benchmark("returns-load", "make bench-returns", returns_load),
)


def named(path: Path) -> str:
    """A path as messages name it: from the repository's root when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def render(benchmark: Benchmark, data: dict[str, Any]) -> str:
    return benchmark.draw(data).svg()


def render_file(benchmark: Benchmark, data_file: Path) -> bytes:
    return render(benchmark, json.loads(data_file.read_text(encoding="utf-8"))).encode()


def copy_reports(results: Path = RESULTS, docs: Path = DOCS) -> list[str]:
    """Each stamped report under `results` copied to `docs`/data/; a line per benchmark."""
    said = []
    for benchmark in BENCHMARKS:
        report = results / f"{benchmark.name}.json"
        if not report.exists():
            continue
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            said.append(f"{named(report)}: not JSON ({err}), not copied")
            continue
        if not isinstance(data, dict) or not isinstance(data.get("measured"), dict):
            said.append(f"{named(report)}: no `measured` stamp, not copied: run {benchmark.target}")
            continue
        target = docs / "data" / report.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(report.read_bytes())
        failed = " (its run did not pass)" if data.get("passed") is False else ""
        said.append(f"copied {named(report)} to {named(target)}{failed}")
    return said


def draw_all(docs: Path = DOCS) -> list[str]:
    """Each docs/benchmarks/<name>.svg drawn from docs/benchmarks/data/<name>.json."""
    said = []
    for benchmark in BENCHMARKS:
        data_file = docs / "data" / f"{benchmark.name}.json"
        if not data_file.exists():
            said.append(f"no {named(data_file)}: run {benchmark.target}, then make bench-plots")
            continue
        svg = docs / f"{benchmark.name}.svg"
        svg.write_bytes(render_file(benchmark, data_file))
        said.append(f"drew {named(svg)}")
    return said


def check(docs: Path = DOCS) -> list[str]:
    """What is wrong with the committed images: one line per file, none when all are drawn."""
    problems = []
    for benchmark in BENCHMARKS:
        data_file = docs / "data" / f"{benchmark.name}.json"
        svg = docs / f"{benchmark.name}.svg"
        if not data_file.exists():
            if svg.exists():
                problems.append(
                    f"{named(svg)}: no data to draw it from ({named(data_file)} is missing)"
                )
            continue
        if not svg.exists():
            problems.append(f"{named(svg)} is missing: draw it with make bench-plots")
        elif svg.read_bytes() != render_file(benchmark, data_file):
            problems.append(
                f"{named(svg)} is not what {named(data_file)} draws: draw it with make bench-plots"
            )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.plots",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--check", action="store_true", help="compare the committed SVGs with their drawing"
    )
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for line in [*copy_reports(), *draw_all()]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
