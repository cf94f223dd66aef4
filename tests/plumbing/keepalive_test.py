"""The worker heartbeats for the activities it runs (`plumbing.keepalive`): a call longer than
its heartbeat timeout is not taken for a lost worker's, and the progress an activity reports in
its own heartbeats survives the worker's."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Interceptor, Worker

from plumbing.input_count import InputCount
from plumbing.keepalive import EVERY_SECONDS, KeepAlive, worker_options
from tests.workflows.harness import return_harness
from tests.workflows.lifecycle_test import choosing, mailbox_pickup
from workflows import policies
from workflows.return_workflow import ReturnWorkflow


@dataclasses.dataclass
class Call:
    """An activity's work: `seconds` long, its first attempt reporting `progress` in a
    heartbeat, its first `failing` attempts failing (each retry reads the heartbeat it
    inherits)."""

    seconds: float
    progress: str | None = None
    failing: int = 0


@activity.defn
async def slow_call(call: Call) -> list[str]:
    inherited = [str(detail) for detail in activity.info().heartbeat_details]
    if call.progress is not None and activity.info().attempt == 1:
        activity.heartbeat(call.progress)
    await asyncio.sleep(call.seconds)
    if activity.info().attempt <= call.failing:
        raise RuntimeError("the carrier closed the connection")
    return inherited


@workflow.defn(sandboxed=False)
class OneCall:
    @workflow.run
    async def run(self, call: Call) -> list[str]:
        return await workflow.execute_activity(
            slow_call,
            call,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
        )


async def run_call(
    env: WorkflowEnvironment, call: Call, interceptors: list[Interceptor]
) -> list[str]:
    queue = f"keepalive-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[OneCall],
        activities=[slow_call],
        interceptors=interceptors,
    ):
        return await env.client.execute_workflow(
            OneCall.run,
            call,
            id=queue,
            task_queue=queue,
            execution_timeout=timedelta(seconds=60),
        )


async def test_a_call_longer_than_its_heartbeat_timeout_completes_on_a_kept_alive_worker(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    # Three seconds of work, a heartbeat timeout of one, no heartbeat from the activity itself.
    answer = await run_call(time_skipping_env, Call(seconds=3.0), [KeepAlive(every=0.2)])

    assert answer == []


async def test_without_the_worker_heartbeat_the_same_call_is_taken_for_a_lost_worker(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    call = Call(seconds=3.0)
    queue = f"keepalive-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_skipping_env.client, task_queue=queue, workflows=[OneCall], activities=[slow_call]
    ):
        handle = await time_skipping_env.client.start_workflow(
            OneCall.run, call, id=queue, task_queue=queue
        )
        # Each attempt times out after a second without a heartbeat and is retried.
        description = None
        for _ in range(100):
            description = await handle.describe()
            pending = description.raw_description.pending_activities
            if pending and pending[0].attempt >= 2:
                break
            await asyncio.sleep(0.1)
        assert description is not None
        pending = description.raw_description.pending_activities
        assert pending[0].attempt >= 2
        assert "heartbeat" in pending[0].last_failure.message.lower()
        await handle.terminate("seen")
    with pytest.raises(WorkflowFailureError):
        await handle.result()


async def test_the_worker_heartbeat_repeats_the_progress_the_activity_reported(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    # The first attempt reports its page, works on under the worker's heartbeats, then fails:
    # the retry inherits the page, not the worker's empty heartbeats.
    call = Call(seconds=2.0, progress="page 3", failing=1)

    answer = await run_call(time_skipping_env, call, [KeepAlive(every=0.2)])

    assert answer == ["page 3"]


async def test_a_retry_that_reports_nothing_passes_the_progress_it_inherited_on(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    # The first attempt reports its page and fails; the second works a second under the
    # worker's heartbeats alone and fails too: the third still finds the first one's page.
    call = Call(seconds=1.0, progress="page 3", failing=2)

    answer = await run_call(time_skipping_env, call, [KeepAlive(every=0.2)])

    assert answer == ["page 3"]


def activity_policies() -> dict[str, policies.ActivityPolicy]:
    """Every activity policy the workflows use, by name."""
    return {
        name: value
        for name, value in vars(policies).items()
        if isinstance(value, policies.ActivityPolicy)
    }


def test_every_heartbeat_timeout_leaves_room_for_three_of_the_worker_heartbeats() -> None:
    given = [p.heartbeat_timeout for p in activity_policies().values() if p.heartbeat_timeout]
    # What reaches Temporal: the beats, unless the SDK holds them back longer.
    options = worker_options()
    sent_every = options["max_heartbeat_throttle_interval"]

    assert [type(i) for i in options["interceptors"]] == [KeepAlive, InputCount]
    assert len(given) >= 8
    assert all(timeout >= 3 * sent_every for timeout in given)
    assert sent_every == timedelta(seconds=EVERY_SECONDS)


def test_every_activity_policy_but_the_local_lookups_is_kept_alive() -> None:
    local = {"LOOKUP", "FEED_PUBLISH"}
    remote = {name: p for name, p in activity_policies().items() if name not in local}

    assert {name for name, p in remote.items() if p.heartbeat_timeout is None} == set()
    assert policies.feed_delivery(3).heartbeat_timeout == policies.KEPT_ALIVE


async def test_every_activity_a_return_schedules_on_its_way_is_given_the_heartbeat_timeout(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        assert booked.label is not None
        await harness.scan(handle, booked.label.tracking_number)
        await harness.in_transit(handle)
        history = await handle.fetch_history()

    scheduled = {
        event.activity_task_scheduled_event_attributes.activity_type.name: (
            event.activity_task_scheduled_event_attributes.heartbeat_timeout.ToTimedelta()
        )
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    # The label, the pickup, the prices, the emails and the refund: each noticed lost in 20 s.
    assert {"create_return_label", "book_mailbox_pickup", "send_notices"} <= set(scheduled)
    assert scheduled == dict.fromkeys(scheduled, policies.KEPT_ALIVE)
