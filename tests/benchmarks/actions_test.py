"""Billable actions counted from a recorded history as Temporal Cloud bills them."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from benchmarks import actions
from benchmarks.actions import CHANGE_VERSION, count_file
from tests.histories import load_history

HISTORIES = Path("tests/histories")


def events_of(path: Path) -> list[HistoryEvent]:
    return list(load_history(path).events)


def test_a_patchs_change_version_upsert_is_not_billed_and_the_others_are() -> None:
    path = HISTORIES / "happy_mailbox_pickup.json"
    upserts = [
        set(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
        for e in events_of(path)
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]

    billed = [fields for fields in upserts if fields != {CHANGE_VERSION}]

    assert len(billed) < len(upserts), "the happy path takes patches"
    assert count_file(path).by_kind["upserts"] == len(billed)


def test_the_markers_of_one_workflow_task_are_one_action() -> None:
    path = HISTORIES / "happy_mailbox_pickup.json"
    markers = [
        e.marker_recorded_event_attributes
        for e in events_of(path)
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    tasks = {m.workflow_task_completed_event_id for m in markers}

    assert len(markers) > len(tasks), "patches and the intake share a task"
    assert count_file(path).by_kind["markers"] == len(tasks)


def test_a_feed_signalled_with_its_start_pays_one_action_for_both() -> None:
    path = HISTORIES / "feeds" / "event_feed.json"
    events = events_of(path)
    signals = [
        e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]

    assert events[1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    assert count_file(path).by_kind["start"] == 1
    assert count_file(path).by_kind["signals"] == len(signals) - 1


def test_the_table_is_of_the_paths_this_build_records(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(actions, "OUTPUT", tmp_path / "actions.json")

    assert actions.main([str(HISTORIES)]) == 0

    table = capsys.readouterr().out
    assert "| happy_mailbox_pickup |" in table
    assert ".before-" not in table
