"""What a return records in the metrics, read from the worker's own runtime: a refund that
goes out after its legal due date is a missed deadline, with the time it took."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from temporalio.client import Client
from temporalio.runtime import (
    BufferedMetricUpdate,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
)
from temporalio.testing import WorkflowEnvironment

from domain.notices import NoticeKind
from domain.returns import AttentionAction
from plumbing import metrics
from tests.workflows.doubles import Doubles
from tests.workflows.harness import return_harness
from tests.workflows.lifecycle_test import DROP_OFF, choosing, ops, until
from workflows.return_workflow import ReturnWorkflow

DAY = dt.timedelta(days=1)


async def client_on(env: WorkflowEnvironment, buffer: MetricBuffer) -> Client:
    """A client of the same server whose runtime keeps its metrics in `buffer`."""
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    return await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        data_converter=env.client.data_converter,
        runtime=runtime,
    )


def named(updates: list[BufferedMetricUpdate], name: str) -> list[BufferedMetricUpdate]:
    return [u for u in updates if u.metric.name == name]


def attributes(update: BufferedMetricUpdate) -> dict[str, Any]:
    return dict(update.attributes)


async def recorded(
    buffer: MetricBuffer, *names: str, within: float = 10
) -> list[BufferedMetricUpdate]:
    """What `buffer` receives until each of `names` has been recorded (fails after `within` s):
    the workflow records on the task that sees the change, which may end after the test's cue."""
    updates: list[BufferedMetricUpdate] = []
    async with asyncio.timeout(within):
        while not set(names) <= {u.metric.name for u in updates}:
            updates.extend(buffer.retrieve_updates())
            await asyncio.sleep(0.05)
    return updates


async def test_a_refund_requested_after_its_due_date_is_counted_as_a_missed_legal_deadline(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    buffer = MetricBuffer(10_000, duration_format=MetricBufferDurationFormat.SECONDS)
    client = await client_on(time_skipping_env, buffer)
    doubles = Doubles()
    async with return_harness(client, doubles) as harness:
        handle = await choosing(harness)
        held = doubles.order_service_holds(handle.id)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        await harness.scan(handle, ready.label.tracking_number)
        await until(harness, lambda d: NoticeKind.SELLER_PARCEL_INBOUND in d.notice_kinds)
        on_time = await recorded(
            buffer, metrics.WITHDRAWAL_TO_DISPATCH.name, metrics.ATTENTION_RAISED.name
        )
        # The order service's staff free the key only weeks later, past the refund's due date.
        await time_skipping_env.fast_forward(handle, 20 * DAY)
        doubles.refunds_on_file.remove(held)
        await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "order service fixed")
        )
        done = await harness.until_status(handle, lambda s: s.refund is not None)
        later = await recorded(buffer, metrics.WITHDRAWAL_TO_REFUND.name)
    assert done.refund is not None
    names = {u.metric.name for u in on_time}
    assert metrics.RETURNS_STARTED.name in names
    assert metrics.WITHDRAWAL_TO_DISPATCH.name in names
    assert metrics.DEADLINES_MISSED.name not in names
    raised = [attributes(u)["reason"] for u in named(on_time, metrics.ATTENTION_RAISED.name)]
    assert raised == ["refund_request_failed"]
    (missed,) = named(later, metrics.DEADLINES_MISSED.name)
    assert missed.value == 1 and attributes(missed)["deadline"] == "refund"
    (late,) = named(later, metrics.WITHDRAWAL_TO_REFUND.name)
    assert late.value > 14 * DAY.total_seconds()
