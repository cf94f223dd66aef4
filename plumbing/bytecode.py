"""Compiled bytecode for the modules the workflow sandbox imports again on every workflow run.

The sandbox runs each new workflow run (a new return, or one back in the cache after it left)
in a fresh copy of its workflow modules, imported again. Python reads a module's compiled
bytecode from its `__pycache__` when it is there and up to date, and compiles the source
otherwise; a process started with `PYTHONDONTWRITEBYTECODE` (as container images often are)
never writes it, so every run would compile the workflow modules again: about 4 % of a busy
worker's CPU (docs/benchmarks.md, Where a real return's time goes). A worker compiles them
once, at start; an image compiles them when it is built (the Dockerfile), its source being
read-only to the worker's user.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import sys
from collections.abc import Iterable

import structlog

log = structlog.get_logger("bytecode")


def compile_for_sandbox(modules: Iterable[str]) -> list[str]:
    """Write the missing or stale bytecode of `modules` (a package: every module in it) into
    their `__pycache__`, when Python would not write it itself. The modules it could not write
    for (a read-only directory), which then compile on every import as before."""
    if not sys.dont_write_bytecode:
        return []  # each first import writes it
    unwritten = []
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        places = list(spec.submodule_search_locations or [])
        where = places[0] if places else os.path.dirname(spec.origin)
        if not os.access(where, os.W_OK):
            unwritten.append(name)
        elif places:
            if not all(compileall.compile_dir(place, quiet=2, workers=1) for place in places):
                unwritten.append(name)
        elif not compileall.compile_file(spec.origin, quiet=2):
            unwritten.append(name)
    if unwritten:
        log.warning(
            "no bytecode for the workflow sandbox's modules: compiled again on every workflow "
            "run (compile them where they are installed: python -m compileall)",
            modules=unwritten,
        )
    return unwritten
