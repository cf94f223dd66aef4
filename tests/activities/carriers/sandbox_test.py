"""The sandbox adapter's webhook door: a body signed with the carrier's secret is still read
within bounds."""

from __future__ import annotations

import time

import pytest

from activities.carriers.protocol import WebhookRejected
from activities.carriers.sandbox import SandboxCarrier
from carrier_sandbox.webhooks import signed_headers

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
