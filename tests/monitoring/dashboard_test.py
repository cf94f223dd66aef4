"""The Grafana dashboard as Grafana loads it: a well-formed dashboard model whose panels all
read the one Prometheus data source and only the product's and the SDK's metrics. (That the
services export each metric it reads is checked after a run: tests/e2e/telemetry_test.py.)"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

# Each panel type's and data source's options register with the model as their module loads.
import grafana_foundation_sdk.models.prometheus
import grafana_foundation_sdk.models.stat
import grafana_foundation_sdk.models.timeseries  # noqa: F401
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from plumbing import metrics
from tests.monitoring.references import dashboard, dashboard_expressions, metric_names, panels

PANEL_TYPES = {"row", "timeseries", "stat"}


def test_the_dashboard_is_a_grafana_dashboard_model() -> None:
    board = dashboard()

    assert board["uid"] == "returnflow" and board["title"]
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = Counter(p["id"] for p in panels(board))
    assert ids and max(ids.values()) == 1, "panel ids are unique"
    for panel in panels(board):
        assert panel["type"] in PANEL_TYPES, panel["title"]
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
        assert (
            0 <= panel["gridPos"]["x"] < 24 and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        )
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]


def lost(written: Any, read_back: Any, path: str = "") -> list[str]:
    """What of `written` is missing or different in `read_back`, by JSON path."""
    if isinstance(written, dict):
        if not isinstance(read_back, dict):
            return [f"{path}: not an object"]
        return [
            found
            for key, value in written.items()
            for found in (
                lost(value, read_back[key], f"{path}.{key}")
                if key in read_back
                else [f"{path}.{key}: unknown to Grafana's model"]
            )
        ]
    if isinstance(written, list):
        if not isinstance(read_back, list) or len(read_back) != len(written):
            return [f"{path}: not the same list"]
        return [
            f
            for i, (w, r) in enumerate(zip(written, read_back, strict=True))
            for f in lost(w, r, f"{path}[{i}]")
        ]
    return [] if written == read_back else [f"{path}: {written!r} read as {read_back!r}"]


# Grafana gives the dashboard its `id` on import (null in a file); `builtIn` marks Grafana's own
# annotation query, which its model leaves to Grafana.
NOT_IN_THE_MODEL = [
    ".id: unknown to Grafana's model",
    ".annotations.list[0].builtIn: unknown to Grafana's model",
]


def test_grafanas_own_dashboard_model_reads_every_field_of_it() -> None:
    board = dashboard()

    read_back = json.loads(json.dumps(Dashboard.from_json(board), cls=JSONEncoder))

    assert board["id"] is None and board["annotations"]["list"][0]["builtIn"] == 1
    assert lost(board, read_back) == NOT_IN_THE_MODEL


def test_a_field_grafana_does_not_know_would_show() -> None:
    board = dashboard()
    board["panels"][1]["fieldConfig"]["defaults"]["colour"] = "red"
    board["panels"][1]["gridpos"] = board["panels"][1]["gridPos"]

    read_back = json.loads(json.dumps(Dashboard.from_json(board), cls=JSONEncoder))

    assert set(lost(board, read_back)) - set(NOT_IN_THE_MODEL) == {
        ".panels[1].fieldConfig.defaults.colour: unknown to Grafana's model",
        ".panels[1].gridpos: unknown to Grafana's model",
    }


def test_the_dashboard_shows_returns_carriers_notices_the_gateway_and_the_workers() -> None:
    read = {name for e in dashboard_expressions(dashboard()) for name in metric_names(e)}

    assert {
        metrics.RETURNS_IN_STAGE.name,
        metrics.RETURNS_NEEDING_ATTENTION.name,
        metrics.RETURNS_ENDED.name,
        metrics.CARRIER_CALLS.name,
        metrics.CARRIER_CALL_SECONDS.name,
        metrics.EMAILS.name,
        metrics.HTTP_REQUESTS.name,
        metrics.DEAD_LETTERS.name,
        "temporal_worker_task_slots_used",
        "temporal_workflow_task_schedule_to_start_latency",
    } <= read


def test_every_product_metric_it_reads_is_one_of_the_catalogue() -> None:
    read = {name for e in dashboard_expressions(dashboard()) for name in metric_names(e)}
    catalogue = {m.name for m in metrics.CATALOGUE}

    assert {n for n in read if n.startswith("returnflow_")} <= catalogue
