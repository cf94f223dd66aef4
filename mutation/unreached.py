"""Mutants of what mutmut leaves alone: properties and the legal periods.

mutmut mutates plain functions and methods only: not a `@property` (its trampoline cannot wrap
one), nor a module's constants. The return's deadlines are properties of `ReturnState`
(`ship_by`, `refund_due_by`, `expires_at`, ...) and the law's periods are constants
(`SHIPPING_DAYS`, `REFUND_DAYS`, `LEGAL_MINIMUM_DAYS`, ...). This module mutates them the way mutmut
would: one change at a time (an operator swapped, `max` for `min`, a comparison turned, a
number off by one, a branch's value taken away), each in a fresh copy of the sources under
`mutants/unreached/`, judged by the same fast tests (pyproject.toml's `[tool.mutmut]`).
"""

from __future__ import annotations

import ast
import copy
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "mutants" / "unreached"

TARGETS: dict[str, tuple[str, ...]] = {
    "domain/returns.py": ("SHIPPING_DAYS", "REFUND_DAYS", "SHIPPING_PERIOD", "REFUND_PERIOD"),
    "domain/eligibility.py": ("LEGAL_MINIMUM_DAYS",),
    "workflows/return_state.py": (
        "ReturnState.notice_at",
        "ReturnState.ship_by",
        "ReturnState.refund_due_by",
        "ReturnState.expires_at",
        "ReturnState.rejection_review_ends",
        "ReturnState.seller_reminder_at",
        "ReturnState.escalation_at",
        "ReturnState.tracking_number",
        "ReturnState.parcel",
    ),
    "workflows/parcel_scans.py": ("ParcelScans.dispatch_scan", "ParcelScans.delivery_scan"),
}
"""The properties and constants mutated, by file."""

_SWAPS: dict[type[ast.AST], type[ast.AST]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.And: ast.Or,
    ast.Or: ast.And,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}
_CALLS = {"max": "min", "min": "max", "next": "list"}


@dataclass(frozen=True)
class Mutant:
    name: str
    """`<module>.<target>__<n>`, as in the report."""
    path: str
    source: str


def _changes(node: ast.AST) -> Iterator[tuple[ast.AST, ast.AST]]:
    """Each (node, its mutated copy) inside `node`."""
    for child in ast.walk(node):
        for op_field in ("op", "ops"):
            value = getattr(child, op_field, None)
            ops = value if isinstance(value, list) else [value]
            for i, op in enumerate(ops):
                if op is not None and type(op) in _SWAPS:
                    mutated = copy.deepcopy(child)
                    new_op = _SWAPS[type(op)]()
                    if isinstance(value, list):
                        getattr(mutated, op_field)[i] = new_op
                    else:
                        setattr(mutated, op_field, new_op)
                    yield child, mutated
        called = child.func if isinstance(child, ast.Call) else None
        if isinstance(called, ast.Name) and called.id in _CALLS:
            mutated = copy.deepcopy(child)
            assert isinstance(mutated, ast.Call) and isinstance(mutated.func, ast.Name)
            mutated.func.id = _CALLS[called.id]
            yield child, mutated
        if isinstance(child, ast.Constant) and type(child.value) is int:
            yield child, ast.Constant(child.value + 1)
        if isinstance(child, ast.IfExp):
            yield child, ast.Constant(None)
        returns_none = isinstance(child, ast.Return) and (
            child.value is None
            or (isinstance(child.value, ast.Constant) and child.value.value is None)
        )
        if isinstance(child, ast.Return) and not returns_none:
            yield child, ast.Return(ast.Constant(None))


def _target_node(tree: ast.Module, target: str) -> ast.AST:
    owner, _, member = target.rpartition(".")
    scope: list[ast.stmt] = tree.body
    if owner:
        scope = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == owner).body
    for node in scope:
        if isinstance(node, ast.FunctionDef) and node.name == member:
            return node
        if isinstance(node, ast.Assign | ast.AnnAssign):
            names = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(n, ast.Name) and n.id == member for n in names):
                return node.value if node.value is not None else node
    raise LookupError(target)


class _Replace(ast.NodeTransformer):
    def __init__(self, old: ast.AST, new: ast.AST) -> None:
        self.old, self.new = old, new

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.old:
            return ast.copy_location(self.new, node)
        visited: ast.AST = super().visit(node)
        return visited


def mutants() -> list[Mutant]:
    found = []
    for path, targets in TARGETS.items():
        module = path.removesuffix(".py").replace("/", ".")
        text = (ROOT / path).read_text("utf-8")
        for target in targets:
            count = len(list(_changes(_target_node(ast.parse(text), target))))
            for n in range(count):
                # A fresh tree for each mutant: the change replaces one of its own nodes.
                tree = ast.parse(text)
                old, new = list(_changes(_target_node(tree, target)))[n]
                mutated = ast.fix_missing_locations(_Replace(old, new).visit(tree))
                found.append(Mutant(f"{module}.{target}__{n + 1}", path, ast.unparse(mutated)))
    return found


def _tests() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]
    return [*config["pytest_add_cli_args"], *config["pytest_add_cli_args_test_selection"]]


def _prepare() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    for name in ("domain", "workflows", "tests", "docs"):
        shutil.copytree(ROOT / name, WORK / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, WORK / name)


def run() -> dict[str, int]:
    """Each mutant's pytest exit code: 0 means it survived."""
    _prepare()
    results = {}
    for mutant in mutants():
        target = WORK / mutant.path
        original = target.read_text("utf-8")
        target.write_text(mutant.source, "utf-8")
        try:
            done = subprocess.run(  # noqa: S603 - the venv's own Python, no outside input
                [sys.executable, "-m", "pytest", "-x", "-p", "no:cacheprovider", *_tests()],
                cwd=WORK,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
                timeout=120,
            )
            results[mutant.name] = done.returncode
        except subprocess.TimeoutExpired:
            results[mutant.name] = 36
        finally:
            target.write_text(original, "utf-8")
    return results
