"""The workflow sandbox's modules keep their bytecode even when the process writes none
(`PYTHONDONTWRITEBYTECODE`): the worker compiles them once at start."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from plumbing.bytecode import compile_for_sandbox


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package `returns_wf` with two modules, importable, its bytecode never written."""
    root = tmp_path / "returns_wf"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "loop.py").write_text("STAGES = ('awaiting_choice', 'picked_up')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    return root


def test_a_process_writing_no_bytecode_has_the_sandboxs_modules_compiled_once(
    package: Path,
) -> None:
    unwritten = compile_for_sandbox(["returns_wf"])

    assert unwritten == []
    compiled = Path(importlib.util.cache_from_source(str(package / "loop.py")))
    assert compiled.exists()
    before = compiled.stat().st_mtime_ns
    assert compile_for_sandbox(["returns_wf"]) == []  # up to date: left as it is
    assert compiled.stat().st_mtime_ns == before


def test_a_read_only_package_is_named_and_left_to_compile_as_before(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The image's source, owned by root, as the worker's unprivileged user sees it.
    monkeypatch.setattr("plumbing.bytecode.os.access", lambda path, mode: False)

    unwritten = compile_for_sandbox(["returns_wf"])

    assert unwritten == ["returns_wf"]
    assert not (package / "__pycache__").exists()


def test_a_process_that_writes_bytecode_itself_is_left_to_it(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)

    assert compile_for_sandbox(["returns_wf"]) == []
    assert not (package / "__pycache__").exists()
