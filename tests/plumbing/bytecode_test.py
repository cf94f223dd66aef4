"""The workflow sandbox's modules keep their bytecode even when the process writes none
(`PYTHONDONTWRITEBYTECODE`): the worker compiles them once at start."""

from __future__ import annotations

import compileall
import importlib.util
import os
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


def test_a_read_only_package_compiled_when_installed_is_left_as_it_is(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The image compiled its source when it was built; its user cannot write there.
    assert compileall.compile_dir(str(package), quiet=1)
    monkeypatch.setattr("plumbing.bytecode.os.access", lambda path, mode: False)

    assert compile_for_sandbox(["returns_wf"]) == []


def test_a_module_changed_since_it_was_compiled_is_compiled_again(package: Path) -> None:
    assert compile_for_sandbox(["returns_wf"]) == []
    compiled = Path(importlib.util.cache_from_source(str(package / "loop.py")))
    source = package / "loop.py"
    source.write_text("STAGES = ('awaiting_choice', 'picked_up', 'delivered')\n")
    later = compiled.stat().st_mtime + 10
    os.utime(source, (later, later))

    assert compile_for_sandbox(["returns_wf"]) == []
    # The bytecode now names the source as it is: imports take it.
    assert int.from_bytes(compiled.read_bytes()[8:12], "little") == int(later)


def test_a_process_that_writes_bytecode_itself_is_left_to_it(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)

    assert compile_for_sandbox(["returns_wf"]) == []
    assert not (package / "__pycache__").exists()
