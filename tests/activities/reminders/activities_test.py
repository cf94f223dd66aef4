"""The reminder sweep's activity: it pages through visibility and signals each return found,
and a retry goes on from the last page it finished."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.reminders.activities import ReminderActivities
from domain.returns import ReturnStage
from reminders.models import ReminderSweep, SweepResult
from tests.workflows.harness import ReturnHarness, return_harness
from tests.workflows.reminder_sweep_test import (
    HORIZON,
    reminded,
    reminders_signalled,
    visible,
    withdrawn,
)


def two_a_page(harness: ReturnHarness) -> ReminderActivities:
    """The sweep's activity on the harness's returns, reading visibility two returns a page."""
    return ReminderActivities(
        harness.client,
        task_queue=harness.settings.task_queue,
        horizon=HORIZON,
        time_zone="Europe/Paris",
        page_size=2,
    )


async def swept_with_a_lost_attempt(
    harness: ReturnHarness, waiting: int, lost_at_page: int
) -> tuple[SweepResult, list[int]]:
    """`waiting` returns, swept two a page by an attempt whose worker is lost right after its
    page `lost_at_page`'s heartbeat, then by its retry: the retry's result, and how many
    reminders each return was signalled in all."""
    client = harness.client
    returns = [
        await withdrawn(harness, 12, ReturnStage.AWAITING_CUSTOMER_CHOICE) for _ in range(waiting)
    ]
    await visible(client, harness.settings.task_queue, waiting)
    activities = two_a_page(harness)
    run = ReminderSweep(as_of=dt.datetime.now(dt.UTC), origin="sweep-test/run-1")
    heartbeats: list[Any] = []

    def lost(*details: Any) -> None:
        heartbeats.append(details)
        if len(heartbeats) == lost_at_page:
            raise ConnectionError("worker lost")

    first = ActivityEnvironment()
    first.on_heartbeat = lost
    with pytest.raises(ConnectionError):
        await first.run(activities.remind_unshipped_returns, run)
    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(retry.info, attempt=2, heartbeat_details=heartbeats[-1])
    result = await retry.run(activities.remind_unshipped_returns, run)
    async with asyncio.timeout(10):
        while len(reminded(harness)) < waiting:
            await asyncio.sleep(0.05)
    # Every signal the two attempts sent is in the returns' histories by now.
    return result, [await reminders_signalled(h) for h in returns]


async def test_a_retried_sweep_goes_on_from_the_last_page_it_finished(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        result, signalled = await swept_with_a_lost_attempt(harness, 5, lost_at_page=1)

    assert (result.found, result.signalled, result.pages, result.resumed) == (5, 5, 3, True)
    assert signalled == [1] * 5, "the pages done before the loss were not signalled again"


async def test_a_sweep_lost_after_its_last_page_is_not_done_again_by_its_retry(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        result, signalled = await swept_with_a_lost_attempt(harness, 3, lost_at_page=2)

    assert (result.found, result.signalled, result.pages, result.resumed) == (3, 3, 2, True)
    assert signalled == [1] * 3, "no return was signalled twice"


async def test_a_return_temporal_refuses_a_signal_for_is_counted_and_the_others_reminded(
    time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One return's history is at Temporal's limit of signals: the sweep reminds the others
    (a failure of the whole attempt would be retried from the same page, for ever)."""
    client = time_skipping_env.client
    async with return_harness(client) as harness:
        returns = [
            await withdrawn(harness, 12, ReturnStage.AWAITING_CUSTOMER_CHOICE) for _ in range(3)
        ]
        await visible(client, harness.settings.task_queue, 3)
        at_its_limit = returns[1].id
        signal = WorkflowHandle.signal

        async def refusing(self: WorkflowHandle[Any, Any], *args: Any, **kwargs: Any) -> None:
            if self.id == at_its_limit:
                raise RPCError(
                    "exceeded workflow execution limit for signal events",
                    RPCStatusCode.INVALID_ARGUMENT,
                    b"",
                )
            await signal(self, *args, **kwargs)

        monkeypatch.setattr(WorkflowHandle, "signal", refusing)
        activities = two_a_page(harness)
        run = ReminderSweep(as_of=dt.datetime.now(dt.UTC), origin="sweep-test/run-2")
        result = await ActivityEnvironment().run(activities.remind_unshipped_returns, run)
        async with asyncio.timeout(10):
            while len(reminded(harness)) < 2:
                await asyncio.sleep(0.05)

    assert (result.found, result.signalled, result.refused) == (3, 2, 1)
    assert reminded(harness) == sorted(h.id for h in returns if h.id != at_its_limit)
