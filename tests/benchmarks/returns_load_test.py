"""`make bench-returns` in small: real and bare returns through a stack of their own, the report
they make, its verdict and its drawing."""

from __future__ import annotations

import copy
import json
import os
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from benchmarks import plots, returns_load
from benchmarks.returns_measure import Duplicates, per_return, served_by_frontend
from benchmarks.returns_paths import MailWatch
from benchmarks.returns_report import Report, summary
from devstack.config import StackConfig
from domain.notices import NoticeKind
from mail_sink.mailbox import Mailbox
from plumbing.settings import Settings
from tests.benchmarks.plots_test import MEASURED, parse, texts

PROCESSES = {
    "temporal",
    "worker",
    "gateway",
    "carrier-sandbox",
    "marketplace-sandbox",
    "mail-sink",
    "codec-server",
    "bare worker",
    "benchmark script",
}
QUICK = "--returns 3 --concurrency 3 --warmup 0 --histories 3 --settle 0"
"""Three returns of each kind, at once, none first, no pause between the batches."""
SAME_COMMANDS = ("start", "activities", "signals", "updates", "upserts")
"""The kinds of billable action the bare return gives Temporal as many of as a real one. (Its
markers are as many, but the workflow tasks they come in, each one action, differ.)"""


@pytest.mark.e2e
async def test_three_real_and_three_bare_returns_reach_the_proof_of_dispatch(
    tmp_path: Path,
) -> None:
    args = returns_load.parser().parse_args(QUICK.split())

    environment = dict(os.environ)
    began = time.monotonic()
    report = await returns_load.run_mode(args, tmp_path / "var")
    wall = time.monotonic() - began

    # The stack's exemption from the rate limits was its own: this process's is as it was.
    assert dict(os.environ) == environment
    assert report.passed, summary(report)
    real, bare, fed = report.real, report.bare, report.bare_with_feed
    for batch in (real, bare, fed):
        assert batch["completed"] == 3
        assert batch["failures"] == []
        # Each batch is timed inside the run, and its rate is of the returns it completed.
        assert 0 < batch["seconds"] < wall
        assert batch["returns_per_second"] >= 3 / wall
        assert len(batch["workflow_ids"]) == 3
    assert all(w.startswith("return-") for w in real["workflow_ids"])
    assert all(w.startswith("bare-") for w in bare["workflow_ids"] + fed["workflow_ids"])
    choice = real["choice_ms"]
    assert 0 < choice["p50"] <= choice["p90"] <= choice["p99"] <= choice["max"]
    assert real["history"]["workflows"] == real["feed_history"]["workflows"] == 3
    for kind in SAME_COMMANDS:
        assert real["history"]["by_kind"][kind] == bare["history"]["by_kind"][kind], kind
    assert real["history"]["by_kind"]["activities"] == 7
    # Its markers come in 4 or 5 workflow tasks, as the messages come: one action each.
    assert 20 <= bare["history"]["actions"] <= 21, bare["history"]["by_kind"]
    # The bare feed gives Temporal what the real one does on this path: started by the first
    # hand-over, signalled by each, one delivery each.
    for kind in SAME_COMMANDS:
        assert fed["history"]["by_kind"][kind] == bare["history"]["by_kind"][kind], kind
    assert not bare["feed_history"]
    for kind in ("start", "activities", "signals", "upserts"):
        bare_feed, real_feed = fed["feed_history"]["by_kind"], real["feed_history"]["by_kind"]
        assert bare_feed.get(kind, 0) == real_feed.get(kind, 0), kind
    # What Temporal was asked per return: the hand-overs to a feed are signals-with-start
    # (a real return's last one comes after its last notice: it may fall after the batch);
    # the bare return alone makes none.
    assert fed["temporal_requests"]["SignalWithStartWorkflowExecution"] == 3
    assert 2 <= real["temporal_requests"]["SignalWithStartWorkflowExecution"] <= 3
    assert "SignalWithStartWorkflowExecution" not in bare["temporal_requests"]
    assert real["temporal_requests"]["StartWorkflowExecution"] == 1
    assert real["temporal_requests"]["UpdateWorkflowExecution"] == 1
    assert (
        real["temporal_requests"]["RespondWorkflowTaskCompleted"]
        > (bare["temporal_requests"]["RespondWorkflowTaskCompleted"])
    )
    assert real["cpu_seconds"]["worker"] > 0
    assert bare["cpu_seconds"]["bare worker"] > 0
    assert report.ratio == pytest.approx(
        real["returns_per_second"] / bare["returns_per_second"], abs=0.005
    )
    assert report.ratio_with_feed == pytest.approx(
        real["returns_per_second"] / fed["returns_per_second"], abs=0.005
    )
    assert "real / bare with feeds" in summary(report)
    assert report.peak_rss_mb.keys() >= PROCESSES
    assert all(mb > 5 for mb in report.peak_rss_mb.values())
    figures = json.loads(json.dumps(report.as_json()))
    assert figures["ratio_goal"] == 0.9
    assert figures["reached"].startswith("picked_up")


