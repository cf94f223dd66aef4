"""The report of `benchmarks.returns_load`: its figures, its verdict, and its printed summary."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field
from typing import Any

REACHED = (
    "picked_up: the carrier's acceptance scan taken, the refund requested, the customer's "
    "pickup notice and the seller's inbound notice sent"
)
RATIO_GOAL = 0.9
"""Real returns per second against bare ones: what the product aims at."""


FIRST_EVENTS = 3
"""Events a return waiting for its customer's choice has published: started, accepted and its
address sent."""


@dataclass
class Batch:
    """One batch of returns, each played to the end of its path."""

    kind: str
    """`real` (through the gateway), `bare` or `bare with feed` (benchmarks/bare_return.py)."""
    returns: int
    completed: int
    failures: list[str]
    seconds: float
    """From the first return's start to the last one's end."""
    returns_per_second: float
    seconds_per_return: dict[str, float]
    """Percentiles of each return's time from start to end, in ms."""
    choice_ms: dict[str, float]
    """The choice's latency: for a real return, as the customer app sees it (request sent →
    answer, retries included); for a bare one, from its start (it is chosen at once)."""
    retried: dict[str, int]
    """Requests the players sent again, by request and answer (`choice: 503`)."""
    choice_answered_later: int
    workflow_ids: list[str]
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    machine_cpu_busy_percent: int = 0
    cpu_seconds_elsewhere: float = 0.0
    """CPU the machine spent outside the stack and the benchmark meanwhile."""
    history: dict[str, Any] = field(default_factory=dict)
    """The mean history of a sample (benchmarks.returns_measure.Cost)."""
    feed_history: dict[str, Any] = field(default_factory=dict)
    """The same of the batch's event feeds (a workflow each), when its returns have them."""
    temporal_requests: dict[str, float] = field(default_factory=dict)
    """Requests Temporal's frontend served during the batch, per return, by operation (the
    dev server's own metrics): what the engine was asked to do for each."""


@dataclass
class Report:
    mode: str
    returns: int
    concurrency: int
    warmup: int
    reached: str = REACHED
    sqlite_pragmas: str = ""
    """The dev server's SQLite pragmas during the run (empty: SQLite's own defaults)."""
    event_feed: bool = True
    """Whether the stack's returns had an event feed subscriber (`--without-feed`: not)."""
    worker_settings: dict[str, str] = field(default_factory=dict)
    """The worker's tuning given in the environment (`RETURNFLOW_WORKER_*`; the rest default)."""
    real: dict[str, Any] = field(default_factory=dict)
    bare: dict[str, Any] = field(default_factory=dict)
    bare_with_feed: dict[str, Any] = field(default_factory=dict)
    """Bare returns each with a bare event feed: the real return's Temporal work, feed and
    all, with nothing in it."""
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    in_flight: dict[str, Any] = field(default_factory=dict)
    crash: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0

    @classmethod
    def of(cls, args: argparse.Namespace) -> Report:
        return cls(args.mode, args.returns, args.concurrency, args.warmup)

    @property
    def ratio(self) -> float | None:
        """Real returns per second over bare ones."""
        return _ratio(self.real, self.bare)

    @property
    def ratio_with_feed(self) -> float | None:
        """Real returns per second over bare ones with their feeds (when the real ones had
        theirs)."""
        return _ratio(self.real, self.bare_with_feed) if self.event_feed else None

    @property
    def passed(self) -> bool:
        batches = [self.real, self.bare] if self.mode == "throughput" else [self.real]
        if self.bare_with_feed:
            batches.append(self.bare_with_feed)
        if self.mode == "in-flight":
            batches.append(self.in_flight.get("alone", {}))
            waiting = self.in_flight.get("waiting_for_choice")
            if waiting != self.in_flight.get("returns"):
                return False
            # Their feeds' first events each out before the batch is timed.
            if self.in_flight.get("events_delivered", 0) < FIRST_EVENTS * (waiting or 0):
                return False
        if self.mode == "crash":
            if len(self.crash.get("kills", [])) != self.crash.get("kills_asked"):
                return False
            duplicates = self.crash.get("duplicates", {})
            # An email may go out twice inside its window (docs/store.md, Notices sent once):
            # counted and shown, not a failure.
            made_twice = ("labels_bought_twice", "pickups_booked_twice", "refunds_requested_twice")
            if any(duplicates.get(name, 1) for name in made_twice):
                return False
        return all(b and b["completed"] == b["returns"] and not b["failures"] for b in batches)

    def as_json(self) -> dict[str, Any]:
        figures = asdict(self)
        figures["ratio"] = self.ratio
        figures["ratio_with_feed"] = self.ratio_with_feed
        figures["ratio_goal"] = RATIO_GOAL
        return figures


