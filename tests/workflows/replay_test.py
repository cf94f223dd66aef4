"""The recorded histories of every path replay on the current `ReturnWorkflow`.

A change that would make a return already running take another path than the one its history
recorded (nondeterminism) fails here, before it reaches the workers. The histories are
recorded by `make histories` (tests/histories/record.py), one per scenario.
"""

from __future__ import annotations

import base64
import inspect
from pathlib import Path

import pytest
from temporalio.worker import Replayer

from benchmarks.actions import count_file
from plumbing.encryption import EncryptionCodec, Keyring
from plumbing.temporal import data_converter
from tests.histories import (
    HISTORIES,
    history_files,
    history_path,
    load_history,
    record_feeds,
    record_withdrawals,
    scenarios,
)
from tests.keys import converter_for_tests
from worker import workflow_runner
from workflows.event_feed import EventFeedWorkflow
from workflows.return_workflow import ReturnWorkflow
from workflows.withdrawal_workflow import WithdrawalWorkflow

HAPPY_PATH_ACTION_BUDGET = 20
"""The billable actions of the happy path to its end as recorded (`happy_mailbox_pickup`,
recorded again with each change of its commands), as Temporal Cloud counts them
(`benchmarks/actions.py`): one more fails here (docs/benchmarks.md)."""


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


async def test_an_encrypted_history_replays_only_with_its_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Histories recorded since payload encryption (the happy path) hold `binary/encrypted`
    payloads: a worker without the key that wrote them cannot run the return, and says why."""
    history = load_history(history_path("happy_mailbox_pickup"))
    assert "YmluYXJ5L2VuY3J5cHRlZA" in history.to_json()  # base64 of binary/encrypted
    other_key = Keyring.parse(f"another={base64.b64encode(bytes(32)).decode()}", source="test")
    replayer = Replayer(
        workflows=[ReturnWorkflow],
        data_converter=data_converter(EncryptionCodec(other_key)),
        workflow_runner=workflow_runner(),
    )

    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is not None
    assert "payload encrypted with key 'tests-2026-a', which is not among" in caplog.text


@pytest.mark.parametrize(
    "path", sorted((HISTORIES / "withdrawals").glob("*.json")), ids=lambda p: p.stem
)
async def test_a_recorded_withdrawal_history_replays_without_nondeterminism(path: Path) -> None:
    replayer = Replayer(
        workflows=[WithdrawalWorkflow],
        data_converter=converter_for_tests(),
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(load_history(path))
    assert result.replay_failure is None


@pytest.mark.parametrize("path", sorted((HISTORIES / "feeds").glob("*.json")), ids=lambda p: p.stem)
async def test_a_recorded_event_feed_history_replays_without_nondeterminism(path: Path) -> None:
    replayer = Replayer(
        workflows=[EventFeedWorkflow],
        data_converter=converter_for_tests(),
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(load_history(path))
    assert result.replay_failure is None


def test_every_path_with_an_event_feed_has_the_feeds_history() -> None:
    with_feed = {n for n, s in scenarios.SCENARIOS.items() if s.doubles().feed is not None}
    # A feed's history recorded before a change of its commands is kept as {scenario}.before-*.
    recorded = {p.stem for p in (HISTORIES / "feeds").glob("*.json") if ".before-" not in p.name}
    assert with_feed and recorded == with_feed | set(record_feeds.PATHS)


def test_every_withdrawal_path_has_a_recorded_history() -> None:
    recorded = {p.stem for p in (HISTORIES / "withdrawals").glob("*.json")}
    assert recorded == set(record_withdrawals.PATHS)