def batch(kind: str, per_second: float) -> dict[str, Any]:
    def cost(events: float, actions: float) -> dict[str, Any]:
        return {
            "workflows": 3,
            "events": events,
            "history_kb": 20.0,
            "actions": actions,
            "actions_min": 22,
            "actions_max": 24,
            "by_kind": {"start": 1, "activities": 7},
        }

    return {
        "kind": kind,
        "returns": 3,
        "completed": 3,
        "failures": [],
        "seconds": round(3 / per_second, 2),
        "returns_per_second": per_second,
        "seconds_per_return": {"p50": 900.0, "p90": 950.0, "p99": 990.0, "max": 990.0},
        "choice_ms": {"p50": 320.5, "p90": 410.0, "p99": 480.0, "max": 480.0, "mean": 330.0},
        "retried": {},
        "choice_answered_later": 0,
        "workflow_ids": [f"{kind}-{n}" for n in range(3)],
        "cpu_seconds": {"temporal": 1.5, "worker": 2.0},
        "machine_cpu_busy_percent": 80,
        "cpu_seconds_elsewhere": 0.1,
        "history": cost(75.0, 24.0) if kind == "real" else cost(70.0, 24.0),
        "feed_history": cost(60.0, 12.5) if kind == "real" else {},
    }


def report(mode: str = "throughput") -> Report:
    made = Report(mode, 3, 3, 0, real=batch("real", 2.5), bare=batch("bare", 10.0))
    made.peak_rss_mb = {"temporal": 230.0, "worker": 160.0, "bare worker": 120.0}
    return made


def test_the_verdict_needs_every_return_at_the_end_of_its_path() -> None:
    assert report().passed
    short = report()
    short.real["completed"] = 2
    assert not short.passed
    assert "FAIL" in summary(short)


def test_a_crash_run_fails_on_a_label_pickup_or_refund_made_twice_or_a_kill_missed() -> None:
    crashed = report("crash")
    clean = asdict(Duplicates(returns=3, labels=3, pickups=3, refunds=3, emails=12))
    kills = [{"at_notices": 5, "seconds_to_polling": 1.0}]
    crashed.crash = {"kills_asked": 1, "kills": kills, "batch_emails": 12, "duplicates": clean}
    assert crashed.passed
    assert "worker killed                    1 of 1 times, with 5 of the batch's 12" in summary(
        crashed
    )

    crashed.crash["kills"] = []
    assert not crashed.passed
    crashed.crash["kills"] = kills

    # An email sent again after a kill inside its window is shown, not failed.
    crashed.crash["duplicates"] = clean | {"emails_sent_twice": 1}
    assert crashed.passed
    for made_twice in ("labels_bought_twice", "pickups_booked_twice", "refunds_requested_twice"):
        crashed.crash["duplicates"] = clean | {made_twice: 1}
        assert not crashed.passed, made_twice


def test_an_in_flight_run_times_its_batch_only_once_the_waiting_returns_feeds_are_out() -> None:
    flying = report("in-flight")
    rss = {"worker": 200.0}
    flying.in_flight = {
        "returns": 100,
        "withdrawn": 100,
        "waiting_for_choice": 100,
        "seconds_to_all_waiting": 9.5,
        "events_delivered": 300,
        "seconds_to_feeds_delivered": 12.0,
        "rss_mb_before": rss,
        "rss_mb_while_waiting": rss,
        "rss_mb_after": rss,
        "alone": batch("real", 2.5),
    }
    assert flying.passed
    assert "their feeds' first events        300 delivered after 12 s" in summary(flying)

    flying.in_flight["events_delivered"] = 299  # the backlog still going out
    assert not flying.passed


def test_the_ratio_is_real_over_bare_against_its_goal() -> None:
    shown = summary(report())

    assert report().ratio == 0.25
    assert "real / bare                      0.25 (goal ≥ 0.9: not met)" in shown

    # Rounded once: the report's figure and the printed one agree.
    near_half = Report("throughput", 3, 3, 0, real=batch("real", 6.11), bare=batch("bare", 14.03))
    assert near_half.ratio == 0.44
    assert near_half.as_json()["ratio"] == 0.44
    assert "real / bare                      0.44" in summary(near_half)


def test_the_ratio_to_bare_returns_with_feeds_is_of_real_returns_with_theirs() -> None:
    fed = report()
    fed.bare_with_feed = batch("bare with feed", 5.0)
    assert fed.ratio_with_feed == 0.5
    assert "real / bare with feeds           0.50" in summary(fed)
    assert "the real returns' event feed     to the marketplace sandbox" in summary(fed)

    fed.event_feed = False
    assert fed.ratio_with_feed is None
    assert "real / bare with feeds" not in summary(fed)
    assert "the real returns' event feed     none (no subscriber)" in summary(fed)


