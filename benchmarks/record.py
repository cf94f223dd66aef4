"""When, how and where a benchmark was measured: the `measured` stamp in each benchmark's JSON.

    {"date": "2026-12-05T07:41:12+00:00",
     "command": "make bench-gateway",
     "machine": {"cpus": 2, "cpu_model": "AMD EPYC", "memory_gib": 23.5,
                 "os": "Debian GNU/Linux 12 (bookworm)", "python": "3.11.7"},
     "version": "0.3.0"}

The command is the one a user types: `make bench-<x>` when make ran it (the Makefile names its
target in BENCH_COMMAND), otherwise `python -m benchmarks.<module>`; either way followed by the
arguments given.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

COMMAND_VARIABLE = "BENCH_COMMAND"
"""Set by the Makefile's bench targets to the command that ran the benchmark (`make $@`)."""


def measured(module: str, args: Sequence[str]) -> dict[str, Any]:
    """The stamp of a run of `python -m <module> <args>` starting now, on this machine."""
    return {
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "command": command(module, args),
        "machine": machine(),
        "version": package_version(),
    }


def command(module: str, args: Sequence[str]) -> str:
    """The command line as typed: `make bench-<x> [VARIABLE=value ...]` as make ran it (the
    arguments are its variables'), or `python -m <module>` and `args`."""
    made = os.environ.get(COMMAND_VARIABLE, "").strip()
    if made:
        return made
    typed = f"python -m {module}"
    return " ".join([typed, shlex.join(args)]) if args else typed


def machine(
    proc: Path = Path("/proc"), os_release: Path = Path("/etc/os-release")
) -> dict[str, Any]:
    """CPU count and model, memory, operating system and Python version of this machine."""
    cpuinfo = _read(proc / "cpuinfo")
    processors = [line for line in cpuinfo.splitlines() if line.startswith("processor")]
    models = [
        line.split(":", 1)[1].strip()
        for line in cpuinfo.splitlines()
        if line.startswith("model name") and ":" in line
    ]
    memory_kib = next(
        (
            int(line.split()[1])
            for line in _read(proc / "meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    return {
        "cpus": len(processors) or os.cpu_count() or 0,
        "cpu_model": models[0] if models else platform.processor() or "unknown",
        "memory_gib": round(memory_kib / 1024**2, 1),
        "os": _pretty_name(_read(os_release)) or platform.platform(),
        "python": platform.python_version(),
    }


def package_version() -> str:
    try:
        return importlib.metadata.version("returnflow")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def describe_machine(machine: dict[str, Any]) -> str:
    """`2 CPUs (AMD EPYC), 23.5 GiB of memory, Debian GNU/Linux 12 (bookworm), Python 3.11.7`"""
    cpus = machine.get("cpus", "?")
    plural = "" if cpus == 1 else "s"
    return (
        f"{cpus} CPU{plural} ({machine.get('cpu_model', 'unknown')}), "
        f"{machine.get('memory_gib', '?')} GiB of memory, {machine.get('os', 'unknown')}, "
        f"Python {machine.get('python', '?')}"
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _pretty_name(text: str) -> str:
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "PRETTY_NAME":
            return value.strip().strip("\"'")
    return ""
