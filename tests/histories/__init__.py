"""Recorded histories of `ReturnWorkflow`, one per path, replayed by the test suite.

Every path of the workflow has a scenario in `scenarios.py`; `python -m tests.histories.record`
(`make histories`) plays them on the time-skipping dev server and saves each history here as
`{scenario}.json`. `tests/workflows/replay_test.py` replays them against the current code, so a
change that would break the returns already running (nondeterminism) fails the tests.

Keep old histories when the workflow changes: they are the returns still in flight.
"""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import WorkflowHistory

HISTORIES = Path(__file__).parent
"""Where the JSON histories live."""


def history_files() -> list[Path]:
    """Every recorded history, by name."""
    return sorted(HISTORIES.glob("*.json"))


def history_path(name: str) -> Path:
    return HISTORIES / f"{name}.json"


def feed_history_path(name: str) -> Path:
    """The history of the event feed of a scenario's return (`EventFeedWorkflow`)."""
    return HISTORIES / "feeds" / f"{name}.json"


def workflow_id_of(history_json: str, default: str = "replayed-return") -> str:
    """The workflow ID a history was recorded under (its start event names it; the JSON of
    `WorkflowHistory.to_json()` has no other place for it)."""
    events = json.loads(history_json).get("events") or [{}]
    started = events[0].get("workflowExecutionStartedEventAttributes", {})
    workflow_id = started.get("workflowId")
    return workflow_id if isinstance(workflow_id, str) and workflow_id else default


def load_history(path: Path) -> WorkflowHistory:
    """A recorded history, with the workflow ID it ran under."""
    text = path.read_text(encoding="utf-8")
    return WorkflowHistory.from_json(workflow_id_of(text, default=path.stem), text)
