"""The dashboard's counts as Prometheus computes them (promtool, from Debian's `prometheus`
package), on series that start the way the services' do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.monitoring.alert_rules_test import promtool
from tests.monitoring.references import dashboard, panels

REFUSED = 'returnflow_carrier_calls_total{{carrier="{0}",operation="{1}",outcome="auth_failed"}}'


def _expression(title: str) -> str:
    (panel,) = [p for p in panels(dashboard()) if p["title"] == title]
    (target,) = panel["targets"]
    return str(target["expr"])


def _evaluated(
    tmp_path: Path,
    expr: str,
    series: list[dict[str, str]],
    expected: list[dict[str, Any]],
    at: str,
) -> Any:
    case = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1h",
                "input_series": series,
                "promql_expr_test": [{"expr": expr, "eval_time": at, "exp_samples": expected}],
            }
        ],
    }
    path = tmp_path / "dashboard_test.yml"
    path.write_text(yaml.safe_dump(case))
    return promtool("test", "rules", str(path))


def test_credentials_refused_counts_a_carriers_first_refusal_and_none_older_than_a_day(
    tmp_path: Path,
) -> None:
    """A worker's first refusal of a kind starts its series at 1: the stat counts it. Refusals
    of more than a day ago are not counted."""
    series = [
        # Refused once at 10:00, the series' first sample.
        {"series": REFUSED.format("easypost", "create_return_label"), "values": "_x10 1x20"},
        # At 0 from the start, 3 refusals in the last hours.
        {"series": REFUSED.format("colissimo", "book_mailbox_pickup"), "values": "0x25 3x4"},
        # Refused twice two days ago, nothing since.
        {"series": REFUSED.format("sandbox", "void_label"), "values": "2x30"},
    ]
    expr = _expression("Carrier credentials refused (24 h)")
    expected = [
        {"labels": '{carrier="colissimo"}', "value": 3},
        {"labels": '{carrier="easypost"}', "value": 1},
        {"labels": '{carrier="sandbox"}', "value": 0},
    ]

    answer = _evaluated(tmp_path, expr, series, expected, at="29h")

    assert answer.returncode == 0, answer.stdout + answer.stderr
