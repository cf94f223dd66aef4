"""The gateway on a real socket in front of a return harness: send it what the order service,
the apps and operations staff send, signed or with their tokens."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from temporalio.client import Client

from activities.carriers.registry import CarrierRegistry
from dead_letters.store import DeadLetterStore
from domain.events import RetractEvent
from gateway.app import create_app
from plumbing.serving import ConnectionLimits, HostedApp
from plumbing.settings import Settings
from plumbing.signing import signed_headers
from plumbing.telemetry import Telemetry
from store import Store, open_store
from tests.keys import codec_for_tests

EVENT_SECRET = "order-events-secret-for-tests"
SELLER_TOKEN = "seller-refurbpro-token-0001"
PORTAL_TOKEN = "seller-portal-token-00000002"
CUSTOMER_TOKEN = "customer-app-token-000000003"
OPERATIONS_TOKEN = "operations-alice-token-00004"


def gateway_settings(task_queue: str, var_dir: Path, **overrides: Any) -> Settings:
    from tests.factories import SELLER_ID

    values: dict[str, Any] = {
        "task_queue": task_queue,
        "var_dir": var_dir,
        "gateway_event_secrets": SecretStr(EVENT_SECRET),
        "gateway_seller_tokens": SecretStr(f"{SELLER_ID}={SELLER_TOKEN},*={PORTAL_TOKEN}"),
        "gateway_customer_tokens": SecretStr(f"customer-app={CUSTOMER_TOKEN}"),
        "gateway_operations_tokens": SecretStr(f"alice={OPERATIONS_TOKEN}"),
        **overrides,
    }
    return Settings(**values)


def event_body(event: RetractEvent | dict[str, Any]) -> bytes:
    if isinstance(event, RetractEvent):
        return event.model_dump_json().encode()
    return json.dumps(event).encode()


@dataclass
class Door:
    """An HTTP client of the gateway, and what it keeps (in `store`, open while `open_door`'s
    block runs)."""

    http: httpx.AsyncClient
    settings: Settings
    store: Store | None = None

    @property
    def dead_letters(self) -> DeadLetterStore:
        assert self.store is not None, "the gateway's store: a door of open_door"
        return DeadLetterStore(self.store, codec_for_tests())

    async def send_event(
        self,
        body: bytes,
        *,
        secret: str = EVENT_SECRET,
        timestamp: int | None = None,
        signed: bool = True,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signed:
            headers |= signed_headers(secret, body, timestamp=timestamp)
        return await self.http.post("/v1/events", content=body, headers=headers)

    async def act(
        self,
        return_id: str,
        action: str,
        body: dict[str, Any] | bytes,
        token: str | None,
        *,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.http.post(
            f"/v1/returns/{return_id}/{action}", content=content, headers=headers
        )

    async def status(self, return_id: str, token: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.get(f"/v1/returns/{return_id}", headers=headers)


@asynccontextmanager
async def open_door(
    client: Client,
    settings: Settings,
    registry: CarrierRegistry | None = None,
    telemetry: Telemetry | None = None,
) -> AsyncIterator[Door]:
    """The gateway as `starter.py serve` serves it: the same connection limits, and (given
    `telemetry`) its requests counted and traced."""
    registry = registry or CarrierRegistry([])
    store = open_store(settings)
    app = create_app(client, settings, registry, store)
    try:
        async with (
            HostedApp(
                telemetry.serve(app, app.routes) if telemetry else app,
                limits=ConnectionLimits.from_settings(settings),
            ) as server,
            httpx.AsyncClient(base_url=server.url, timeout=30) as http,
        ):
            yield Door(http, settings, store)
    finally:
        await registry.aclose()
        store.close()
