"""The gateway while Temporal is down: it starts anyway, answers every event 503 with
`Retry-After` and does nothing half-way; once Temporal is back, the senders' retries start
every return exactly once. The gateway is the real `starter.py serve` process."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from dead_letters.store import DeadLetterStore
from devstack.config import free_ports
from devstack.process import ManagedProcess
from domain import search_attributes as sa
from plumbing.settings import Settings
from plumbing.temporal import cli_path
from store import open_store
from tests.factories import retract_event, unique_order_id
from tests.gateway.door import EVENT_SECRET, event_body
from tests.gateway.door import Door as Sender
from tests.keys import TEST_KEYS, converter_for_tests

ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def gateway_process(
    var_dir: Path, temporal_port: int, gateway_port: int
) -> AsyncIterator[ManagedProcess]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNFLOW_"))}
    env |= {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "RETURNFLOW_VAR_DIR": str(var_dir),
        "RETURNFLOW_GATEWAY_PORT": str(gateway_port),
        "RETURNFLOW_GATEWAY_EVENT_SECRETS": EVENT_SECRET,
        "RETURNFLOW_GATEWAY_TEMPORAL_TIMEOUT_SECONDS": "2",
        "RETURNFLOW_TASK_QUEUE": "returns-while-down",
        "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS,
        "RETURNFLOW_ALLOW_SANDBOX_CARRIERS": "true",
    }
    process = ManagedProcess(
        "gateway", [sys.executable, "starter.py", "serve"], var_dir / "gateway.log", env
    )
    await process.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}") as http:
            async with asyncio.timeout(30):
                while True:
                    assert not process.exited, process.log_tail()
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
        yield process
    finally:
        await process.stop()


async def test_events_sent_while_temporal_is_down_are_all_taken_once_it_is_back(
    tmp_path: Path,
) -> None:
    temporal_port, gateway_port = free_ports(2)
    url = f"http://127.0.0.1:{gateway_port}"
    prefix = unique_order_id("DOWN")
    bodies = [event_body(retract_event(order_id=f"{prefix}-{n}")) for n in range(5)]
    answers: list[int] = []

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        sender = Sender(http, Settings(var_dir=tmp_path))
        async with gateway_process(tmp_path, temporal_port, gateway_port):
            not_ready = await http.get("/readyz")
            first = [await sender.send_event(body) for body in bodies]
        # The gateway is restarted while Temporal is still down: it comes up all the same.
        async with gateway_process(tmp_path, temporal_port, gateway_port):
            second = [await sender.send_event(body) for body in bodies]
            env = await WorkflowEnvironment.start_local(
                port=temporal_port,
                dev_server_existing_path=str(cli_path()),
                search_attributes=sa.ALL,
                data_converter=converter_for_tests(),
            )
            async with env:
                async with asyncio.timeout(30):
                    while (await http.get("/readyz")).status_code != 200:
                        await asyncio.sleep(0.2)
                # The senders retry after Retry-After; one of them sends its event twice.
                third = [await sender.send_event(body) for body in [*bodies, bodies[0]]]
                answers = [a.status_code for a in third]
                query = f'OrderId STARTS_WITH "{prefix}"'
                async with asyncio.timeout(15):
                    while (count := (await env.client.count_workflows(query)).count) < 5:
                        await asyncio.sleep(0.2)

    assert not_ready.status_code == 503
    for refused in (*first, *second):
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "30"
        assert refused.json()["error"]["code"] == "temporal_unavailable"
    assert answers == [202, 202, 202, 202, 202, 200]
    assert count == 5
    # Nothing refused for what it is: nothing to replay, the senders' retries were enough.
    store = open_store(Settings(var_dir=tmp_path))
    try:
        assert list(DeadLetterStore(store, None).letters()) == []
    finally:
        store.close()
