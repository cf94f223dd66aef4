"""EasyPost tracker webhooks: signed, checked, believed."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from email.utils import format_datetime

import pytest
from pydantic import SecretStr

from activities.carriers.easypost import EasyPostCarrier
from activities.carriers.protocol import WebhookIgnored, WebhookRejected
from tests.activities.carriers.easypost.builders import FRIDAY_EVENING, MOVING
from tests.activities.carriers.replay.easypost import WEBHOOK_SECRET, EasyPostReplay


def signed(replay: EasyPostReplay, secret: str = WEBHOOK_SECRET, **headers: str) -> Webhook:
    """A tracker.updated Event signed by EasyPost as of the carrier's clock, headers changed."""
    sent, body = replay.signed_webhook("9400100000000000000042", secret, sent_at=FRIDAY_EVENING)
    return {**sent, **headers}, body


Webhook = tuple[dict[str, str], bytes]
MINUTES_AGO = {n: format_datetime(FRIDAY_EVENING - dt.timedelta(minutes=n)) for n in (-6, 4, 6)}


def test_a_signed_tracker_event_is_believed(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    report = carrier.read_webhook(*signed(replay))
    headers, body = signed(replay, **{"x-timestamp": MINUTES_AGO[4]})
    undated = {name: value for name, value in headers.items() if name != "x-timestamp"}

    assert report.tracking_number == "9400100000000000000042" and report.reference is None
    assert [s.status for s in report.scans] == MOVING
    assert carrier.read_webhook(headers, body).scans, "4 minutes old: within the tolerance"
    assert carrier.read_webhook(undated, body).scans, "no official client checks a timestamp"


@pytest.mark.parametrize(
    ("forgery", "headers", "secret"),
    [
        ("tampered body", {}, WEBHOOK_SECRET),
        ("wrong secret", {}, "another secret"),
        ("no signature", {"x-hmac-signature": ""}, WEBHOOK_SECRET),
        ("stale", {"x-timestamp": MINUTES_AGO[6]}, WEBHOOK_SECRET),
        ("from the future", {"x-timestamp": MINUTES_AGO[-6]}, WEBHOOK_SECRET),
        ("unreadable time", {"x-timestamp": "yesterday"}, WEBHOOK_SECRET),
    ],
)
def test_a_webhook_that_must_not_be_believed_is_rejected(
    carrier: EasyPostCarrier,
    replay: EasyPostReplay,
    forgery: str,
    headers: dict[str, str],
    secret: str,
) -> None:
    sent, body = signed(replay, secret, **headers)
    if forgery == "tampered body":
        body = body.replace(b"in_transit", b"delivered", 1)

    with pytest.raises(WebhookRejected):
        carrier.read_webhook(sent, body)


@pytest.mark.parametrize(
    "body",
    [b"[" * 5_000 + b"]" * 5_000, b'{"object": "Event", "x": NaN}', b'{"object": "\\ud800"}'],
    ids=["nested", "nan", "lone-surrogate"],
)
def test_a_signed_body_no_parser_should_take_is_rejected_not_a_crash(
    carrier: EasyPostCarrier, body: bytes
) -> None:
    from activities.carriers.easypost.webhooks import expected_signature

    headers = {"x-hmac-signature": expected_signature(WEBHOOK_SECRET, body)}

    with pytest.raises(WebhookRejected, match="the body is not JSON"):
        carrier.read_webhook(headers, body)


COMPOSED = "s\u00e9cret"
"""é as one code point: NFKD makes it e and a combining accent before EasyPost keys the HMAC."""


@pytest.mark.parametrize("settings", [{"webhook_secret": SecretStr(COMPOSED)}])
def test_the_secret_is_normalised_as_easypost_normalises_it(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    headers, body = signed(replay, COMPOSED)
    raw = hmac.new(COMPOSED.encode(), body, hashlib.sha256).hexdigest()

    assert carrier.read_webhook(headers, body).scans
    with pytest.raises(WebhookRejected):
        carrier.read_webhook({**headers, "x-hmac-signature": f"hmac-sha256-hex={raw}"}, body)


def test_other_signed_events_are_acknowledged_and_ignored(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    batch = json.dumps({"object": "Event", "description": "batch.updated", "result": {}}).encode()
    headers = {"x-hmac-signature": replay.sign(batch, WEBHOOK_SECRET)}

    with pytest.raises(WebhookIgnored, match="not a tracker event"):
        carrier.read_webhook(headers, batch)


@pytest.mark.parametrize("settings", [{"webhook_secret": None}])
def test_without_a_secret_no_webhook_is_believed(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    with pytest.raises(WebhookRejected, match="no webhook secret"):
        carrier.read_webhook(*signed(replay))
