"""The SDK's failure metrics that the alerts and the dashboard read (`SDK_ON_FAILURE`) appear
under those names once something fails: a workflow task, an activity, a request to Temporal. A
clean demo run never shows them, so this test makes each fail once on a runtime configured as the
worker's (`plumbing.telemetry.runtime_for`), and scrapes it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

import httpx
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from devstack.config import free_ports
from plumbing.metrics import SDK_BUCKETS
from plumbing.telemetry import runtime_for
from tests.monitoring import exposition
from tests.monitoring.references import SDK_ON_FAILURE

_failed_tasks: set[str] = set()


@activity.defn
async def always_fails() -> None:
    raise RuntimeError("the carrier's answer could not be read")


@workflow.defn(sandboxed=False)
class FailsOnce:
    """Its first workflow task fails (a bug, as a worker would meet one), the next runs an
    activity that fails its only attempt."""

    @workflow.run
    async def run(self) -> None:
        if workflow.info().workflow_id not in _failed_tasks:
            _failed_tasks.add(workflow.info().workflow_id)
            raise RuntimeError("a bug in the workflow's code")
        await workflow.execute_activity(
            always_fails,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


async def test_each_failure_the_alerts_read_is_exported_under_its_name(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    address = f"127.0.0.1:{free_ports(1)[0]}"
    runtime = runtime_for(address, "worker")
    target = time_skipping_env.client.service_client.config.target_host
    client = await Client.connect(target, runtime=runtime)
    queue = f"failures-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[FailsOnce], activities=[always_fails]):
        try:
            # By its name: mypy, meeting this workflow's `run` first on a fresh cache, would
            # mistype every `get_workflow_handle_for` of the project after it.
            await client.execute_workflow(
                "FailsOnce",
                id=f"fails-once-{queue}",
                task_queue=queue,
                execution_timeout=timedelta(seconds=60),
            )
        except WorkflowFailureError:
            pass  # the activity's failure ends it
        else:
            raise AssertionError("the workflow should have failed with its activity")
        with contextlib.suppress(RPCError):  # not found: a failed request
            await client.get_workflow_handle(f"no-such-return-{queue}").describe()
        async with asyncio.timeout(15), httpx.AsyncClient() as http:
            while True:
                scrape = exposition.parse((await http.get(f"http://{address}/metrics")).text)
                if all(scrape.total(name) >= 1 for name in SDK_ON_FAILURE):
                    break
                await asyncio.sleep(0.5)

    assert scrape.values("temporal_workflow_task_execution_failed", service="worker")
    # The buckets the alerts' thresholds need (30 s for an activity waiting for a worker).
    for histogram, buckets in SDK_BUCKETS.items():
        exported = scrape.label_values(f"{histogram}_bucket", "le")
        assert {float(le) for le in exported if le != "+Inf"} == set(buckets), histogram
    assert scrape.total("temporal_activity_execution_failed", activity_type="always_fails") == 1
    assert scrape.total("temporal_request_failure", operation="DescribeWorkflowExecution") >= 1
