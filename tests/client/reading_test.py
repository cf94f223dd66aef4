"""An operator's update to a return no worker takes: said after a while, not waited for
without end."""

from __future__ import annotations

import time
import uuid

import pytest
from temporalio.testing import WorkflowEnvironment

from client.reading import UpdateNotTaken, execute_taken_update
from domain.carriers import ReturnMethod
from domain.returns import ReturnMethodChoice
from tests.factories import retract_event
from workflows.return_workflow import ReturnWorkflow


async def test_an_update_no_worker_takes_is_given_up_saying_why(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    event = retract_event()
    handle = await client.start_workflow(
        "ReturnWorkflow",
        event,
        id=f"return-{event.order.order_id}-1",
        task_queue=f"no-worker-{uuid.uuid4().hex[:8]}",
    )
    choice = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")

    began = time.monotonic()
    with pytest.raises(UpdateNotTaken) as waited:
        # Longer than one of Temporal's 20 s polls, which answers "admitted" and is asked again.
        await execute_taken_update(handle, ReturnWorkflow.choose_return_method, choice, within=25)
    await handle.terminate("test over")

    assert time.monotonic() - began < 35
    assert str(waited.value).startswith("no worker took it within 25 s (is a worker running?)")
