"""One drawing per benchmark: its report, as its JSON holds it, made into a `Figure`.

Each function takes a benchmark's report (docs/benchmarks/data/<name>.json) and returns the
figure for docs/benchmarks/<name>.svg: its bars, and paragraphs with the rest of the report's
figures and whether the run passed. `benchmarks.plots` says which function draws which benchmark.
"""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks.svg import Figure, Series, number


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
        "markers (local activities, patches) of one workflow task, a timer, a signal received, "
        "an update accepted, a search attribute upsert other than a patch's, a memo upsert, and "
        "a signal or cancellation sent; two for a child workflow (benchmarks/actions.py)."
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
    with_feed = data.get("bare_with_feed") or {}
    ceilings = [("bare (the ceiling)", bare)]
    if with_feed:
        ceilings.append(("bare with its event feed", with_feed))
    figure = Figure(
        f"Returns end to end: {data['returns']:,} a batch, {data['concurrency']} at a time"
    )
    figure.horizontal_bars(
        "Returns per second to the proof of dispatch (picked_up, refund requested)",
        "returns per second",
        [name for name, _ in ceilings] + ["real, through the gateway"],
        [
            Series(
                "returns/s",
                [b["returns_per_second"] for _, b in ceilings] + [real["returns_per_second"]],
            )
        ],
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
    if with_feed.get("feed_history", {}).get("workflows"):
        shown.append(("bare's event feed", with_feed["feed_history"]))
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
    against_feed = data.get("ratio_with_feed")
    figure.paragraph(
        f"Real over bare: {number(ratio or 0.0)} (goal {number(goal)}: {met})"
        + (
            f"; over bare with its event feed: {number(against_feed)}"
            if against_feed is not None
            else ""
        )
        + ". Completed: "
        + ", ".join(
            f"{name} {b['completed']:,} of {b['returns']:,} in {number(b['seconds'])} s"
            for name, b in [("real", real), *ceilings]
        )
        + ". The bare return gives Temporal the real one's commands with activities that do "
        "nothing. CPU "
        "seconds during the real batch: "
        + ", ".join(f"{name} {number(s)}" for name, s in real.get("cpu_seconds", {}).items())
        + f"; the machine {real.get('machine_cpu_busy_percent', 0)} % busy. {verdict(data)}"
    )
    figure.caption(data.get("measured"))
    return figure
