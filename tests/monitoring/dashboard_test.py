"""The Grafana dashboard as Grafana loads it: a well-formed dashboard model whose panels all
read the one Prometheus data source and only the product's and the SDK's metrics. (That the
services export each metric it reads is checked after a run: tests/e2e/telemetry_test.py.)"""

from __future__ import annotations

from collections import Counter

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
