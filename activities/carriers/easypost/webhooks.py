"""Tracking webhooks: EasyPost's signed `tracker.*` Events, verified before a word is believed.

The signature, as docs.easypost.com/docs/webhooks and /guides/webhooks-guide describe it and as
every official client checks it (easypost-python `util.validate_webhook`, easypost-go
`ValidateWebhook`): header `X-Hmac-Signature: hmac-sha256-hex=<hex>`, an HMAC-SHA256 of the raw
body keyed with the webhook secret after Unicode NFKD normalisation, compared in constant time.

EasyPost's help centre ("Webhook HMAC Validation", support.easypost.com/hc/en-us/articles/
39826034964237) also names `x-timestamp` (RFC 2822), `x-path` and `x-hmac-signature-v2` with a
tolerance window. The v2 signature's exact input is not given in what we could read and no
official client checks it yet, so it is not checked here; an `x-timestamp`, when sent, must be
within `webhook_tolerance_seconds` of our clock. It is not covered by the v1 signature, so it
only stops a delivery replayed as captured; a replay changes nothing anyway, as scans are
deduplicated by their stable IDs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import unicodedata
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from activities.carriers.easypost.trackers import scans
from activities.carriers.protocol import WebhookIgnored, WebhookRejected
from domain.carriers import WebhookScans
from plumbing import json_input

SIGNATURE_HEADER = "x-hmac-signature"
TIMESTAMP_HEADER = "x-timestamp"
SIGNATURE_PREFIX = "hmac-sha256-hex="
TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})


def expected_signature(secret: str, body: bytes) -> str:
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def read_tracker_event(
    carrier: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str | None,
    tolerance: dt.timedelta,
    now: dt.datetime,
) -> WebhookScans:
    """The scans a verified `tracker.*` Event reports; WebhookRejected for anything else."""
    if secret is None:
        raise WebhookRejected(f"{carrier}: no webhook secret configured, nothing is believed")
    signature = headers.get(SIGNATURE_HEADER)
    if not signature:
        raise WebhookRejected(f"{carrier}: no {SIGNATURE_HEADER} header")
    if not hmac.compare_digest(
        expected_signature(secret, body).encode(), signature.strip().encode()
    ):
        raise WebhookRejected(f"{carrier}: the signature does not match the body")
    _check_freshness(carrier, headers.get(TIMESTAMP_HEADER), tolerance, now)
    try:
        event = json_input.loads(body)
    except ValueError:
        raise WebhookRejected(f"{carrier}: the body is not JSON") from None
    if not isinstance(event, dict) or event.get("object") != "Event":
        raise WebhookRejected(f"{carrier}: the body is not an EasyPost Event")
    description = str(event.get("description"))
    tracker = event.get("result")
    if description not in TRACKER_EVENTS or not isinstance(tracker, dict):
        # Only tracker events matter to returns; others are acknowledged and left alone.
        raise WebhookIgnored(f"{carrier}: not a tracker event ({description[:40]})")
    try:
        return WebhookScans(
            carrier=carrier,
            tracking_number=str(tracker["tracking_code"]),
            # A Tracker does not echo the shipment's `reference` (Tracker docs, Event docs).
            reference=None,
            scans=scans(carrier, tracker),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise WebhookRejected(f"{carrier}: unreadable tracker ({type(err).__name__})") from None


def _check_freshness(
    carrier: str, stamp: str | None, tolerance: dt.timedelta, now: dt.datetime
) -> None:
    if stamp is None:
        return
    try:
        sent = parsedate_to_datetime(stamp)
    except (TypeError, ValueError):
        raise WebhookRejected(f"{carrier}: unreadable {TIMESTAMP_HEADER}") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=dt.UTC)
    if abs(now - sent) > tolerance:
        raise WebhookRejected(f"{carrier}: stale webhook ({TIMESTAMP_HEADER} out of tolerance)")
