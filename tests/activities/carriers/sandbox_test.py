"""The sandbox adapter's webhook door: a body signed with the carrier's secret is still read
within bounds."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest

from activities.carriers.protocol import CarrierUnavailable, WebhookRejected
from activities.carriers.registry import CarrierRegistry
from activities.carriers.sandbox import SandboxCarrier
from carrier_sandbox.webhooks import signed_headers
from domain.carriers import Label

SECRET = "sandbox-webhook-secret-for-tests"


@pytest.mark.parametrize(
    "body",
    [b"[" * 5_000 + b"]" * 5_000, b'{"type": "tracking.updated", "n": NaN}', b'["\\ud800"]'],
    ids=["nested", "nan", "lone-surrogate"],
)
async def test_a_signed_body_no_parser_should_take_is_rejected_not_a_crash(body: bytes) -> None:
    carrier = SandboxCarrier("http://127.0.0.1:9", "sandbox", "key", webhook_secret=SECRET)
    headers = {k.lower(): v for k, v in signed_headers(SECRET, body, int(time.time())).items()}
    try:
        with pytest.raises(WebhookRejected, match="unreadable tracking event"):
            carrier.read_webhook(headers, body)
    finally:
        await carrier.aclose()


async def test_a_label_file_that_is_no_pdf_is_never_handed_on() -> None:
    """A page from something in between (a proxy's 502, cached) answered 200 in place of the
    label: it is an outage to try again, not a file to attach to the customer's email."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v1/carrier"):
            return httpx.Response(
                200, json={"name": "Sandbox", "capabilities": ["online_return_label"]}
            )
        return httpx.Response(200, text="<html><body>502 Bad Gateway (cached)</body></html>")

    carrier = SandboxCarrier(
        "http://sandbox.invalid", "sandbox", "key", transport=httpx.MockTransport(answer)
    )
    label = Label(
        carrier="sandbox",
        label_id="LBL-1",
        tracking_number="SB000000001",
        created_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )

    registry = CarrierRegistry([carrier])
    try:
        with pytest.raises(CarrierUnavailable, match="the label file is not a PDF"):
            await registry.label_pdf(label)
    finally:
        await registry.aclose()
