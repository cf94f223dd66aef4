"""The withdrawal function's workflow on its own: what its acknowledgement's failures do."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.withdrawals import (
    StartWithdrawnReturns,
    WithdrawalAcknowledgement,
    WithdrawalConfirmation,
    WithdrawnLine,
)
from tests.histories.record_withdrawals import offer
from worker import workflow_runner
from workflows.withdrawal_workflow import WithdrawalWorkflow


@activity.defn(name="start_withdrawn_returns")
async def start_withdrawn_returns(start: StartWithdrawnReturns) -> list[WithdrawnLine]:
    return [
        WithdrawnLine(line_id=n, return_id=f"return-X-{n}", started=True) for n in start.line_ids
    ]


@activity.defn(name="acknowledge_withdrawal")
async def relay_down(ack: WithdrawalAcknowledgement) -> None:
    """A relay that does not answer: the acknowledgement waits, retried for as long as it takes."""
    while True:
        activity.heartbeat()
        await asyncio.sleep(0.2)


async def test_a_withdrawal_cancelled_while_its_acknowledgement_waits_is_cancelled_not_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Only a refusal for good is recorded on the receipt (and told to the customer as an
    address to correct); a cancellation while the relay is down is a cancellation."""
    env = time_skipping_env
    task_queue = f"withdrawals-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[WithdrawalWorkflow],
        activities=[start_withdrawn_returns, relay_down],
        workflow_runner=workflow_runner(),
    ):
        handle = await env.client.start_workflow(
            WithdrawalWorkflow.run,
            offer(dt.timedelta(minutes=60)),
            id=f"withdrawal-cancelled-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        await handle.execute_update(
            WithdrawalWorkflow.confirm, WithdrawalConfirmation(line_ids=["1"])
        )
        await asyncio.sleep(1)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as ended:
            await handle.result()
        described = await handle.describe()

    assert isinstance(ended.value.cause, CancelledError)
    assert described.status is WorkflowExecutionStatus.CANCELED