def _ratio(real: dict[str, Any], bare: dict[str, Any]) -> float | None:
    if not real or not bare or not bare["returns_per_second"]:
        return None
    # Rounded once, to what the summary prints: 0.4355 is 0.44 in both.
    return round(float(real["returns_per_second"]) / float(bare["returns_per_second"]), 2)


def _requests(figures: dict[str, float]) -> str:
    """The requests made of Temporal per return, most first (those of at least 0.1)."""
    shown = sorted(((n, op) for op, n in figures.items() if n >= 0.1), reverse=True)
    return ", ".join(f"{op} {n:g}" for n, op in shown) or "-"


def _latency(figures: dict[str, float]) -> str:
    if not figures:
        return "-"
    return " / ".join(f"{figures[k]:.0f}" for k in ("p50", "p90", "p99", "max")) + " ms"


def _window(window: dict[str, float]) -> str:
    """The sent-notices window: from the relay's acceptance to the ledger's write."""
    if not window.get("notices"):
        return "-"
    return (
        f"{window['p50']:.1f} / {window['p99']:.1f} / {window['max']:.1f} ms "
        f"({window['notices']:.0f} notices)"
    )


def _cost(history: dict[str, Any]) -> str:
    if not history or not history.get("workflows"):
        return "-"
    kinds = ", ".join(f"{k} {n:g}" for k, n in history["by_kind"].items())
    spread = (
        f" ({history['actions_min']} to {history['actions_max']})"
        if history["actions_min"] != history["actions_max"]
        else ""
    )
    return (
        f"{history['events']:g} events, {history['history_kb']:g} KiB, "
        f"{history['actions']:g} actions{spread}: {kinds} "
        f"(mean of {history['workflows']})"
    )


def _mb(figures: dict[str, float]) -> str:
    return ", ".join(f"{name} {mb:.0f}" for name, mb in figures.items())


def batch_lines(title: str, batch: dict[str, Any]) -> list[str]:
    if not batch:
        return []
    cpu = ", ".join(f"{n} {s:.1f}" for n, s in batch["cpu_seconds"].items())
    lines = [
        f"{title}",
        f"  completed                    {batch['completed']}/{batch['returns']} in "
        f"{batch['seconds']:.1f} s: {batch['returns_per_second']:.2f} returns/s",
        f"  each, p50 / p90 / p99 / max  {_latency(batch['seconds_per_return'])}",
        f"  choice, p50 / p90 / p99 / max {_latency(batch['choice_ms'])}"
        + (" (sent at its start)" if batch["kind"].startswith("bare") else "")
        + (
            f" ({batch['choice_answered_later']} answered 202)"
            if batch["choice_answered_later"]
            else ""
        ),
        f"  history per return           {_cost(batch['history'])}",
    ]
    if batch["retried"]:
        sent_again = ", ".join(f"{what} x {n}" for what, n in sorted(batch["retried"].items()))
        lines.append(f"  sent again after             {sent_again}")
    if batch["feed_history"]:
        lines.append(f"  its event feed               {_cost(batch['feed_history'])}")
    if batch.get("temporal_requests"):
        lines.append(f"  Temporal requests per return {_requests(batch['temporal_requests'])}")
    if cpu:
        lines.append(
            f"  CPU seconds                  {cpu}; anything else "
            f"{batch['cpu_seconds_elsewhere']:.1f} (machine "
            f"{batch['machine_cpu_busy_percent']} % busy)"
        )
    lines += [f"  failure: {failure}" for failure in batch["failures"][:10]]
    return lines


