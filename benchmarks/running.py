"""What every benchmark script does at its end: write its stamped report, say it, and exit."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn

from plumbing.temporal import exit_process


async def publish(
    path: Path, stamp: dict[str, Any], figures: dict[str, Any], passed: bool, summary: str
) -> int:
    """Write the report (`measured` stamp, figures, verdict) to `path` as JSON, print the
    summary; the exit status: 0 on a pass."""
    text = json.dumps({"measured": stamp, **figures, "passed": passed}, indent=2)
    await asyncio.to_thread(path.write_text, text + "\n")
    print(summary)
    print(f"report: {path}")
    return 0 if passed else 1


def run_to_exit(main: Callable[[], Coroutine[Any, Any, int]]) -> NoReturn:
    """Run the benchmark's `main` and exit with its status (130 on Ctrl-C), without waiting
    for the SDK's threads."""
    try:
        code = asyncio.run(main())
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    exit_process(code)
