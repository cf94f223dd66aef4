"""Which running returns hold a tracking number, as visibility lists them."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.parcels import ParcelActivities
from domain import search_attributes as sa
from tests.factories import retract_event


async def test_only_the_running_returns_holding_a_number_are_listed(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    number = f"6A{uuid.uuid4().int % 10**11:011d}"
    queue = f"nobody-{uuid.uuid4().hex[:8]}"  # no worker: the returns stay running, untouched
    ids = [f"return-ORD-HELD-{uuid.uuid4().hex[:6]}-1" for _ in range(2)]
    for workflow_id in ids:
        await client.start_workflow(
            "ReturnWorkflow",
            retract_event(),
            id=workflow_id,
            task_queue=queue,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(sa.TRACKING_NUMBER, number)]
            ),
        )
    await client.get_workflow_handle(ids[0]).terminate("ended")
    query = f'{sa.TRACKING_NUMBER.name} = "{number}"'
    async with asyncio.timeout(10):
        # Visibility lags: both listed, and the first one's end recorded there too.
        while {w.id: w.status async for w in client.list_workflows(query)} != {
            ids[0]: WorkflowExecutionStatus.TERMINATED,
            ids[1]: WorkflowExecutionStatus.RUNNING,
        }:
            await asyncio.sleep(0.1)

    parcels = ParcelActivities(client)
    holders = await ActivityEnvironment().run(parcels.running_holders, number)
    nobody = await ActivityEnvironment().run(parcels.running_holders, "6A00000000000")
    with pytest.raises(ValueError, match="letters and digits only"):
        await ActivityEnvironment().run(parcels.running_holders, 'x" OR "1"="1')
    await client.get_workflow_handle(ids[1]).terminate("test over")

    assert holders == [ids[1]]
    assert nobody == []
