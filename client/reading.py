"""Reading a return's status, whether it runs or has ended, and a failure's message chain:
shared by the command line and the gateway."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import FailureError
from temporalio.service import RPCError

from domain.returns import ReturnStatus
from workflows.return_workflow import ReturnWorkflow

ENCODED_FAILURE = "Encoded failure"
"""What Temporal shows of a failure whose message is encrypted (encoded common attributes)."""


TAKEN_WITHIN = 60.0
"""Seconds an operator's update waits for a worker to take it (its validator to run)."""


class StatusUnreadable(Exception):
    """The return exists but its status cannot be read (it failed before it had one, ...)."""


class UpdateNotTaken(Exception):
    """No worker took an update in time: none is running, or all are far behind."""


def failure_chain(cause: BaseException | None) -> str:
    """A Temporal failure and its causes, as one line."""
    messages = []
    while cause is not None:
        if isinstance(cause, FailureError):
            messages.append(cause.message)
        cause = cause.__cause__
    return ": ".join(m for m in messages if m)


def update_refusal(err: WorkflowUpdateFailedError) -> str:
    """Why a return (or a feed) refused an update, as its validator or handler said it."""
    return failure_chain(err.cause) or str(err)


async def execute_taken_update(
    handle: WorkflowHandle[Any, Any], update: Any, arg: Any, within: float = TAKEN_WITHIN
) -> Any:
    """`update`'s result, once a worker has taken it within `within` seconds: then it is
    waited for as long as it runs (a label bought, a refund asked). Raises what
    `execute_update` raises, and `UpdateNotTaken`."""
    try:
        # The whole wait: Temporal answers each of its 20 s polls "admitted, not yet taken",
        # and the SDK asks again, each call with a bound of its own.
        async with asyncio.timeout(within):
            taken = await handle.start_update(
                update, arg, wait_for_stage=WorkflowUpdateStage.ACCEPTED
            )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise UpdateNotTaken(
            f"no worker took it within {within:.0f} s (is a worker running?): it may still be "
            "taken once one is; read the status before sending it again"
        ) from err
    return await taken.result()


async def status_of(client: Client, workflow_id: str) -> ReturnStatus:
    """A finished return reports its result; a running one (or one that failed, was terminated
    or timed out) answers the `status` query, replayed from its history by a worker.

    Raises `RPCError` (NOT_FOUND when there is no such return) and `StatusUnreadable`.
    """
    handle = client.get_workflow_handle_for(ReturnWorkflow.run, workflow_id)
    description = await handle.describe()
    ended = ""
    if description.close_time is not None:
        try:
            return await handle.result()
        except WorkflowFailureError as err:
            ended = f": {failure_chain(err.cause)}"
    try:
        return await handle.query(ReturnWorkflow.status)
    except (WorkflowQueryFailedError, RPCError) as err:
        state = description.status.name.lower() if description.status else "unknown"
        why = str(err)
        if why == ENCODED_FAILURE:
            # The worker's reason is encrypted with the payload keys, like every failure.
            why = "the worker's reason is in its log, and in the Web UI through the codec server"
        raise StatusUnreadable(
            f"{workflow_id} is {state}{ended}; its status cannot be read ({why})"
        ) from err


async def how_it_ended(client: Client, workflow_id: str) -> str | None:
    """How a return that ended without completing ended ("terminated: <reason>", "timed out",
    "failed: <failure>"); None while it runs, and once it has completed."""
    handle = client.get_workflow_handle(workflow_id)
    description = await handle.describe()
    if description.close_time is None or description.status in (
        None,
        WorkflowExecutionStatus.COMPLETED,
    ):
        return None
    state = description.status.name.lower().replace("_", " ")
    try:
        await handle.result(follow_runs=False)
    except WorkflowFailureError as err:
        why = failure_chain(err.cause)
        return f"{state}: {why}" if why else state
    return state
