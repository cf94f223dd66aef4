"""Several hosts: two workers and two gateways, each with a working directory of its own (no
disk shared), against one Temporal and one PostgreSQL. In the middle of a batch one worker and
one gateway are killed (SIGKILL); every return still completes with exactly one label, one
pickup and one refund, and the dead letters both gateways filed are listed together."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from benchmarks.returns_measure import duplicates
from benchmarks.returns_paths import MailWatch, RealReturns, play_all, withdrawals
from devstack import probes
from devstack.config import StackConfig, free_ports
from devstack.process import ManagedProcess
from devstack.stack import DevStack, ServiceSpec, worker_ready
from domain.notices import NoticeKind
from plumbing.signing import signed_headers
from tests.e2e.conftest import ROOT
from tests.postgres import PostgresServer

RETURNS = 12
PREFIX = "HOSTS"


class Balancer(httpx.AsyncBaseTransport):
    """The load balancer in front of the gateways: each request to the next gateway in turn; a
    gateway that refuses connections is taken out of the turn."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.down: set[str] = set()
        self.answered: Counter[str] = Counter()
        """Requests each gateway answered."""
        self._turn = itertools.count()
        self._transport = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        while live := [url for url in self.urls if url not in self.down]:
            url = urlsplit(live[next(self._turn) % len(live)])
            request.url = request.url.copy_with(host=url.hostname, port=url.port)
            try:
                answer = await self._transport.handle_async_request(request)
            except httpx.ConnectError:
                self.down.add(url.geturl())
                continue
            self.answered[url.geturl()] += 1
            return answer
        raise httpx.ConnectError("no gateway answers", request=request)

    async def aclose(self) -> None:
        await self._transport.aclose()


async def another_host(
    stack: DevStack, directory: Path
) -> tuple[ManagedProcess, ManagedProcess, str]:
    """A worker and a gateway on a second "host": its own working directory, with a copy of the
    payload keys as an operator would install them; its gateway's URL."""
    directory.mkdir()
    keys = directory / "payload-keys"
    shutil.copyfile(stack.config.key_file, keys)
    keys.chmod(0o600)
    (port,) = free_ports(1)
    url = f"http://{stack.config.host}:{port}"
    env = {
        "RETURNFLOW_VAR_DIR": str(directory),
        "RETURNFLOW_PAYLOAD_KEY_FILE": str(keys),
        "RETURNFLOW_GATEWAY_PORT": str(port),
    }
    python = sys.executable
    worker = await stack.add(
        ServiceSpec("worker-b", [python, "worker.py"], ready=worker_ready, env=env)
    )
    gateway = await stack.add(
        ServiceSpec(
            "gateway-b",
            [python, "starter.py", "serve"],
            ready=lambda _stack, _proc: probes.http_ok(f"{url}/readyz"),
            ports=(port,),
            env=env,
        )
    )
    return worker, gateway, url


async def refused_at(stack: DevStack, gateway_url: str, note: str) -> None:
    """The order service's signed event that is no event: the gateway refuses it and files a
    dead letter."""
    body = json.dumps({"not": "an event", "sent_to": note}).encode()
    headers = {"Content-Type": "application/json"}
    headers |= signed_headers(stack.config.event_secret, body)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        answer = await http.post("/v1/events", content=body, headers=headers)
    assert answer.status_code == 422, answer.text


def dead_letters_listed(store_url: str, directory: Path) -> list[dict[str, object]]:
    """`starter.py dead-letters list --json` as an operator runs it, in `directory`."""
    directory.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNFLOW_"))}
    env |= {"RETURNFLOW_VAR_DIR": str(directory), "RETURNFLOW_STORE_URL": store_url}
    listed = subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "dead-letters", "list", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line) for line in listed.stdout.splitlines()]


def service(stack: DevStack, name: str) -> ManagedProcess:
    return next(p for p in stack.processes if p.name == name)


# An activity in hand on the killed worker is retried 20 s after its last heartbeat: the test
# takes that long beyond the batch, and its own timeout leaves room for a slow machine.
@pytest.mark.timeout(300)
async def test_returns_complete_once_each_when_a_worker_and_a_gateway_die_mid_batch(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    store_url = postgres.new_database()
    config = StackConfig.on_free_ports(
        tmp_path / "host-a",
        sellers_file=ROOT / "examples" / "sellers.json",
        store_url=store_url,
        metrics=False,
    )
    async with DevStack(config) as stack:
        worker_b, gateway_b, gateway_b_url = await another_host(stack, tmp_path / "host-b")
        worker_a, gateway_a = service(stack, "worker"), service(stack, "gateway")
        await refused_at(stack, config.gateway_url, "gateway-a")
        await refused_at(stack, gateway_b_url, "gateway-b")

        mail = MailWatch(config.mail_dir)
        watching = asyncio.create_task(mail.watch())
        balancer = Balancer([config.gateway_url, gateway_b_url])
        try:
            async with (
                httpx.AsyncClient(transport=balancer, base_url="http://g", timeout=60) as http,
                httpx.AsyncClient(base_url=config.sandbox_url, timeout=30) as sandbox,
            ):
                players = RealReturns(config, http, sandbox, mail, retry_pause=0.5)
                events = withdrawals(PREFIX, RETURNS)
                playing = asyncio.create_task(play_all(players.play, events, RETURNS, within=300))
                # Every customer has their address email; the first are choosing.
                addressed = await mail.count_until(
                    NoticeKind.RETURN_ADDRESS, f"return-{PREFIX}", RETURNS, within=120
                )
                assert addressed == RETURNS
                served_by_b = balancer.answered[gateway_b_url]
                for dying in (worker_a, gateway_b):
                    assert dying.pid is not None
                    os.kill(dying.pid, signal.SIGKILL)
                played = await playing
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching

        assert served_by_b >= RETURNS // 2  # every other request, until it died
        assert balancer.down == {gateway_b_url}
        assert [p.error for p in played if p.error] == []
        assert worker_a.exited and gateway_b.exited
        assert not worker_b.exited and not gateway_a.exited
        made = await duplicates(stack, [p.return_id for p in played])
        assert (made.labels, made.pickups, made.refunds) == (RETURNS, RETURNS, RETURNS)
        assert made.labels_bought_twice == 0
        assert made.pickups_booked_twice == 0
        assert made.refunds_requested_twice == 0

    # An operator on a third machine, with the store's URL and nothing else of theirs on disk.
    letters = await asyncio.to_thread(dead_letters_listed, store_url, tmp_path / "operator")
    assert len(letters) == 2
    assert {letter["reason"] for letter in letters} == {"invalid_event"}
