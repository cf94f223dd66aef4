"""Worker Deployment Versioning on the dev server: a return runs to its end on the build that
started it, while new returns go to the build made current; the old build then drains."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from domain.returns import ReturnStage
from plumbing import versioning
from plumbing.settings import Settings
from tests.factories import retract_event
from tests.keys import TEST_KEYS
from tests.workflows.doubles import Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness
from tests.workflows.lifecycle_test import DROP_OFF
from workflows.return_workflow import ReturnWorkflow

WAIT = 20.0
ROOT = Path(__file__).resolve().parents[2]


async def pinned_build(handle: ReturnHandle) -> str:
    described = await handle.describe()
    info = described.raw_description.workflow_execution_info.versioning_info
    return info.deployment_version.build_id


async def waiting_for_choice(harness: ReturnHarness) -> ReturnHandle:
    handle = await harness.start(retract_event())
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE, within=WAIT)
    return handle


async def test_a_return_started_on_build_a_stays_on_a_while_new_returns_go_to_build_b(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    name = f"returnflow-{uuid.uuid4().hex[:8]}"
    queue = f"returns-{name}"
    on_a = Settings(task_queue=queue, deployment_name=name, build_id="0.1.0")
    on_b = Settings(task_queue=queue, deployment_name=name, build_id="0.2.0")
    doubles_a, doubles_b = Doubles(), Doubles()
    deployment_a = versioning.deployment_config(on_a)
    deployment_b = versioning.deployment_config(on_b)
    async with return_harness(
        client, doubles_a, task_queue=queue, deployment=deployment_a
    ) as build_a:
        was = await versioning.promote(client, name, "0.1.0", wait=dt.timedelta(seconds=WAIT))
        old = await waiting_for_choice(build_a)
        async with return_harness(
            client, doubles_b, task_queue=queue, deployment=deployment_b
        ) as build_b:
            replaced = await versioning.promote(
                client, name, "0.2.0", wait=dt.timedelta(seconds=WAIT)
            )
            new = await waiting_for_choice(build_b)
            # Both customers choose now: each return is served by the build it started on.
            old_label = await old.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
            new_label = await new.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
            state = await versioning.describe(client, name)
            assert state is not None
            counted = await versioning.with_running_counts(client, on_b, state)

    assert was is None and replaced == "0.1.0"
    assert await pinned_build(old) == "0.1.0" and await pinned_build(new) == "0.2.0"
    assert [r.reference for r in doubles_a.labels] == [old.id]
    assert [r.reference for r in doubles_b.labels] == [new.id]
    assert old_label.label is not None and new_label.label is not None
    assert counted.current == "0.2.0"
    running = {v.build_id: (v.status, v.running) for v in counted.versions}
    assert running == {"0.1.0": ("draining", 1), "0.2.0": ("current", 1)}


async def starter(client_target: str, deployment: str, *args: str) -> tuple[int, str]:
    """`starter.py` as an operator runs it, against the test's server (without blocking the
    worker that runs in this process)."""
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": client_target,
        "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS,
        "RETURNFLOW_DEPLOYMENT_NAME": deployment,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "starter.py"),
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_an_operator_promotes_a_build_and_sees_what_each_build_still_runs(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    target = client.service_client.config.target_host
    name = f"returnflow-{uuid.uuid4().hex[:8]}"
    settings = Settings(task_queue=f"returns-{name}", deployment_name=name, build_id="0.2.0")
    unknown = await starter(target, f"{name}-never", "deployment", "show")
    async with return_harness(
        client,
        Doubles(),
        task_queue=settings.task_queue,
        deployment=versioning.deployment_config(settings),
    ) as harness:
        promoted = await starter(target, name, "deployment", "promote", "0.2.0", "--wait", "20")
        await waiting_for_choice(harness)
        shown = await starter(target, name, "deployment", "show")

    assert (
        unknown[0] == 1 and f"no worker of deployment '{name}-never' has polled yet" in unknown[1]
    )
    assert promoted == (
        0,
        f"{name}: build 0.2.0 is current: new returns go to it (was unversioned)\n",
    )
    code, text = shown
    assert code == 0
    assert f"deployment {name}: current build 0.2.0" in text
    assert "0.2.0" in text and "current; 1 running pinned to it" in text
