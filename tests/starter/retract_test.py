"""`starter.py retract EVENT.json` as an operator runs it: an event its return already had with
other facts, or a new withdrawal for a return that has ended, is refused and says why, as the
gateway refuses them; it is never called a duplicate."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, RegisterNamespaceRequest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.events import RetractEvent
from domain.returns import CancelRequest, ReturnStage
from tests.factories import retract_event
from tests.starter.status_test import starter_command
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness
from workflows.return_workflow import ReturnWorkflow


async def waiting_for_a_choice(harness: ReturnHarness) -> tuple[RetractEvent, ReturnHandle]:
    """A return started by its event, waiting for the customer's choice."""
    event = retract_event()
    handle = await harness.start(event)
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    return event, handle


async def test_the_same_event_id_with_another_price_is_refused_naming_the_field(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        event, handle = await waiting_for_a_choice(harness)
        product = event.order.product
        price = product.price.model_copy(update={"amount": Decimal("999.00")})
        order = event.order.model_copy(
            update={"product": product.model_copy(update={"price": price})}
        )
        other = tmp_path / "event.json"
        other.write_text(event.model_copy(update={"order": order}).model_dump_json())
        same = tmp_path / "same.json"
        same.write_text(event.model_dump_json())

        conflict_code, conflict = await starter_command(
            time_skipping_env, harness.settings.task_queue, "retract", str(other)
        )
        again_code, again = await starter_command(
            time_skipping_env, harness.settings.task_queue, "retract", str(same)
        )

    assert conflict_code == 1, conflict
    assert conflict.startswith(
        f"error: {handle.id}: an event with this event_id came before with other facts ("
    ), conflict
    assert "order.product.price" in conflict.splitlines()[0]
    assert "duplicate" not in conflict
    assert again_code == 0
    assert again.startswith(f"{handle.id} already exists (duplicate event, nothing started)")


async def test_a_new_withdrawal_for_a_return_that_has_ended_is_refused(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        event, handle = await waiting_for_a_choice(harness)
        await handle.execute_update(ReturnWorkflow.cancel, CancelRequest(reason="kept it"))
        await handle.result()
        again = tmp_path / "again.json"
        again.write_text(
            event.model_copy(update={"event_id": f"{event.event_id}-2"}).model_dump_json()
        )

        code, said = await starter_command(
            time_skipping_env, harness.settings.task_queue, "retract", str(again)
        )

    assert code == 1, said
    assert said.startswith(
        f"error: {handle.id} has ended: a new withdrawal for its order line starts nothing"
    ), said


async def test_a_namespace_without_the_search_attributes_is_said_not_a_traceback(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """A new namespace before `starter.py search-attributes` was run for it."""
    namespace = f"returns-{uuid.uuid4().hex[:8]}"
    service = time_skipping_env.client.workflow_service
    await service.register_namespace(
        RegisterNamespaceRequest(
            namespace=namespace, workflow_execution_retention_period=Duration(seconds=86_400)
        )
    )
    async with asyncio.timeout(20):
        while True:
            try:
                await service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
                break
            except RPCError:
                await asyncio.sleep(0.2)
    event = tmp_path / "event.json"
    event.write_text(retract_event().model_dump_json())

    code, said = await starter_command(
        time_skipping_env, "returns", "retract", str(event), namespace=namespace
    )

    assert code == 1, said
    assert said.startswith("error: Temporal refused the request: "), said
    assert "`starter.py search-attributes`" in said
    assert "Traceback" not in said
