"""What a stranger gets from the gateway: answers in the one error shape that never quote what
was sent, and, past a few refusals or too many requests a minute, 429 with Retry-After while
every other source goes on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from activities.carriers.registry import CarrierRegistry
from gateway.app import create_app
from gateway.guard import RateLimits, proxies
from plumbing.serving import ConnectionLimits, HostedApp
from plumbing.settings import Settings
from plumbing.signing import signed_headers
from store import open_store
from tests.factories import retract_event
from tests.gateway.door import EVENT_SECRET, event_body, gateway_settings
from tests.workflows.harness import ReturnHarness, return_harness

MARKER = "zq-stranger-7f3a"
"""Something a stranger sends that no answer may repeat."""


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[ReturnHarness]:
    async with return_harness(time_skipping_env.client) as harness:
        yield harness


@asynccontextmanager
async def gateway(
    harness: ReturnHarness, tmp_path: Path, host: str = "127.0.0.1", **settings: Any
) -> AsyncIterator[str]:
    """The gateway, served as `starter.py serve` serves it, on `host`; its URL on 127.0.0.1."""
    config = gateway_settings(harness.settings.task_queue, tmp_path, **settings)
    registry = CarrierRegistry([])
    store = open_store(config)
    try:
        async with HostedApp(
            create_app(harness.client, config, registry, store),
            host=host,
            limits=ConnectionLimits.from_settings(config),
            trusted_proxies=proxies(config),
        ) as s:
            yield f"http://127.0.0.1:{s.port}"
    finally:
        await registry.aclose()
        store.close()


def from_address(url: str, address: str) -> httpx.AsyncClient:
    """A client whose requests leave from `address` (any of 127.0.0.0/8 reaches 127.0.0.1)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=url, transport=transport, timeout=30)


def signed(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", **signed_headers(EVENT_SECRET, body)}


async def test_an_unknown_path_and_a_wrong_method_are_answered_in_the_gateways_error_shape(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    async with gateway(harness, tmp_path) as url, from_address(url, "127.0.0.1") as http:
        unknown = await http.get(f"/v1/{MARKER}")
        wrong_method = await http.delete("/v1/events")

    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": {
            "code": "not_found",
            "message": "No such resource here: the gateway's routes are in docs/gateway.md.",
        }
    }
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert wrong_method.headers["Allow"] == "POST"
    assert MARKER not in unknown.text