def summary(report: Report) -> str:
    lines = [
        f"mode {report.mode}, {report.returns} returns a batch, {report.concurrency} at a time, "
        f"{report.warmup} first not counted",
        f"a return is complete at          {report.reached}",
        *batch_lines("bare returns (the ceiling)", report.bare),
        *batch_lines("bare returns with their event feeds", report.bare_with_feed),
    ]
    if report.in_flight:
        flight = report.in_flight
        lines += batch_lines("real returns alone, first", flight["alone"])
        lines += [
            f"left waiting for the choice      {flight['waiting_for_choice']} of "
            f"{flight['returns']} ({flight['withdrawn']} withdrawn; all waiting after "
            f"{flight['seconds_to_all_waiting']:.0f} s)",
            f"their feeds' first events        {flight.get('events_delivered', 0)} delivered "
            f"after {flight.get('seconds_to_feeds_delivered', 0):.0f} s; the batch below is "
            "timed after them",
            f"RSS before them (MB)             {_mb(flight['rss_mb_before'])}",
            f"RSS with them waiting (MB)       {_mb(flight['rss_mb_while_waiting'])}",
            f"RSS after the batch (MB)         {_mb(flight['rss_mb_after'])}",
        ]
        lines += batch_lines(f"real returns while the {flight['returns']} wait", report.real)
    else:
        lines += batch_lines("real returns", report.real)
    if report.ratio is not None:
        met = "met" if report.ratio >= RATIO_GOAL else "not met"
        lines.append(f"real / bare                      {report.ratio:.2f} (goal ≥ 0.9: {met})")
    if report.ratio_with_feed is not None:
        lines.append(f"real / bare with feeds           {report.ratio_with_feed:.2f}")
    if report.crash:
        kills = report.crash["kills"]
        found = report.crash["duplicates"]
        lines += [
            f"worker killed                    {len(kills)} of {report.crash['kills_asked']} "
            "times, with "
            + ", ".join(str(k["at_notices"]) for k in kills)
            + f" of the batch's {report.crash['batch_emails']} emails sent; polling again after "
            + ", ".join(f"{k['seconds_to_polling']:.1f}" for k in kills)
            + " s",
            f"made twice                       labels {found['labels_bought_twice']}, pickups "
            f"{found['pickups_booked_twice']}, refunds {found['refunds_requested_twice']}, "
            f"emails (same Message-ID) {found['emails_sent_twice']}",
            f"made in all                      {found['labels']} labels, {found['pickups']} "
            f"pickups, {found['refunds']} refunds, {found['emails']} emails",
            f"relay → ledger, p50 / p99 / max  {_window(report.crash.get('send_window_ms', {}))}",
            *(f"  {example}" for example in found["examples"]),
        ]
    lines += [
        f"peak RSS (MB)                    {_mb(report.peak_rss_mb)}",
        "the dev server's SQLite pragmas  " + (report.sqlite_pragmas or "SQLite's defaults"),
        "the real returns' event feed     "
        + ("to the marketplace sandbox" if report.event_feed else "none (no subscriber)"),
        "the worker's tuning              "
        + (", ".join(f"{k}={v}" for k, v in report.worker_settings.items()) or "the defaults"),
        f"wall time, stack start and stop  {report.wall_seconds:.1f} s",
        "PASS" if report.passed else "FAIL",
    ]
    return "\n".join(lines)