async def test_the_mail_watch_knows_each_return_s_notices_by_their_files(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)
    for message_id in (
        "<return-O1-1.return_address.1@returns.example>",
        "<return-O1-1.return_label.1@returns.example>",
        "<return-O2-1.return_address.1@returns.example>",
        "<not-a-notice@elsewhere.example>",
    ):
        mailbox.store(f"Message-ID: {message_id}\r\nSubject: x\r\n\r\nbody\r\n".encode())
    watch = MailWatch(tmp_path)

    await watch.read()
    await watch.read()

    assert watch.had("return-O1-1") == {NoticeKind.RETURN_ADDRESS, NoticeKind.RETURN_LABEL}
    assert watch.count(NoticeKind.RETURN_ADDRESS, "return-O") == 2
    assert watch.count(NoticeKind.RETURN_LABEL, "return-O2") == 0
    await watch.until("return-O1-1", frozenset({NoticeKind.RETURN_LABEL}))


def test_the_drawing_shows_every_rate_the_choice_and_the_processes() -> None:
    fed = report()
    fed.bare_with_feed = batch("bare with feed", 5.0)
    fed.bare_with_feed["feed_history"] = fed.real["feed_history"]
    data = fed.as_json() | {"measured": {**MEASURED, "command": "make bench-returns"}}
    benchmark = next(b for b in plots.BENCHMARKS if b.name == "returns-load")

    svg = plots.render(benchmark, data)

    assert svg == plots.render(benchmark, copy.deepcopy(data))
    assert parse(svg).tag == "{http://www.w3.org/2000/svg}svg"
    shown = texts(svg)
    assert {"bare (the ceiling)", "real, through the gateway", "10.0", "2.5"} <= set(shown)
    assert {"bare with its event feed", "5.0", "bare's event feed"} <= set(shown)
    assert {"p50", "p99", "320", "480"} <= set(shown)
    assert {"history events", "billable actions", "real's event feed"} <= set(shown)
    assert {"temporal", "worker", "bare worker", "230"} <= set(shown)
    prose = " ".join(shown)
    assert "Real over bare: 0.25 (goal 0.9: not met); over bare with its event feed: 0.5" in prose
    assert "command: make bench-returns" in prose


def test_without_feed_the_stacks_workers_have_no_subscriber(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = StackConfig.on_free_ports(tmp_path / "var")

    with_feed = returns_load.stack_for(returns_load.arguments([]), config)
    without = returns_load.stack_for(returns_load.arguments(["--without-feed"]), config)

    assert with_feed.env["RETURNFLOW_EVENT_SUBSCRIBERS"].startswith("marketplace=")
    # Everything else the workers read is the same.
    assert {k: v for k, v in without.env.items() if k not in returns_load.FEED_SETTINGS} == {
        k: v for k, v in with_feed.env.items() if k not in returns_load.FEED_SETTINGS
    }
    # A subscriber in the shell the workers inherit does not come back: the stack's
    # environment comes after the inherited one, as the stack starts its processes.
    monkeypatch.chdir(tmp_path)  # and no `.env` of the project's
    for setting, value in with_feed.env.items():
        if setting in returns_load.FEED_SETTINGS:
            monkeypatch.setenv(setting, value)
    assert Settings().subscribers()
    for setting in returns_load.FEED_SETTINGS:
        monkeypatch.setenv(setting, without.env[setting])
    assert Settings().subscribers() == {}


def test_without_feed_is_refused_where_a_mode_counts_on_the_feeds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for mode in ("in-flight", "crash"):
        with pytest.raises(SystemExit):
            returns_load.arguments(["--mode", mode, "--without-feed"])
        assert "--without-feed: only with --mode throughput" in capsys.readouterr().err


def test_temporal_s_requests_are_read_by_operation_from_its_frontend_alone() -> None:
    exposition = "\n".join(
        [
            "# HELP service_requests service_requests counter",
            "# TYPE service_requests counter",
            'service_requests{namespace="default",operation="StartWorkflowExecution",'
            'service_name="frontend"} 300',
            'service_requests{service_name="frontend",operation="RespondWorkflowTaskCompleted",'
            'namespace="default"} 1.2345e+06',
            'service_requests{namespace="other",operation="StartWorkflowExecution",'
            'service_name="frontend"} 5 1765100000000',
            'service_requests{namespace="default",operation="StartWorkflowExecution",'
            'service_name="history"} 300',
            'service_requests_latency_count{operation="StartWorkflowExecution",'
            'service_name="frontend"} 300',
            'persistence_requests{operation="CreateWorkflowExecution"} 300',
        ]
    )

    served = served_by_frontend(exposition)

    assert served == {"StartWorkflowExecution": 305, "RespondWorkflowTaskCompleted": 1234500}
    assert per_return(Counter(StartWorkflowExecution=5), served, 100) == {
        "RespondWorkflowTaskCompleted": 12345.0,
        "StartWorkflowExecution": 3.0,
    }
