"""An action while no worker runs: Temporal is up but nothing takes the return's task, so the
update is not accepted in time. The gateway answers 503 with `Retry-After` (never 500), and
the same request sent again with the same `Idempotency-Key` once a worker is back acts once."""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from domain.returns import ReturnStage
from tests.gateway.door import CUSTOMER_TOKEN, gateway_settings, open_door
from tests.workflows.doubles import Doubles
from tests.workflows.harness import ReturnHandle, return_harness
from tests.workflows.return_workflow_test import ready_for_choice
from workflows.return_workflow import ReturnWorkflow

DROP_OFF = {"method": "post_office_drop_off", "carrier": "sandbox"}


async def test_a_choice_no_worker_takes_in_time_is_503_and_its_retry_acts_once(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    task_queue = f"returns-no-worker-{uuid.uuid4().hex[:8]}"
    doubles = Doubles()
    async with return_harness(time_skipping_env.client, doubles, task_queue=task_queue) as harness:
        handle: ReturnHandle = await ready_for_choice(harness)
    # Every worker is gone; Temporal still answers, but nothing accepts the update in time.
    settings = gateway_settings(task_queue, tmp_path, gateway_temporal_timeout_seconds=1)
    async with open_door(time_skipping_env.client, settings) as door:
        refused = await door.act(
            handle.id, "method", DROP_OFF, CUSTOMER_TOKEN, idempotency_key="choice-1"
        )
        async with return_harness(
            time_skipping_env.client, doubles, task_queue=task_queue
        ) as harness:
            # As a client would: the same request again while it is answered 503 (a worker just
            # back may take longer than the gateway's second to replay the return and act).
            for _ in range(10):
                retried = await door.act(
                    handle.id, "method", DROP_OFF, CUSTOMER_TOKEN, idempotency_key="choice-1"
                )
                if retried.status_code != 503:
                    break
            again = await door.act(
                handle.id, "method", DROP_OFF, CUSTOMER_TOKEN, idempotency_key="choice-1"
            )
            status = await harness.stage_reached(handle, ReturnStage.AWAITING_DROP_OFF)
            timeline = (await handle.query(ReturnWorkflow.status)).timeline

    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "30"
    assert refused.headers["content-type"].startswith("application/json")
    assert refused.json()["error"]["code"] == "temporal_unavailable"
    assert retried.status_code == 200, retried.text
    assert retried.json()["label"]["tracking_number"] == status.tracking_number
    assert again.status_code == 200
    assert again.json()["label"] == retried.json()["label"]
    assert len(doubles.labels) == 1
    assert status.label is not None
    (update_id,) = [e.update_id for e in timeline if e.update_id]
    assert update_id.startswith("customer:customer-app:choose_return_method:")
    assert update_id.endswith(":choice-1")
