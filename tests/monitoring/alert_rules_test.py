"""The alert rules as Prometheus reads them: valid, each one fired by a series that should fire
it and quiet on one that should not (promtool, from Debian's `prometheus` package), and each
with its runbook in the docs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

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
