"""What each path of a return costs on Temporal Cloud: its events and its billable actions.

    python -m benchmarks.actions        (make bench-actions)

Reads the recorded histories under tests/histories/ (`make histories` records them) and counts,
for each path, the events and the actions as Temporal Cloud bills them:

- the workflow's start: 1 (with its first signal, for a workflow signalled with start: a
  signal-with-start is one action, whether it starts the workflow or not);
- each activity scheduled: 1, and 1 more per retry (the attempt number of its start event);
- markers: 1 for all the markers one workflow task completion recorded, local activities and
  patches alike (the Cloud counts a task's `RecordMarker` commands as one);
- each timer started, signal received, update accepted, search attribute upsert, memo upsert,
  and signal or cancellation sent to another workflow: 1; an upsert of `TemporalChangeVersion`
  alone (a patch's) is not billed;
- each child workflow started: 2 (its start and its execution).

Prints a markdown table and writes it as JSON to var/bench/actions.json: each path's counts
under its name, and under `measured` when, how and where they were counted (benchmarks/record.py).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from benchmarks.record import measured

HISTORIES = Path("tests/histories")
OUTPUT = Path("var/bench/actions.json")
CHANGE_VERSION = "TemporalChangeVersion"
"""The search attribute the SDK upserts for each patch taken: exempt from action counting."""

_ONE_ACTION_EACH: dict[EventType.ValueType, str] = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "start",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activities",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signals",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "updates",
    EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: "memo upserts",
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "child workflows",
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: "signals sent",
    EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: "cancels sent",
}

KINDS = (
    "start",
    "markers",
    "activities",
    "activity retries",
    "timers",
    "signals",
    "updates",
    "upserts",
    "memo upserts",
    "child workflows",
    "signals sent",
    "cancels sent",
)
"""The kinds of billable action, in the order they are shown."""


@dataclass
class Counts:
    """One history's events and billable actions."""

    events: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def actions(self) -> int:
        return sum(self.by_kind.values())

    def breakdown(self) -> str:
        return ", ".join(f"{kind} {n}" for kind, n in self.by_kind.items() if n)


def count(history_json: str) -> Counts:
    """The events and billable actions of a history (the JSON of `WorkflowHistory.to_json()`
    or of the CLI's and the Web UI's export)."""
    events = WorkflowHistory.from_json("counted", history_json).events
    kinds: Counter[str] = Counter()
    marker_tasks: set[int] = set()
    for event in events:
        kind = _ONE_ACTION_EACH.get(event.event_type)
        if kind is not None:
            kinds[kind] += 1
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attempt = event.activity_task_started_event_attributes.attempt
            kinds["activity retries"] += max(attempt - 1, 0)
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            marker_tasks.add(marker.workflow_task_completed_event_id)
        elif event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            if set(fields.indexed_fields) - {CHANGE_VERSION}:
                kinds["upserts"] += 1
        elif event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            kinds["child workflows"] += 1  # its execution, besides its start (counted above)
    if len(events) > 1 and events[1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        kinds["signals"] -= 1  # signalled with its start: one action for both
    kinds["markers"] = len(marker_tasks)
    return Counts(events=len(events), by_kind={kind: kinds[kind] for kind in KINDS})


def count_file(path: Path) -> Counts:
    return count(path.read_text(encoding="utf-8"))


def table(counted: dict[str, Counts]) -> str:
    """A markdown table: path | events | actions | breakdown by kind."""
    rows = [
        "| path | events | actions | breakdown |",
        "|---|---:|---:|---|",
        *(
            f"| {name} | {c.events} | {c.actions} | {c.breakdown()} |"
            for name, c in counted.items()
        ),
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    stamp = measured("benchmarks.actions", argv or [])
    histories = Path(argv[0]) if argv else HISTORIES
    # The `.before-<patch>` copies are the paths of builds before, kept to replay.
    files = sorted(p for p in histories.glob("*.json") if ".before-" not in p.name)
    if not files:
        print(f"no history under {histories}/: record them with `make histories`")
        return 1
    counted = {path.stem: count_file(path) for path in files}
    print(table(counted))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {"measured": stamp}
    report |= {
        name: {"events": c.events, "actions": c.actions, "by_kind": c.by_kind}
        for name, c in counted.items()
    }
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
