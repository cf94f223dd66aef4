"""The alert rules as Prometheus reads them: valid, each one fired by a series that should fire
it and quiet on one that should not (promtool, from Debian's `prometheus` package), and each
with its runbook in the docs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from monitoring.scraping import prometheus_config
from plumbing.metrics import SDK_BUCKETS
from tests.monitoring.references import ALERT_RULES, ALERT_TESTS, alert_rules

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert Path(PROMTOOL).exists(), "promtool is missing: `make prometheus` installs it"
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_finds_the_rules_valid() -> None:
    checked = promtool("check", "rules", str(ALERT_RULES))

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in checked.stdout


def test_every_alert_fires_and_stays_quiet_as_its_unit_tests_say() -> None:
    tested = promtool("test", "rules", str(ALERT_TESTS))

    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_case_that_fires_it_and_one_that_does_not() -> None:
    cases = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in cases:
        for check in case["alert_rule_test"]:
            (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in alert_rules()}

    assert alerts - fired == set()
    assert alerts - quiet == set()


def test_every_alert_names_a_runbook_paragraph_of_the_docs() -> None:
    docs = (ROOT / "docs" / "telemetry.md").read_text()
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", docs, re.MULTILINE)}
    for rule in alert_rules():
        runbook = rule["annotations"]["runbook"]
        page, _, anchor = runbook.partition("#")
        assert page == "docs/telemetry.md", rule["alert"]
        assert anchor in anchors, (rule["alert"], anchor)
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]


def _anchor(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_alerts_tests_use_only_the_buckets_the_worker_exports() -> None:
    """A bucket boundary the worker does not export would test a quantile no worker gives
    (the SDK's own buckets jump from 10 s to 100 s: the worker sets its own, SDK_BUCKETS)."""
    cases = yaml.safe_load(ALERT_TESTS.read_text(encoding="utf-8"))["tests"]
    used: set[tuple[str, str]] = set()
    for case in cases:
        for series in case.get("input_series", []):
            name, _, labels = series["series"].partition("{")
            if name.endswith("_bucket") and name.startswith("temporal_"):
                (le,) = re.findall(r'le="([^"]+)"', labels)
                used.add((name.removesuffix("_bucket"), le))

    assert used
    for histogram, le in used:
        assert le == "+Inf" or float(le) in SDK_BUCKETS[histogram], (histogram, le)


def test_the_dev_stacks_prometheus_keeps_the_servers_own_metrics_not_its_sdk_series() -> None:
    """The dev server's system workers export the SDK's series under the worker's names."""
    config = json.loads(
        prometheus_config({"worker": "127.0.0.1:9464", "temporal": "127.0.0.1:9467"})
    )
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    assert "metric_relabel_configs" not in jobs["worker"]
    (dropped,) = jobs["temporal"]["metric_relabel_configs"]
    assert dropped == {"source_labels": ["__name__"], "regex": "temporal_.*", "action": "drop"}
