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
from pathlib import Path

import structlog

log = structlog.get_logger("bytecode")


def compile_for_sandbox(modules: Iterable[str]) -> list[str]:
    """Write the missing or stale bytecode of `modules` (a package: every module in it) into
    their `__pycache__`, when Python would not write it itself. The modules left without it
    (a read-only directory not compiled when it was installed), which then compile on every
    import as before, are named in a warning."""
    if not sys.dont_write_bytecode:
        return []  # each first import writes it
    unwritten = []
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        places = list(spec.submodule_search_locations or [])
        sources = (
            [spec.origin]
            if not places
            else [str(path) for place in places for path in Path(place).rglob("*.py")]
        )
        stale = [source for source in sources if not _compiled(source)]
        if not stale:
            continue  # an image compiled when it was built, or an earlier start
        writable = all(os.access(os.path.dirname(source), os.W_OK) for source in stale)
        if not writable or not all(compileall.compile_file(s, quiet=1) for s in stale):
            unwritten.append(name)
    if unwritten:
        log.warning(
            "no bytecode for the workflow sandbox's modules: compiled again on every workflow "
            "run (compile them where they are installed: python -m compileall)",
            modules=unwritten,
        )
    return unwritten


def _compiled(source: str) -> bool:
    """Whether `source` has bytecode that imports take, where they look for it: its header
    names this Python and the source's modification time and size as they are now."""
    try:
        with open(importlib.util.cache_from_source(source), "rb") as compiled:
            header = compiled.read(16)
        stat = os.stat(source)
    except OSError:
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little"):
        return True  # checked against the source's hash by the import itself
    mtime = int.from_bytes(header[8:12], "little")
    size = int.from_bytes(header[12:16], "little")
    return mtime == int(stat.st_mtime) & 0xFFFFFFFF and size == stat.st_size & 0xFFFFFFFF
