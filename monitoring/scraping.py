"""The Prometheus configuration of a stack: every service scraped, the alert rules loaded."""

from __future__ import annotations

import json
from pathlib import Path

RULES = Path(__file__).resolve().parent / "prometheus" / "alerts.yml"
"""The alert rules (their runbooks: docs/telemetry.md#runbooks)."""

PROMETHEUS = Path("/usr/bin/prometheus")
"""Debian's Prometheus (package `prometheus`), which the dev stack runs when installed."""


TEMPORAL_JOB = "temporal"
"""The job of the Temporal server, when the stack scrapes it (the dev server)."""

SERVER_SDK_SERIES_DROPPED = {
    "metric_relabel_configs": [
        {"source_labels": ["__name__"], "regex": "temporal_.*", "action": "drop"}
    ]
}
"""The server's own system workers export the SDK's `temporal_*` series under the names the
returnflow worker's have: kept, they would count the server's task queues in the alerts and the
dashboard's worker panels. The server's own metrics have other names and are kept."""


def prometheus_config(targets: dict[str, str], interval_seconds: int = 5) -> str:
    """A configuration scraping each `service: HOST:PORT` of `targets` under the job `service`,
    with the product's alert rules."""
    scrape = [
        {"job_name": service, "static_configs": [{"targets": [address]}]}
        | (SERVER_SDK_SERIES_DROPPED if service == TEMPORAL_JOB else {})
        for service, address in sorted(targets.items())
    ]
    config = {
        "global": {
            "scrape_interval": f"{interval_seconds}s",
            "evaluation_interval": f"{interval_seconds}s",
        },
        "rule_files": [str(RULES)],
        "scrape_configs": scrape,
    }
    # JSON is YAML: no YAML library needed at run time.
    return json.dumps(config, indent=2) + "\n"
