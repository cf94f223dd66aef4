"""The gateway against its OpenAPI description (schemas/gateway-openapi.json), served on a real
socket in front of the Temporal dev server and a worker: Schemathesis generates requests from the
description, signed or not, with each kind of token or none, on returns that exist or not, and
every answer must be no server error, and of a status, content type and shape the description
gives. `make test` plays a few examples per operation, `make fuzz-api` many."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.carriers.registry import CarrierRegistry
from gateway.app import create_app, openapi_document
from plumbing.serving import HostedApp
from plumbing.signing import signed_headers
from store import open_store
from tests.api_fuzz import CONFORMANCE, fuzz_settings, pick, timeout
from tests.factories import retract_event
from tests.gateway.door import (
    CUSTOMER_TOKEN,
    EVENT_SECRET,
    OPERATIONS_TOKEN,
    PORTAL_TOKEN,
    SELLER_TOKEN,
    gateway_settings,
)
from tests.keys import converter_for_tests
from tests.workflows.harness import return_harness
from tests.workflows.return_workflow_test import ready_for_choice

pytestmark = pytest.mark.timeout(timeout())

schema = schemathesis.openapi.from_dict(json.loads(openapi_document()))

TOKENS = [CUSTOMER_TOKEN, SELLER_TOKEN, PORTAL_TOKEN, OPERATIONS_TOKEN, "no-one-has-this", None]


@dataclass
class ServedGateway:
    """The gateway served from a thread of its own, with a Temporal client and a worker of its
    own (the generated tests are not coroutines), and returns waiting for the customer's
    choice to act on."""

    target: str
    namespace: str
    var_dir: Path
    url: str = ""
    return_ids: list[str] = field(default_factory=list)
    _ready: threading.Event = field(default_factory=threading.Event)
    _failed: list[BaseException] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None

    def __enter__(self) -> ServedGateway:
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._thread.start()
        if not self._ready.wait(60) or self._failed:
            raise RuntimeError("the gateway did not start") from next(iter(self._failed), None)
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    async def _serve(self) -> None:
        try:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            client = await Client.connect(
                self.target, namespace=self.namespace, data_converter=converter_for_tests()
            )
            registry = CarrierRegistry([])
            async with return_harness(client) as harness:
                settings = gateway_settings(
                    harness.settings.task_queue,
                    self.var_dir,
                    # Every request comes from loopback: the rate limits would soon answer 429
                    # to all of them.
                    gateway_rate_limit_exempt="127.0.0.0/8",
                )
                for _ in range(2):
                    handle = await ready_for_choice(harness)
                    self.return_ids.append(handle.id)
                store = open_store(settings)
                try:
                    async with HostedApp(create_app(client, settings, registry, store)) as server:
                        self.url = server.url
                        self._ready.set()
                        await self._stop.wait()
                finally:
                    store.close()
            await registry.aclose()
        except BaseException as err:
            self._failed.append(err)
            self._ready.set()
            raise


@pytest.fixture(scope="module")
def served_gateway(
    time_skipping_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedGateway]:
    env_client = time_skipping_env.client
    with ServedGateway(
        env_client.service_client.config.target_host,
        env_client.namespace,
        tmp_path_factory.mktemp("gateway"),
    ) as served:
        yield served


@schema.parametrize()
@fuzz_settings()
def test_the_gateway_answers_every_request_as_described(
    case: schemathesis.Case[Any], served_gateway: ServedGateway
) -> None:
    if "return_id" in (case.path_parameters or {}):
        return_id = pick(case, "return", [None, *served_gateway.return_ids])
        if return_id is not None:
            case.path_parameters = {**(case.path_parameters or {}), "return_id": return_id}
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if case.path.startswith("/v1/returns/"):
        token = pick(case, "token", TOKENS)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
    elif case.path == "/v1/events" and isinstance(case.body, bytes | str | dict | list):
        if isinstance(case.body, dict) and pick(case, "plausible", [False, False, True]):
            # Generated events seldom hold plausible facts: some are real ones, to be started.
            case.body = json.loads(retract_event().model_dump_json())
        raw = case.body if isinstance(case.body, bytes | str) else json.dumps(case.body)
        body = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
        extra["data"] = body
        if pick(case, "signed", [True, True, False]):
            headers |= signed_headers(EVENT_SECRET, body)
    response = case.call(base_url=served_gateway.url, headers=headers, timeout=60, **extra)
    case.validate_response(response, checks=CONFORMANCE, headers=headers)
