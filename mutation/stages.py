"""A sampled judgement of the stage steps that run only inside a Temporal workflow.

    make mutation-stages [SAMPLE=80] [SEED=20261204] [JOBS=2]
    python -m mutation.stages --report      # the figures of the judged sample again

`make mutation` judges the stage modules' synchronous functions with the fast unit tests, and
counts their `async` steps (and `carrier.start_polling`) as not judged: only a workflow runs
them, and the tests that drive a workflow take seconds each. This module judges a random sample
of those mutants with those tests, so the share killed in the stage logic as a whole can be
estimated with a stated margin.

It reuses mutmut's mutated copies under `mutants/` (written by `make mutation`, or here by
mutmut's own generation step alone). Each copied function is a trampoline that runs the
original, or the mutant named by the environment variable `MUTANT_UNDER_TEST`. The workflow
sandbox does not re-import the stage modules: `ReturnWorkflow` imports them passed through, so
inside the sandbox they are the worker process's own modules, whose trampoline reads the real
`os.environ` (the sandbox's own `os.environ` is out of bounds to workflow code).

The sample: `SAMPLE` mutants drawn with `SEED`, from each module in proportion to its mutants,
judged in a shuffled order so that a run stopped early is still a random sample. Each is judged
by the workflow tests that drive returns through the stages against doubles (`JUDGES`), in a
fresh pytest process, stopping at the first failure. A test over `TEST_TIMEOUT` seconds, or a
mutant over its wall-clock cap, counts as killed (as mutmut counts a timeout) and is reported
apart. Before any mutant, the same tests run with no mutant active (`JOBS` at once, as the
mutants will): they must pass, or every mutant would look killed.

Results go to `mutants/stages.json` after each mutant; a second run judges only what is left
(`make mutation` starts `mutants/` afresh, and with it these results). Each mutant's pytest
output is kept in `mutants/stages/<mutant>.log`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from mutation.__main__ import MUTANTS, ROOT, STAGE_LOGIC, async_stage_steps, tally, where

RESULTS = MUTANTS / "stages.json"
LOGS = MUTANTS / "stages"

WORKFLOW_STEPS = {("workflows.stages.carrier", "start_polling")}
"""Synchronous, but called only by a workflow's run loop: judged here with the async steps."""

JUDGES = (
    "tests/workflows/lifecycle_test.py",
    "tests/workflows/races_test.py",
    "tests/workflows/refusals_test.py",
    "tests/workflows/guardrails_test.py",
    "tests/workflows/reminder_test.py",
    "tests/workflows/return_workflow_test.py",
    "tests/workflows/held_scans_test.py",
    "tests/workflows/withholding_test.py",
    "tests/workflows/parcel_to_seller_test.py",
    "tests/workflows/label_price_test.py",
    "tests/workflows/reported_destination_test.py",
)
"""The tests that drive returns through every stage against the activity doubles. Not the
real-activity suite (its own servers and minutes), the fuzz, the replay of recorded histories
nor versioning, whose time would cut the sample to a handful."""

TEST_TIMEOUT = 45
"""Seconds per test: three times the slowest judging test with no mutant active (16 s)."""

NO_MUTANT = "no-mutant"
"""A `MUTANT_UNDER_TEST` no function has: every trampoline runs the original."""

KILLED, TIMED_OUT, SURVIVED, ERROR = "killed", "timed out", "survived", "error"


def population() -> dict[str, list[str]]:
    """The mutants of the workflow-only steps, by module, in mutmut's order."""
    steps = async_stage_steps() | WORKFLOW_STEPS
    by_module: dict[str, list[str]] = {}
    for meta in sorted((MUTANTS / "workflows" / "stages").glob("*.py.meta")):
        for name in json.loads(meta.read_text("utf-8"))["exit_code_by_key"]:
            if where(name) in steps:
                by_module.setdefault(where(name)[0], []).append(name)
    return by_module


def draw(by_module: dict[str, list[str]], size: int, seed: int) -> list[str]:
    """`size` mutants, each module's share in proportion to its mutants (largest remainder),
    in a shuffled order."""
    total = sum(len(names) for names in by_module.values())
    size = min(size, total)
    quotas = {module: size * len(names) / total for module, names in by_module.items()}
    counts = {module: math.floor(quota) for module, quota in quotas.items()}
    by_remainder = sorted(quotas, key=lambda m: (counts[m] - quotas[m], m))
    for module in by_remainder[: size - sum(counts.values())]:
        counts[module] += 1
    rng = random.Random(seed)
    chosen = [n for m in sorted(by_module) for n in rng.sample(by_module[m], counts[m])]
    rng.shuffle(chosen)
    return chosen


def judge(mutant: str, cap: float) -> tuple[str, float]:
    """The verdict on `mutant` and the seconds it took."""
    LOGS.mkdir(exist_ok=True)
    log = LOGS / f"{mutant}.log"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        f"--timeout={TEST_TIMEOUT}",
        *JUDGES,
    ]
    env = {**os.environ, "MUTANT_UNDER_TEST": mutant}
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        # The venv's own Python on the project's tests, no input from outside. A session of
        # its own, so that a cap ends the test servers it started too.
        process = subprocess.Popen(  # noqa: S603
            command, cwd=MUTANTS, env=env, stdout=out, stderr=out, start_new_session=True
        )
        try:
            code = process.wait(timeout=cap)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return TIMED_OUT, time.monotonic() - started
    seconds = time.monotonic() - started
    if code == 0:
        return SURVIVED, seconds
    if code == 1:
        timed_out = "from pytest-timeout" in log.read_text("utf-8", errors="replace")
        return (TIMED_OUT if timed_out else KILLED), seconds
    return ERROR, seconds


