"""Is a service ready? Each probe asks the service itself, the way its users will."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client


async def port_in_use(host: str, port: int) -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def http_ok(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            response = await http.get(url)
    except httpx.HTTPError:
        return False
    return response.status_code < 500


async def smtp_ready(host: str, port: int) -> bool:
    """The server greets with 220 and says goodbye to QUIT."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
    except (OSError, TimeoutError):
        return False
    try:
        greeting = await asyncio.wait_for(reader.readline(), 2)
        writer.write(b"QUIT\r\n")
        await writer.drain()
        return greeting.startswith(b"220")
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def temporal_ready(client: Client) -> bool:
    try:
        return await client.service_client.check_health()
    except RuntimeError:
        return False


async def worker_polling(client: Client, task_queue: str, pid: int) -> bool:
    """The worker process `pid` polls `task_queue` (its identity is `pid@host`)."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return any(p.identity.startswith(f"{pid}@") for p in response.pollers)
