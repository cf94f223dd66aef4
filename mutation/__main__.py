"""Run mutmut from scratch, then report the share of mutants killed per group and overall.

    make mutation                          # the same as: python -m mutation
    .venv/bin/mutmut show <mutant name>    # the change a listed survivor makes

What is mutated and which tests judge it is configured once, in pyproject.toml's
`[tool.mutmut]`: the domain rules (eligibility, the carrier calendar, the models' own checks)
and the stage logic (the transition table's functions, admission, the return's state, the
stage modules' synchronous functions), judged by the fast unit tests that exercise them.

Some functions are mutated but not judged, and counted apart ("not judged"): the stage modules'
`async` steps and `carrier.start_polling` run only inside a Temporal workflow, whose tests take
seconds each, far too long to run once per mutant; `transitions._unshipped` runs once, at
import, to build the transition table, so no mutant of it is ever active while a test runs.

The groups are by module, except in `workflows/return_state.py`, whose deadline properties
(ship-by, refund due, expiry and the other clocks) are domain rules: the law's periods as a
return counts them.

mutmut writes everything under `mutants/` (git-ignored): the mutated copies, one `.meta` file
of results per module, and `run.log`, mutmut's own output. The page docs/testing.md explains
the figures and every surviving mutant.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mutation import unreached

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
MUTMUT = Path(sys.executable).with_name("mutmut")
UNREACHED_RESULTS = MUTANTS / "unreached.json"

DOMAIN_RULES = "domain rules"
STAGE_LOGIC = "stage logic"
NOT_JUDGED = "not judged"

DEADLINES = frozenset(
    {
        "notice_at",
        "ship_by",
        "refund_due_by",
        "expires_at",
        "rejection_review_ends",
        "seller_reminder_at",
        "escalation_at",
    }
)
"""The `ReturnState` properties that compute a return's deadlines."""

WORKFLOW_ONLY = {
    ("workflows.stages.carrier", "start_polling"),
    ("workflows.transitions", "_unshipped"),
}
"""Synchronous functions left unjudged, with the async stage steps (see the docstring)."""


def async_stage_steps() -> set[tuple[str, str]]:
    """(module, function) of every top-level `async def` in the stage modules."""
    steps = set()
    for path in sorted((ROOT / "workflows" / "stages").glob("*.py")):
        module = f"workflows.stages.{path.stem}"
        tree = ast.parse(path.read_text("utf-8"))
        steps |= {(module, n.name) for n in tree.body if isinstance(n, ast.AsyncFunctionDef)}
    return steps


STATUS_BY_EXIT_CODE = {1: "killed", 3: "killed", 0: "survived", 33: "no tests", 5: "no tests"}
TIMEOUT_CODES = frozenset({36, 24, -24, 152, 255})


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def share_killed(self) -> float:
        return self.counts["killed"] / self.total if self.total else 0.0

    def line(self, name: str) -> str:
        c = self.counts
        return (
            f"{name:<13} {self.total:>6} {c['killed']:>7} {c['survived']:>9} "
            f"{c['timeout']:>9} {c['no tests']:>9} {c['other']:>6} {self.share_killed:>8.1%}"
        )


def where(mutant: str) -> tuple[str, str]:
    """(module, function) of mutmut's `domain.eligibility.x_…__mutmut_3` or
    `workflows.return_state.xǁReturnStateǁpoll_at__mutmut_1`, and of the properties' and
    constants' `workflows.return_state.ReturnState.ship_by__2` (mutation/unreached.py)."""
    if "__mutmut_" in mutant:
        module, _, rest = mutant.partition(".x")
        return module, rest.rsplit("__mutmut_", 1)[0].split("ǁ")[-1].removeprefix("_")
    dotted = mutant.rsplit("__", 1)[0]
    for path in unreached.TARGETS:
        module = path.removesuffix(".py").replace("/", ".")
        if dotted.startswith(f"{module}."):
            return module, dotted.rsplit(".", 1)[-1]
    raise LookupError(mutant)


def group_of(mutant: str, unjudged: set[tuple[str, str]]) -> str:
    module, function = where(mutant)
    if (module, function) in unjudged:
        return NOT_JUDGED
    if module.startswith("domain."):
        return DOMAIN_RULES
    if module == "workflows.return_state" and function in DEADLINES:
        return DOMAIN_RULES
    return STAGE_LOGIC


def status_of(exit_code: int | None) -> str:
    if exit_code in TIMEOUT_CODES:
        return "timeout"
    return STATUS_BY_EXIT_CODE.get(exit_code, "other") if exit_code is not None else "other"


def tally() -> dict[str, Tally]:
    groups = {DOMAIN_RULES: Tally(), STAGE_LOGIC: Tally(), NOT_JUDGED: Tally()}
    unjudged = async_stage_steps() | WORKFLOW_ONLY
    results: dict[str, int | None] = {}
    for meta in sorted(MUTANTS.glob("**/*.py.meta")):
        results.update(json.loads(meta.read_text("utf-8"))["exit_code_by_key"])
    if UNREACHED_RESULTS.exists():
        results.update(json.loads(UNREACHED_RESULTS.read_text("utf-8")))
    for mutant, exit_code in results.items():
        group = groups[group_of(mutant, unjudged)]
        status = status_of(exit_code)
        group.counts[status] += 1
        if status != "killed" and group is not groups[NOT_JUDGED]:
            group.survivors.append(f"{status}: {mutant}")
    return groups


def run_mutmut() -> int:
    shutil.rmtree(MUTANTS, ignore_errors=True)
    MUTANTS.mkdir()
    log = MUTANTS / "run.log"
    with log.open("w", encoding="utf-8") as out:
        # The venv's own mutmut, no input from outside.
        done = subprocess.run(  # noqa: S603
            [str(MUTMUT), "run"], cwd=ROOT, stdout=out, stderr=out, check=False
        )
    if done.returncode != 0:
        print(log.read_text("utf-8")[-3000:], file=sys.stderr)
        print(f"mutmut failed ({done.returncode}): see {log}", file=sys.stderr)
    return done.returncode


def report(groups: dict[str, Tally], seconds: float | None) -> None:
    print(
        f"{'group':<13} {'total':>6} {'killed':>7} {'survived':>9} "
        f"{'timed out':>9} {'no tests':>9} {'other':>6} {'killed %':>8}"
    )
    overall = Tally()
    for name in (DOMAIN_RULES, STAGE_LOGIC):
        print(groups[name].line(name))
        overall.counts.update(groups[name].counts)
    print(overall.line("overall"))
    print(groups[NOT_JUDGED].line(NOT_JUDGED))
    for name, group in groups.items():
        if group.survivors:
            print(f"\nNot killed, {name}:")
            for survivor in sorted(group.survivors):
                print(f"  {survivor}")
    if seconds is not None:
        print(f"\nWall-clock time: {seconds / 60:.1f} min ({seconds:.0f} s)")


def main(argv: list[str]) -> int:
    """`python -m mutation` runs everything; `--report` reads the results of the last run."""
    seconds = None
    if "--report" not in argv:
        started = time.monotonic()
        code = run_mutmut()
        if code != 0:
            return code
        UNREACHED_RESULTS.write_text(json.dumps(unreached.run(), indent=1), "utf-8")
        seconds = time.monotonic() - started
    report(tally(), seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