def load() -> dict[str, object]:
    if RESULTS.exists():
        loaded: dict[str, object] = json.loads(RESULTS.read_text("utf-8"))
        return loaded
    return {"verdicts": {}}


def save(results: dict[str, object]) -> None:
    temporary = RESULTS.with_suffix(".tmp")
    temporary.write_text(json.dumps(results, indent=1, sort_keys=True), "utf-8")
    temporary.replace(RESULTS)


def generate() -> None:
    """mutmut's generation step alone: copy the sources and the tests into `mutants/`, mutate
    the configured modules (again only where a source is newer than its mutated copy)."""
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir

    os.chdir(ROOT)
    MUTANTS.mkdir(exist_ok=True)
    set_mutant_under_test("mutant_generation")
    try:
        copy_src_dir()
        copy_also_copy_files()
        create_mutants(os.cpu_count() or 1)
    finally:
        os.environ.pop("MUTANT_UNDER_TEST", None)


def check_no_mutant(jobs: int) -> float:
    """The judging tests pass with no mutant active, `jobs` runs at once; their wall-clock."""
    with ThreadPoolExecutor(jobs) as pool:
        runs = list(pool.map(lambda _: judge(NO_MUTANT, 30 * 60), range(jobs)))
    failed = [verdict for verdict, _ in runs if verdict != SURVIVED]
    if failed:
        raise SystemExit(
            f"The judging tests fail with no mutant active ({failed}): see {LOGS / NO_MUTANT}"
            ".log. Every mutant would count as killed; nothing judged."
        )
    return max(seconds for _, seconds in runs)


def run(size: int, seed: int, jobs: int) -> None:
    generate()
    sample = draw(population(), size, seed)
    results = load()
    verdicts: dict[str, dict[str, object]] = results["verdicts"]  # type: ignore[assignment]
    todo = [m for m in sample if m not in verdicts or verdicts[m]["verdict"] == ERROR]
    results.update(sample=size, seed=seed)
    if not todo:
        save(results)
        return
    started = time.monotonic()
    clean = check_no_mutant(jobs)
    cap = 3 * clean
    print(f"No mutant active: the judging tests pass in {clean:.0f} s; cap per mutant {cap:.0f} s")
    lock = threading.Lock()

    def one(mutant: str) -> None:
        verdict, seconds = judge(mutant, cap)
        with lock:
            verdicts[mutant] = {"verdict": verdict, "seconds": round(seconds, 1)}
            save(results)
            print(f"{len(verdicts):>4}/{len(sample)} {verdict:<9} {seconds:>5.0f} s  {mutant}")

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, todo))
    results["seconds"] = round(float(results.get("seconds", 0)) + time.monotonic() - started)  # type: ignore[arg-type]
    results["no_mutant_seconds"] = round(clean)
    save(results)


def wilson(killed: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a share `killed / total`."""
    if total == 0:
        return 0.0, 1.0
    p = killed / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return centre - margin, centre + margin


def report() -> None:
    by_module = population()
    results = load()
    size, seed = int(results.get("sample", 0)), int(results.get("seed", 0))  # type: ignore[call-overload]
    sample = draw(by_module, size, seed)
    verdicts: dict[str, dict[str, object]] = results["verdicts"]  # type: ignore[assignment]
    judged = {m: str(verdicts[m]["verdict"]) for m in sample if m in verdicts}
    counts = Counter(judged.values())
    total = sum(len(names) for names in by_module.values())
    killed = counts[KILLED] + counts[TIMED_OUT]
    done = killed + counts[SURVIVED]
    low, high = wilson(killed, done)
    share = killed / done if done else 0.0
    print(f"mutants of the workflow-only steps {total:>6}")
    print(f"sampled (seed {seed})            {size:>6}")
    print(f"judged                            {len(judged):>6}")
    print(f"killed                            {counts[KILLED]:>6}")
    print(f"timed out (counted as killed)     {counts[TIMED_OUT]:>6}")
    print(f"survived                          {counts[SURVIVED]:>6}")
    if counts[ERROR]:
        print(f"errors (not counted)              {counts[ERROR]:>6}")
    print(f"share killed {share:>6.1%}   95 % interval {low:.1%} to {high:.1%}")
    sync = tally()[STAGE_LOGIC]
    if sync.total and not sync.counts["other"]:
        whole = sync.total + total
        killed_sync = sync.counts["killed"]

        def combined(p: float) -> float:
            return (killed_sync + p * total) / whole

        print(
            f"\nstage logic as a whole: {sync.total} judged by `make mutation` "
            f"({killed_sync} killed) + {total} estimated from the sample\n"
            f"share killed {combined(share):>6.1%}   95 % interval "
            f"{combined(low):.1%} to {combined(high):.1%}"
        )
    else:
        print("\n(`make mutation` results absent: no estimate for the stage logic as a whole)")
    # Timed out counts as killed: what is left to kill or explain survived, or could not run.
    left = sorted(m for m, v in judged.items() if v in (SURVIVED, ERROR))
    if left:
        print("\nSurvived (each to kill with a test or explain in docs/testing.md):")
        for mutant in left:
            print(f"  {judged[mutant]}: {mutant}")
    if "seconds" in results:
        seconds = int(results["seconds"])  # type: ignore[call-overload]
        print(f"\nWall-clock time: {seconds / 60:.1f} min ({seconds} s)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation.stages")
    parser.add_argument("--sample", type=int, default=80)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--report", action="store_true", help="the figures of the last run")
    args = parser.parse_args(argv)
    if not args.report:
        run(args.sample, args.seed, args.jobs)
    report()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
