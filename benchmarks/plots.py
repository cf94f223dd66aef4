"""The benchmarks' figures as images: one SVG per benchmark, drawn from its JSON.

    python -m benchmarks.plots [--check]        (make bench-plots)

Copies each benchmark's report under var/bench/ (what `make bench-<x>` writes) that carries its
`measured` stamp into docs/benchmarks/data/, then draws docs/benchmarks/<name>.svg from
docs/benchmarks/data/<name>.json alone: the same JSON always gives the same bytes. Each image
has a title, axes labelled with their units, the values written on the bars, and a caption with
when, by which command and on which machine the figures were measured. Each benchmark's drawing
is in benchmarks/figures.py, on the SVG helpers of benchmarks/svg.py.

With --check nothing is copied or written: exit status 1, naming the file, when a committed SVG
is not what the committed data draws (or is missing, or has no data).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.figures import (
    actions,
    carrier_faults,
    codec,
    gateway_flood,
    gateway_load,
    returns_load,
    telemetry_cost,
)
from benchmarks.svg import Figure
from benchmarks.svg import scale as scale  # re-exported: tests check the axes' scale here

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "var" / "bench"
DOCS = ROOT / "docs" / "benchmarks"


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