async def test_no_answer_repeats_what_a_stranger_sent(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    odd_type = json.dumps({"event_id": "EVT-1", "type": f"<b>{MARKER}</b>"}).encode()
    async with gateway(harness, tmp_path) as url, from_address(url, "127.0.0.1") as http:
        answers = [
            await http.post("/v1/events", content=odd_type, headers=signed(odd_type)),
            await http.post(f"/v1/carriers/{MARKER}/webhooks", content=b"{}"),
            await http.get(
                f"/v1/returns/return-{MARKER}",
                headers={"Authorization": "Bearer operations-alice-token-00004"},
            ),
        ]

    assert [a.status_code for a in answers] == [400, 404, 404]
    assert [a.json()["error"]["code"] for a in answers] == [
        "unknown_event_type",
        "unknown_carrier",
        "unknown_return",
    ]
    for answer in answers:
        assert MARKER not in answer.text


async def test_a_source_refused_too_often_gets_429_while_another_source_goes_on(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    event = event_body(retract_event())
    async with (
        gateway(harness, tmp_path, gateway_refusals_per_minute=3) as url,
        from_address(url, "127.0.0.2") as stranger,
        from_address(url, "127.0.0.1") as order_service,
    ):
        refused = [(await stranger.post("/v1/events", content=b"{}")).status_code for _ in range(3)]
        blocked = await stranger.post("/v1/events", content=event, headers=signed(event))
        still_blocked = await stranger.get("/healthz")
        served = await order_service.post("/v1/events", content=event, headers=signed(event))

    assert refused == [401, 401, 401]
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert still_blocked.status_code == 429
    assert served.status_code == 202


async def test_refusals_after_the_sender_is_authenticated_do_not_count_against_it(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    not_an_event = b"[1, 2, 3]"
    async with (
        gateway(harness, tmp_path, gateway_refusals_per_minute=2) as url,
        from_address(url, "127.0.0.3") as order_service,
    ):
        answers = [
            (
                await order_service.post(
                    "/v1/events", content=not_an_event, headers=signed(not_an_event)
                )
            ).status_code
            for _ in range(4)
        ]

    assert answers == [422, 422, 422, 422]


async def test_a_source_over_its_requests_a_minute_gets_429_and_an_exempt_one_never_does(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    async with (
        gateway(
            harness,
            tmp_path,
            gateway_requests_per_minute=3,
            gateway_rate_limit_exempt="127.0.0.5/32, ::1",
        ) as url,
        from_address(url, "127.0.0.4") as busy,
        from_address(url, "127.0.0.5") as exempt,
    ):
        busy_answers = [(await busy.get("/healthz")).status_code for _ in range(4)]
        exempt_answers = [(await exempt.get("/healthz")).status_code for _ in range(6)]

    assert busy_answers == [200, 200, 200, 429]
    assert exempt_answers == [200] * 6


async def test_on_every_address_each_ipv4_peer_is_a_source_of_its_own(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    """Listening on `::` (IPv6 and IPv4), an IPv4 peer arrives as `::ffff:a.b.c.d`: a
    stranger's refusals must not block the order service, nor an exempt address be limited."""
    event = event_body(retract_event())
    async with (
        gateway(
            harness,
            tmp_path,
            host="::",
            gateway_refusals_per_minute=3,
            gateway_rate_limit_exempt="127.0.0.9",
        ) as url,
        from_address(url, "127.0.0.2") as stranger,
        from_address(url, "127.0.0.3") as order_service,
        from_address(url, "127.0.0.9") as exempt,
    ):
        refused = [(await stranger.post("/v1/events", content=b"{}")).status_code for _ in range(4)]
        served = await order_service.post("/v1/events", content=event, headers=signed(event))
        exempt_answers = [
            (await exempt.post("/v1/events", content=b"{}")).status_code for _ in range(5)
        ]

    assert refused == [401, 401, 401, 429]
    assert served.status_code == 202
    assert exempt_answers == [401] * 5


async def test_behind_a_trusted_ipv4_proxy_on_every_address_each_client_is_a_source(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    async with (
        gateway(
            harness,
            tmp_path,
            host="::",
            gateway_refusals_per_minute=2,
            gateway_trusted_proxies="127.0.0.7",
        ) as url,
        from_address(url, "127.0.0.7") as proxy,
    ):
        stranger = {"X-Forwarded-For": "203.0.113.5"}
        customer = {"X-Forwarded-For": "198.51.100.20"}
        refused = [
            (await proxy.post("/v1/events", content=b"{}", headers=stranger)).status_code
            for _ in range(3)
        ]
        served = await proxy.get("/healthz", headers=customer)

    assert refused == [401, 401, 429]
    assert served.status_code == 200


def test_a_source_already_refused_may_have_no_more_requests_in_flight_than_refusals_left() -> None:
    limits = RateLimits(Settings(gateway_refusals_per_minute=3))
    assert limits.admit("203.0.113.9") is None
    limits.refused("203.0.113.9")
    limits.done("203.0.113.9")

    in_flight = [limits.admit("203.0.113.9") for _ in range(2)]
    one_too_many = limits.admit("203.0.113.9")
    limits.done("203.0.113.9")
    after_one_answered = limits.admit("203.0.113.9")

    assert in_flight == [None, None]
    assert one_too_many is not None and 1 <= one_too_many <= 60
    assert after_one_answered is None


def test_a_source_never_refused_may_have_many_requests_in_flight() -> None:
    limits = RateLimits(Settings(gateway_refusals_per_minute=3))

    assert [limits.admit("198.51.100.7") for _ in range(50)] == [None] * 50
