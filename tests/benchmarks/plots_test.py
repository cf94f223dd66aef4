"""The benchmarks' images: drawn from the committed data, readable, the same bytes every time."""

from __future__ import annotations

import copy
import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from benchmarks import plots

SVG = "{http://www.w3.org/2000/svg}"
MEASURED = {
    "date": "2026-12-05T07:41:12+00:00",
    "command": "make bench-gateway",
    "machine": {
        "cpus": 2,
        "cpu_model": "AMD EPYC",
        "memory_gib": 23.5,
        "os": "Debian GNU/Linux 12 (bookworm)",
        "python": "3.11.7",
    },
    "version": "0.3.0",
}


def percentiles(p50: float, p90: float, p99: float, top: float) -> dict[str, float]:
    return {"p50": p50, "p90": p90, "p99": p99, "max": top, "mean": p50}


def gateway_report() -> dict[str, Any]:
    return {
        "measured": MEASURED,
        "events_sent": 100,
        "distinct": 90,
        "redeliveries": 10,
        "concurrency": 5,
        "order_prefix": "ORD-1-",
        "answers": {"200": 10, "202": 90, "503": 3},
        "retried_503": 3,
        "retried_transport": 0,
        "failures": [],
        "latency_ms": percentiles(41.5, 87.25, 160.0, 212.3),
        "latency_ms_created": percentiles(44.0, 90.0, 161.0, 212.3),
        "latency_ms_duplicate": percentiles(6.5, 9.0, 11.0, 12.0),
        "load_seconds": 2.5,
        "events_per_second": 40.0,
        "returns_found": 90,
        "visibility_seconds": 1.0,
        "past_intake_at_count": 90,
        "notices_sent_at_count": 80,
        "gateway_peak_rss_mb": 93.4,
        "cpu_seconds_during_load": {"gateway": 1.5},
        "machine_cpu_busy_percent": 88,
        "cpu_seconds_elsewhere": 0.3,
        "wall_seconds": 20.0,
        "passed": True,
    }


def codec_report() -> dict[str, Any]:
    return {
        "measured": {**MEASURED, "command": "make bench-codec"},
        "rounds": 100,
        "requests": 50,
        "concurrency": 2,
        "in_process": [
            {
                "payload": "retract event",
                "plain_bytes": 1834,
                "encrypted_bytes": 1890,
                "encode_us": 31.42,
                "decode_us": 22.5,
            },
            {
                "payload": "tracking scan",
                "plain_bytes": 260,
                "encrypted_bytes": 316,
                "encode_us": 9.75,
                "decode_us": 7.0,
            },
        ],
        "decode_one_ms": percentiles(3.0, 4.0, 6.0, 9.0),
        "decode_twenty_ms": percentiles(7.0, 9.0, 13.0, 17.0),
        "requests_per_second": {"1 payloads": 1200, "20 payloads": 600},
        "refused": 0,
        "peak_rss_mb": 80.0,
    }


def carrier_report() -> dict[str, Any]:
    ids = [f"return-{n}" for n in range(3)]
    return {
        "measured": {**MEASURED, "command": "make bench-carriers"},
        "returns": 3,
        "error_rate": 0.2,
        "slow_rate": 0.1,
        "slow_seconds": 4.0,
        "carrier_timeout_seconds": 3.0,
        "picked_up": 3,
        "labels_per_return": dict.fromkeys(ids, 1),
        "pickups_per_return": dict.fromkeys(ids, 1),
        "faults_injected": {
            "requests": 27,
            "injected": {"error_before": 4, "error_after": 2, "slow": 3, "rate_limit": 0},
        },
        "activity_attempts": 40,
        "activities_retried": 6,
        "seconds_to_choice_ready": [1.0, 2.0, 3.0],
        "seconds_total": 61.5,
        "webhook_deliveries": 3,
        "webhook_attempts": 4,
        "passed": True,
    }


def actions_report() -> dict[str, Any]:
    def path(events: int, actions: int) -> dict[str, Any]:
        return {"events": events, "actions": actions, "by_kind": {"start": 1}}

    return {
        "measured": {**MEASURED, "command": "make bench-actions"},
        "rejected": path(20, 5),
        "choice_changes_capped": path(108, 27),
        "happy_mailbox_pickup": path(52, 14),
    }


HAND_MADE = {
    "gateway-load": gateway_report,
    "codec": codec_report,
    "carrier-faults": carrier_report,
    "actions": actions_report,
}


