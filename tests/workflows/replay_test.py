"""The recorded histories of every path replay on the current `ReturnWorkflow`.

A change that would make a return already running take another path than the one its history
recorded (nondeterminism) fails here, before it reaches the workers. The histories are
recorded by `make histories` (tests/histories/record.py), one per scenario.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from temporalio.worker import Replayer

from benchmarks.actions import count_file
from tests.histories import history_files, history_path, load_history, scenarios
from tests.keys import converter_for_tests
from worker import workflow_runner
from workflows.return_workflow import ReturnWorkflow

HAPPY_PATH_ACTION_BUDGET = 15


@pytest.mark.parametrize("path", history_files(), ids=lambda p: p.stem)
async def test_a_recorded_history_replays_without_nondeterminism(path: Path) -> None:
    replayer = Replayer(
        workflows=[ReturnWorkflow],
        data_converter=converter_for_tests(),
        workflow_runner=workflow_runner(),
    )
    # Raises on nondeterminism, or on any failure of a workflow task during the replay.
    result = await replayer.replay_workflow(load_history(path))
    assert result.replay_failure is None


def test_every_path_has_a_scenario_and_a_recorded_history() -> None:
    public = {
        name
        for name, fn in inspect.getmembers(scenarios, inspect.iscoroutinefunction)
        if fn.__module__ == scenarios.__name__ and not name.startswith("_")
    }
    unregistered = sorted(public - set(scenarios.SCENARIOS))
    assert unregistered == [], f"scenarios without @scenario: {unregistered}"
    unrecorded = sorted(n for n in scenarios.SCENARIOS if not history_path(n).exists())
    assert unrecorded == [], f'record them with `make histories SCENARIOS="{" ".join(unrecorded)}"`'


def test_the_happy_path_stays_within_its_action_budget() -> None:
    happy = count_file(history_path("happy_mailbox_pickup"))
    assert happy.actions <= HAPPY_PATH_ACTION_BUDGET, happy.breakdown()
