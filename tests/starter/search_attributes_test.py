"""`starter.py search-attributes`: what a self-hosted cluster (and the compose stack's set-up
job) runs once, before the workers, so that returns can carry their search attributes."""

from __future__ import annotations

import asyncio
import sys

from google.protobuf.duration_pb2 import Duration
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.testing import WorkflowEnvironment

from devstack.config import free_ports
from domain import search_attributes as sa
from plumbing.temporal import cli_path
from tests.keys import TEST_KEYS
from tests.starter.starter_test import ROOT


async def starter(
    address: str, *args: str, namespace: str = "default"
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "starter.py"),
        "search-attributes",
        *args,
        cwd=ROOT,
        env={
            "TEMPORAL_ADDRESS": address,
            "TEMPORAL_NAMESPACE": namespace,
            "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finished(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_cluster_still_starting_is_waited_for_then_given_every_attribute_once() -> None:
    port = free_ports(1)[0]
    address = f"127.0.0.1:{port}"
    # The set-up job starts before the cluster answers, as compose may start it.
    waiting = await starter(address, "--wait", "60")
    assert waiting.stderr is not None
    # It has been refused twice, and tries again rather than give up.
    said_before: list[str] = []
    async with asyncio.timeout(30):
        while sum("waiting for Temporal" in line for line in said_before) < 2:
            said_before.append((await waiting.stderr.readline()).decode())
    assert waiting.returncode is None, "it gave up while the cluster was still starting"

    env = await WorkflowEnvironment.start_local(
        port=port, dev_server_existing_path=str(cli_path()), ui=False
    )
    async with env:
        code, out, err = await finished(waiting)
        err = "".join(said_before) + err
        assert code == 0, err
        assert "waiting for Temporal" in err
        assert out.strip() == (
            "registered in default: " + ", ".join(sorted(key.name for key in sa.ALL))
        )

        listed = await env.client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        for key in sa.ALL:
            assert key.name in listed.custom_attributes

        code, out, err = await finished(await starter(address))
        assert code == 0, err
        assert out.strip() == "default already has every search attribute"


async def test_a_cluster_that_never_answers_is_a_clear_error_when_the_wait_ends() -> None:
    address = f"127.0.0.1:{free_ports(1)[0]}"
    code, _out, err = await finished(await starter(address, "--wait", "3"))
    assert code == 1
    assert f"cannot reach Temporal at {address}" in err


async def test_a_namespace_still_being_created_is_waited_for() -> None:
    """A cluster's set-up creates the namespace once its frontend answers: the job asks again
    rather than give up at the first answer."""
    port = free_ports(1)[0]
    env = await WorkflowEnvironment.start_local(
        port=port, dev_server_existing_path=str(cli_path()), ui=False
    )
    async with env:
        waiting = await starter(f"127.0.0.1:{port}", "--wait", "60", namespace="returns-new")
        assert waiting.stderr is not None
        async with asyncio.timeout(30):
            said = (await waiting.stderr.readline()).decode()
        await env.client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace="returns-new",
                workflow_execution_retention_period=Duration(seconds=86_400),
            )
        )
        code, out, err = await finished(waiting)

    assert said.startswith("waiting for Temporal: TEMPORAL_NAMESPACE: "), said
    assert "has no namespace 'returns-new'" in said
    assert code == 0, err
    assert out.startswith("registered in returns-new: ")