def benchmark(name: str) -> plots.Benchmark:
    return next(b for b in plots.BENCHMARKS if b.name == name)


def parse(svg: str) -> ET.Element:
    """The drawing as XML: it must be well-formed (the images are this project's own output)."""
    return ET.fromstring(svg.encode())  # noqa: S314


def texts(svg: str) -> list[str]:
    return [element.text or "" for element in parse(svg).iter(f"{SVG}text")]


def title(svg: str) -> str:
    title = parse(svg).find(f"{SVG}title")
    assert title is not None
    return title.text or ""


# The committed data and images.


def test_the_committed_images_are_what_the_committed_data_draws() -> None:
    assert plots.check() == [], "draw them again: make bench-plots"


@pytest.mark.parametrize("bench", plots.BENCHMARKS, ids=lambda b: b.name)
def test_each_benchmark_has_committed_data_and_its_image(bench: plots.Benchmark) -> None:
    assert (plots.DOCS / "data" / f"{bench.name}.json").exists(), f"run {bench.target}"
    assert (plots.DOCS / f"{bench.name}.svg").exists(), "run make bench-plots"


@pytest.mark.parametrize(
    "data_file", sorted((plots.DOCS / "data").glob("*.json")), ids=lambda p: p.name
)
def test_committed_data_says_when_how_and_where_it_was_measured(data_file: Path) -> None:
    measured = json.loads(data_file.read_text(encoding="utf-8"))["measured"]

    date = dt.datetime.fromisoformat(measured["date"])
    assert date.utcoffset() == dt.timedelta(0)
    assert measured["command"].startswith(("make bench-", "python -m benchmarks."))
    machine = measured["machine"]
    assert machine["cpus"] >= 1
    assert machine["cpu_model"]
    assert machine["memory_gib"] > 0
    assert machine["os"]
    assert machine["python"].startswith("3.")
    assert measured["version"]


@pytest.mark.parametrize("svg_file", sorted(plots.DOCS.glob("*.svg")), ids=lambda p: p.name)
def test_committed_images_are_well_formed_svg(svg_file: Path) -> None:
    svg = svg_file.read_text(encoding="utf-8")
    assert parse(svg).tag == f"{SVG}svg"
    assert any(line.startswith("Measured ") for line in texts(svg))


# Drawing.


@pytest.mark.parametrize("name", HAND_MADE)
def test_a_drawing_is_well_formed_and_the_same_bytes_every_time(name: str) -> None:
    first = plots.render(benchmark(name), HAND_MADE[name]())
    again = plots.render(benchmark(name), copy.deepcopy(HAND_MADE[name]()))

    assert first == again
    root = parse(first)
    assert root.tag == f"{SVG}svg"
    assert int(root.attrib["height"]) > 200
    assert root.attrib["viewBox"] == f"0 0 {root.attrib['width']} {root.attrib['height']}"


@pytest.mark.parametrize("name", HAND_MADE)
def test_every_drawing_has_the_measured_caption(name: str) -> None:
    shown = texts(plots.render(benchmark(name), HAND_MADE[name]()))

    command = HAND_MADE[name]()["measured"]["command"]
    assert f"Measured 2026-12-05 07:41 UTC · command: {command} · returnflow 0.3.0" in shown, shown
    assert (
        "Machine: 2 CPUs (AMD EPYC), 23.5 GiB of memory, Debian GNU/Linux 12 (bookworm), "
        "Python 3.11.7." in shown
    )


def test_the_gateway_drawing_shows_the_latency_percentiles_and_the_throughput() -> None:
    svg = plots.render(benchmark("gateway-load"), gateway_report())
    shown = texts(svg)

    assert title(svg) == "Gateway: 100 signed order events, each acknowledged"
    assert "Gateway: 100 signed order events, each acknowledged" in shown
    assert {"latency (ms)", "percentile of the answers"} <= set(shown)
    assert {"p50", "p90", "p99", "max"} <= set(shown)
    assert {"all answers", "202 created", "200 duplicate"} <= set(shown)
    assert {"41.5", "87.2", "160", "212", "6.5", "12.0"} <= set(shown)
    prose = " ".join(shown)
    assert "Throughput 40.0 events/s" in prose
    assert "Returns found through visibility: 90 of 90. Pass." in prose


