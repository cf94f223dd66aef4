"""The metrics that the alert rules and the dashboard read, by name, to compare with what the
services export."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parents[2] / "monitoring"
ALERT_RULES = HERE / "prometheus" / "alerts.yml"
ALERT_TESTS = HERE / "prometheus" / "alerts_test.yml"
DASHBOARD = HERE / "grafana" / "returnflow.json"

_NAME = re.compile(r"\b((?:returnflow|temporal)_[a-zA-Z0-9_]+)")
_HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")

SDK_ON_FAILURE = frozenset(
    {
        "temporal_workflow_task_execution_failed",
        "temporal_activity_execution_failed",
        "temporal_request_failure",
    }
)
"""SDK metrics a process exports only once something has failed (so not after a clean run)."""


def metric_names(expression: str) -> set[str]:
    """The product's and the SDK's metrics a PromQL expression reads (a histogram by its
    family name)."""
    found = set()
    for name in _NAME.findall(expression):
        for suffix in _HISTOGRAM_SERIES:
            if name.endswith(suffix):
                name = name.removesuffix(suffix)
                break
        found.add(name)
    return found


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERT_RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those folded in a row too."""
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_expressions(board: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in panels(board) for t in p.get("targets", []) if "expr" in t]


def read_by_alerts() -> set[str]:
    return {name for rule in alert_rules() for name in metric_names(rule["expr"])}


def read_by_dashboard() -> set[str]:
    return {name for e in dashboard_expressions(dashboard()) for name in metric_names(e)}
