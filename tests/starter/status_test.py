"""`starter.py status` as an operator runs it, on returns that ended without completing: it
says how the return ended instead of showing it as if it were still going on."""

from __future__ import annotations

import asyncio
import json
import os

from temporalio.testing import WorkflowEnvironment

from domain.events import RetractEvent
from domain.returns import ReturnStage
from tests.cli import run_command
from tests.factories import retract_event
from tests.keys import TEST_KEYS
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness


async def status_command(env: WorkflowEnvironment, task_queue: str, ref: str) -> tuple[int, str]:
    """Exit status, and output and errors together, of `starter.py status REF`."""
    return await starter_command(env, task_queue, "status", ref)


async def starter_command(
    env: WorkflowEnvironment, task_queue: str, *args: str, namespace: str | None = None
) -> tuple[int, str]:
    """Exit status, and output and errors together, of `starter.py ARGS` against `env`'s
    Temporal, as an operator of the deployment whose task queue is `task_queue` runs it (in
    `namespace`, else `env`'s)."""
    variables = {
        k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNFLOW_"))
    }
    variables |= {
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": namespace or env.client.namespace,
        "RETURNFLOW_TASK_QUEUE": task_queue,
        "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS,
    }
    ran = await run_command(args, variables, together=True)
    return ran.returncode, ran.stdout


async def terminated_while_choosing(harness: ReturnHarness) -> tuple[RetractEvent, ReturnHandle]:
    """A return operations terminated while its customer was choosing: its event and handle."""
    event = retract_event()
    handle = await harness.start(event)
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    await handle.terminate(reason="stuck: restarted by operations")
    return event, handle


async def test_the_status_of_a_terminated_return_says_it_was_terminated(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        event, handle = await terminated_while_choosing(harness)
        code, said = await status_command(
            time_skipping_env, harness.settings.task_queue, f"{event.order.order_id}-1"
        )

    assert code == 0
    assert said.startswith(
        f"{handle.id} is terminated: stuck: restarted by operations; its last status follows\n"
        f"{handle.id}    stage: awaiting_customer_choice\n"
    ), said


async def test_a_reference_that_no_order_can_have_is_refused_without_a_query(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    code, said = await status_command(
        time_skipping_env, "returns", 'x" OR ExecutionStatus = "Running'
    )

    assert code == 2
    assert said.strip().endswith(
        "not a return's ID, ORDER_ID-LINE or an order's ID "
        "(letters, digits and . _ : -, at most 64)"
    ), said
    assert "Traceback" not in said


async def test_choosing_for_a_return_that_has_ended_says_so_not_a_traceback(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        event, handle = await terminated_while_choosing(harness)
        code, said = await starter_command(
            time_skipping_env,
            harness.settings.task_queue,
            "choose",
            f"{event.order.order_id}-1",
            "--method",
            "post_office_drop_off",
            "--carrier",
            "sandbox",
        )

    assert code == 1, said
    assert f"error: {handle.id} has ended (awaiting_customer_choice): nothing to change" in said
    assert "Traceback" not in said


async def test_a_namespace_the_server_does_not_have_is_named_not_a_traceback(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    code, said = await starter_command(
        time_skipping_env, "returns", "status", "ORD-1", namespace="returns-typo"
    )

    assert code == 2, said
    assert "error: TEMPORAL_NAMESPACE: Temporal at " in said
    assert "has no namespace 'returns-typo'" in said
    assert "Traceback" not in said


async def test_a_return_restarted_under_its_id_is_shown_once_as_json_a_program_reads(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Both runs carry the order's ID; the status is the current run's, once, one JSON object
    per line."""
    async with return_harness(time_skipping_env.client) as harness:
        event, handle = await terminated_while_choosing(harness)
        restarted = await harness.start(event.model_copy(update={"event_id": "EVT-AGAIN-1"}))
        await harness.stage_reached(restarted, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        query = f'OrderId = "{event.order.order_id}"'
        async with asyncio.timeout(20):
            while len([r async for r in time_skipping_env.client.list_workflows(query)]) < 2:
                await asyncio.sleep(0.2)
        code, said = await starter_command(
            time_skipping_env,
            harness.settings.task_queue,
            "status",
            event.order.order_id,
            "--json",
        )

    assert code == 0, said
    (line,) = said.splitlines()
    shown = json.loads(line)
    assert shown["return_id"] == handle.id
    assert shown["stage"] == ReturnStage.AWAITING_CUSTOMER_CHOICE