def test_the_codec_drawing_shows_the_cost_per_payload_and_the_decode_latency() -> None:
    shown = texts(plots.render(benchmark("codec"), codec_report()))

    assert {"time per payload (µs)", "latency (ms)"} <= set(shown)
    assert {"retract event", "1,834 B → 1,890 B", "tracking scan"} <= set(shown)
    assert {"encrypt", "decrypt", "1 payload per request", "20 payloads per request"} <= set(shown)
    assert {"31.4", "22.5", "9.8", "7.0", "3.0", "17.0"} <= set(shown)


def test_the_carrier_drawing_counts_the_outcomes_and_the_faults() -> None:
    shown = texts(plots.render(benchmark("carrier-faults"), carrier_report()))

    assert {"returns started", "picked up", "labels created", "pickups booked"} <= set(shown)
    assert {"carrier requests", "errors before the work", "slow answers"} <= set(shown)
    assert "rate limited (429)" not in shown  # none was injected
    assert {"27", "40", "6"} <= set(shown)
    assert "3.0 s timeout). 61.5 s from the first" in " ".join(shown)


def test_the_actions_drawing_puts_the_costliest_path_first() -> None:
    shown = texts(plots.render(benchmark("actions"), actions_report()))

    paths = [t for t in shown if t in actions_report()]
    assert paths == ["choice_changes_capped", "happy_mailbox_pickup", "rejected"]
    assert "measured" not in shown
    assert {"billable actions", "history events", "27", "108", "5", "20"} <= set(shown)


def test_text_is_escaped() -> None:
    report = actions_report()
    report["a<b>&c"] = {"events": 1, "actions": 1, "by_kind": {}}

    svg = plots.render(benchmark("actions"), report)

    assert "a<b>&c" in texts(svg)


def test_a_report_without_its_stamp_still_draws_and_says_so() -> None:
    report = gateway_report()
    del report["measured"]

    shown = texts(plots.render(benchmark("gateway-load"), report))

    assert "Measured: when, how and where is not recorded in this data." in shown


@pytest.mark.parametrize(
    ("highest", "end", "step"),
    [(212.3, 250, 50), (27, 30, 10), (1211, 1250, 250), (0.8, 0.8, 0.2), (0, 1.0, 0.25)],
)
def test_the_value_axis_ends_on_a_round_step(highest: float, end: float, step: float) -> None:
    assert plots.scale(highest) == pytest.approx((end, step))


# Copying, drawing and checking a docs directory.


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def test_stamped_reports_are_copied_and_drawn(tmp_path: Path) -> None:
    results, docs = tmp_path / "var", tmp_path / "docs"
    write_json(results / "gateway-load.json", gateway_report())
    unstamped = codec_report()
    del unstamped["measured"]
    write_json(results / "codec.json", unstamped)

    said = plots.copy_reports(results, docs)
    plots.draw_all(docs)

    assert (docs / "data" / "gateway-load.json").read_bytes() == (
        results / "gateway-load.json"
    ).read_bytes()
    assert not (docs / "data" / "codec.json").exists()
    assert any("codec.json: no `measured` stamp" in line for line in said)
    assert sorted(p.name for p in docs.glob("*.svg")) == ["gateway-load.svg"]
    assert plots.check(docs) == []


def test_the_check_names_an_image_that_is_not_what_its_data_draws(tmp_path: Path) -> None:
    for name, make in HAND_MADE.items():
        write_json(tmp_path / "data" / f"{name}.json", make())
    plots.draw_all(tmp_path)
    assert plots.check(tmp_path) == []

    report = codec_report()
    report["in_process"][0]["encode_us"] = 99.0
    write_json(tmp_path / "data" / "codec.json", report)
    (tmp_path / "actions.svg").unlink()

    problems = plots.check(tmp_path)

    assert len(problems) == 2
    assert (
        f"{tmp_path / 'codec.svg'} is not what {tmp_path / 'data' / 'codec.json'} draws"
        in problems[0]
    )
    assert f"{tmp_path / 'actions.svg'} is missing" in problems[1]


def test_the_check_names_an_image_without_data(tmp_path: Path) -> None:
    (tmp_path / "codec.svg").write_text("<svg/>")

    assert plots.check(tmp_path) == [
        f"{tmp_path / 'codec.svg'}: no data to draw it from "
        f"({tmp_path / 'data' / 'codec.json'} is missing)"
    ]
