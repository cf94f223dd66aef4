"""Promoting a build, and describing its deployment, ride out the server's busy answers and
still refuse what is wrong."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.api.deployment.v1 import (
    RoutingConfig,
    WorkerDeploymentInfo,
    WorkerDeploymentVersion,
)
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentResponse,
    SetWorkerDeploymentCurrentVersionResponse,
)
from temporalio.service import RPCError, RPCStatusCode

from plumbing import versioning
from worker import until_stopped


class Service:
    """A frontend that answers each call with the next of its scripted answers."""

    def __init__(self, *answers: Any, descriptions: tuple[Any, ...] = ()) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.descriptions = list(descriptions)
        self.described = 0

    async def set_worker_deployment_current_version(
        self, _request: object
    ) -> SetWorkerDeploymentCurrentVersionResponse:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, RPCError):
            raise answer
        assert isinstance(answer, SetWorkerDeploymentCurrentVersionResponse)
        return answer

    async def describe_worker_deployment(
        self, _request: object
    ) -> DescribeWorkerDeploymentResponse:
        self.described += 1
        if self.descriptions and isinstance(refusal := self.descriptions.pop(0), RPCError):
            raise refusal
        return DescribeWorkerDeploymentResponse(
            worker_deployment_info=WorkerDeploymentInfo(
                routing_config=RoutingConfig(
                    current_deployment_version=WorkerDeploymentVersion(build_id="0.2.0")
                )
            )
        )


def client(service: Service) -> Any:
    return SimpleNamespace(namespace="default", workflow_service=service)


def refused(status: RPCStatusCode, message: str) -> RPCError:
    return RPCError(message, status, b"")


PROMOTED = SetWorkerDeploymentCurrentVersionResponse(
    previous_deployment_version=WorkerDeploymentVersion(build_id="0.1.0")
)


async def test_a_call_the_busy_server_cancels_is_asked_again() -> None:
    service = Service(
        refused(RPCStatusCode.CANCELLED, "operation was canceled"),
        refused(RPCStatusCode.DEADLINE_EXCEEDED, "deadline exceeded"),
        PROMOTED,
    )
    was = await versioning.promote(
        client(service), "returnflow", "0.2.0", wait=dt.timedelta(seconds=10)
    )
    assert was == "0.1.0"
    assert service.calls == 3


async def test_a_build_no_worker_runs_is_refused_in_words_once_the_wait_is_over() -> None:
    service = Service(*[refused(RPCStatusCode.NOT_FOUND, "not found")] * 3)
    with pytest.raises(versioning.VersionNotPolling, match=r"no worker of build '0\.2\.0'"):
        await versioning.promote(client(service), "returnflow", "0.2.0")
    assert service.calls == 1


async def test_a_busy_server_past_the_wait_is_reported_as_it_answered() -> None:
    service = Service(refused(RPCStatusCode.UNAVAILABLE, "unavailable"))
    with pytest.raises(RPCError, match="unavailable"):
        await versioning.promote(client(service), "returnflow", "0.2.0")


async def test_a_refusal_that_asking_again_cannot_mend_is_not_retried() -> None:
    service = Service(refused(RPCStatusCode.PERMISSION_DENIED, "permission denied"), PROMOTED)
    with pytest.raises(RPCError, match="permission denied"):
        await versioning.promote(
            client(service), "returnflow", "0.2.0", wait=dt.timedelta(seconds=10)
        )
    assert service.calls == 1


BUSY = "too many requests issued to Worker Deployment 'returnflow'. Please try again later"


async def test_a_deployment_busy_with_a_promotion_is_described_once_it_is_free() -> None:
    service = Service(
        descriptions=(
            refused(RPCStatusCode.RESOURCE_EXHAUSTED, BUSY),
            refused(RPCStatusCode.RESOURCE_EXHAUSTED, BUSY),
            "answered",
        )
    )
    state = await versioning.describe(client(service), "returnflow", wait=dt.timedelta(seconds=10))
    assert state is not None
    assert state.current == "0.2.0"
    assert service.described == 3


async def test_a_deployment_still_busy_past_the_wait_is_reported_as_the_server_answered() -> None:
    service = Service(descriptions=(refused(RPCStatusCode.RESOURCE_EXHAUSTED, BUSY),) * 3)
    with pytest.raises(RPCError, match="too many requests"):
        await versioning.describe(client(service), "returnflow", wait=dt.timedelta(0))
    assert service.described == 1


async def test_a_description_refused_for_good_is_not_asked_again() -> None:
    service = Service(
        descriptions=(refused(RPCStatusCode.PERMISSION_DENIED, "permission denied"), "answered")
    )
    with pytest.raises(RPCError, match="permission denied"):
        await versioning.describe(client(service), "returnflow", wait=dt.timedelta(seconds=10))
    assert service.described == 1


async def test_a_stop_sent_while_the_worker_describes_its_deployment_is_acted_on_at_once() -> None:
    stop = asyncio.Event()
    describing = asyncio.Event()
    cancelled = asyncio.Event()

    async def describe_a_busy_deployment() -> None:
        describing.set()
        try:
            await asyncio.sleep(16)  # asking again while the server is busy
        except asyncio.CancelledError:
            cancelled.set()
            raise

    waiting = asyncio.create_task(until_stopped(stop, describe_a_busy_deployment()))
    await describing.wait()
    began = time.monotonic()
    stop.set()
    await asyncio.wait_for(waiting, timeout=2)

    assert time.monotonic() - began < 1
    assert cancelled.is_set()
