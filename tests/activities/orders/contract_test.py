"""One contract for every order service adapter: the local file, and the marketplace's order
service over HTTP (the marketplace sandbox on a real socket). Each operation is idempotent under
retry, a key reused differently is a conflict for good; over HTTP, every documented error is
classified as documented (docs/marketplace.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.orders.http import HttpOrderService
from activities.orders.service import FileOrderService, OrderService
from domain.base import Money
from domain.failures import FailureType
from marketplace_sandbox.app import create_app
from tests.activities.orders.orders_test import claim_request, refund_request
from tests.marketplace import TOKEN, Sandbox, marketplace_sandbox


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with marketplace_sandbox(tmp_path / "marketplace") as running:
        yield running


@pytest.fixture(params=["file", "http"])
async def orders(
    request: pytest.FixtureRequest, tmp_path: Path, sandbox: Sandbox
) -> AsyncIterator[OrderService]:
    if request.param == "file":
        yield FileOrderService(tmp_path / "orders")
        return
    http = HttpOrderService(sandbox.url, TOKEN, timeout_seconds=5)
    try:
        yield http
    finally:
        await http.aclose()


async def test_a_refund_is_recorded_once_per_key(orders: OrderService) -> None:
    first = await orders.request_refund(refund_request())
    again = await orders.request_refund(refund_request())

    assert first.created and not again.created
    assert again.refund_id == first.refund_id
    assert again.amount == first.amount == Money(amount=Decimal("429.00"), currency="EUR")


async def test_another_refund_under_a_used_key_is_a_conflict_for_good(
    orders: OrderService,
) -> None:
    await orders.request_refund(refund_request())

    with pytest.raises(ApplicationError) as refused:
        await orders.request_refund(
            refund_request(amount=Money(amount=Decimal("1.00"), currency="EUR"))
        )

    assert refused.value.type == FailureType.REFUND_CONFLICT
    assert refused.value.non_retryable


async def test_a_claim_is_recorded_once_per_key_and_a_different_one_is_a_conflict(
    orders: OrderService,
) -> None:
    first = await orders.file_claim(claim_request())
    again = await orders.file_claim(claim_request())
    with pytest.raises(ApplicationError) as refused:
        await orders.file_claim(claim_request(reason="Another reason"))

    assert first.created and not again.created and again.claim_id == first.claim_id
    assert refused.value.type == FailureType.REFUND_CONFLICT


async def test_a_refund_whose_answer_was_lost_is_found_on_the_retry(sandbox: Sandbox) -> None:
    orders = HttpOrderService(sandbox.url, TOKEN, timeout_seconds=5)
    await sandbox.faults(error_rate=1.0, error_when="after")
    with pytest.raises(ApplicationError) as lost:
        await orders.request_refund(refund_request())
    await sandbox.faults()

    retried = await orders.request_refund(refund_request())
    await orders.aclose()

    assert lost.value.type == FailureType.ORDER_SERVICE_UNAVAILABLE
    assert not lost.value.non_retryable
    assert not retried.created  # recorded by the first call, whose answer was lost
    assert len(await sandbox.recorded("refunds")) == 1


@pytest.mark.parametrize(
    ("plan", "delay"),
    [
        ({"error_rate": 1.0, "error_when": "before", "error_status": 503}, 1),
        ({"error_rate": 1.0, "error_when": "before", "error_status": 500}, 1),
        ({"rate_limit_rate": 1.0, "retry_after_seconds": 7}, 7),
    ],
)
async def test_throttling_and_server_errors_are_retried_after_retry_after(
    sandbox: Sandbox, plan: dict[str, Any], delay: int
) -> None:
    orders = HttpOrderService(sandbox.url, TOKEN, timeout_seconds=5)
    await sandbox.faults(**plan)

    with pytest.raises(ApplicationError) as failed:
        await orders.request_refund(refund_request())
    await orders.aclose()

    assert failed.value.type == FailureType.ORDER_SERVICE_UNAVAILABLE
    assert not failed.value.non_retryable
    assert failed.value.next_retry_delay == dt.timedelta(seconds=delay)
    assert await sandbox.recorded("refunds") == []


async def test_a_slow_answer_is_a_timeout_retried(sandbox: Sandbox) -> None:
    orders = HttpOrderService(sandbox.url, TOKEN, timeout_seconds=0.5)
    await sandbox.faults(slow_rate=1.0, slow_seconds=2)

    with pytest.raises(ApplicationError) as failed:
        await orders.request_refund(refund_request())
    await orders.aclose()

    assert failed.value.type == FailureType.ORDER_SERVICE_UNAVAILABLE
    assert "timed out" in failed.value.message


async def test_bad_credentials_and_bad_data_are_refused_for_good(sandbox: Sandbox) -> None:
    wrong = HttpOrderService(sandbox.url, "not-the-token", timeout_seconds=5)
    with pytest.raises(ApplicationError) as unauthorised:
        await wrong.request_refund(refund_request())
    await wrong.aclose()
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        body = refund_request().model_dump(mode="json") | {"amount": {"amount": "x"}}
        invalid = await http.post(
            "/v1/refunds",
            json=body,
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Idempotency-Key": body["idempotency_key"],
            },
        )

    assert unauthorised.value.type == FailureType.ORDER_SERVICE_REJECTED
    assert unauthorised.value.non_retryable
    assert "HTTP 401 bad_token" in unauthorised.value.message
    assert invalid.status_code == 422
    assert any(p.startswith("amount") for p in invalid.json()["error"]["problems"])


async def test_a_refund_without_an_idempotency_key_is_refused_naming_it(sandbox: Sandbox) -> None:
    body = refund_request().model_dump(mode="json") | {"idempotency_key": ""}
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        answer = await http.post(
            "/v1/refunds",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": ""},
        )

    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0].startswith("Idempotency-Key: required")
    assert await sandbox.recorded("refunds") == []


async def test_the_sandboxs_every_refusal_comes_in_the_one_error_shape(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        answers = [
            await http.get("/v2/refunds"),
            await http.delete("/v1/refunds"),
            await http.put("/sandbox/faults", json={"error_rate": 2}),
            await http.get("/sandbox/sellers/a%00b/messages"),
        ]

    assert [a.status_code for a in answers] == [404, 405, 422, 404]
    assert [a.json()["error"]["code"] for a in answers] == [
        "not_found",
        "method_not_allowed",
        "invalid_request",
        "unknown_seller",
    ]
    assert answers[2].json()["error"]["problems"][0].startswith("error_rate: ")


def test_a_webhook_secret_that_can_sign_nothing_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="webhook secrets: acme: a webhook secret is whsec_"):
        create_app(tmp_path, TOKEN, webhook_secrets=["acme=whsec_short"])


async def test_nobody_listening_is_unavailable_and_retried() -> None:
    orders = HttpOrderService("http://127.0.0.1:9", TOKEN, timeout_seconds=2)

    with pytest.raises(ApplicationError) as failed:
        await orders.request_refund(refund_request())
    await orders.aclose()

    assert failed.value.type == FailureType.ORDER_SERVICE_UNAVAILABLE


def answering(status: int, body: object = None, **headers: str) -> HttpOrderService:
    """The adapter before a service that always answers `status` (an in-process transport)."""

    def handler(_request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return HttpOrderService("https://orders.example", TOKEN, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("status", "body", "headers", "failure", "delay"),
    [
        (422, {"error": {"code": "invalid_request", "message": "amount: bad"}}, {},
         FailureType.ORDER_SERVICE_REJECTED, None),
        (308, b"", {"location": "https://orders.example/v2/refunds"},
         FailureType.ORDER_SERVICE_REJECTED, None),
        (408, b"", {}, FailureType.ORDER_SERVICE_UNAVAILABLE, None),
        (202, {}, {}, FailureType.ORDER_SERVICE_UNAVAILABLE, None),
        (200, b"<html>ok</html>", {}, FailureType.ORDER_SERVICE_UNAVAILABLE, None),
        (503, b"", {"retry-after": "86400"}, FailureType.ORDER_SERVICE_UNAVAILABLE, 600),
        (503, b"", {"retry-after": "inf"}, FailureType.ORDER_SERVICE_UNAVAILABLE, None),
    ],
)  # fmt: skip
async def test_every_answer_is_classified_as_documented(
    status: int, body: object, headers: dict[str, str], failure: str, delay: int | None
) -> None:
    orders = answering(status, body, **headers)

    with pytest.raises(ApplicationError) as failed:
        await orders.request_refund(refund_request())
    await orders.aclose()

    assert failed.value.type == failure
    assert failed.value.non_retryable is (failure == FailureType.ORDER_SERVICE_REJECTED)
    expected = dt.timedelta(seconds=delay) if delay is not None else None
    assert failed.value.next_retry_delay == expected


async def test_what_the_service_says_is_kept_short_and_never_its_raw_body() -> None:
    echoed = {"error": {"code": "invalid_request", "message": "Camille Durand " * 40}}
    html = answering(400, b"<html>Camille Durand, 12 rue des Lilas</html>")
    chatty = answering(422, echoed)

    with pytest.raises(ApplicationError) as raw:
        await html.request_refund(refund_request())
    with pytest.raises(ApplicationError) as long:
        await chatty.request_refund(refund_request())

    assert "Camille" not in raw.value.message
    assert len(long.value.message) < 160


async def test_a_refund_answered_for_another_amount_is_a_conflict_never_the_customers() -> None:
    # Another request recorded under the key, or a service that changed it: never told to the
    # customer as their refund.
    asked = refund_request()
    other = {
        "refund_id": "RF-1",
        "requested_at": "2026-12-07T10:00:00Z",
        "amount": {"amount": "99.00", "currency": "USD"},
        "created": True,
    }
    orders = answering(201, other)

    with pytest.raises(ApplicationError) as failed:
        await orders.request_refund(asked)
    await orders.aclose()

    assert failed.value.type == FailureType.REFUND_CONFLICT and failed.value.non_retryable
    assert "99.00 USD" in failed.value.message
