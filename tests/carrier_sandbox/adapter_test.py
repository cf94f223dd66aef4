"""The product's adapter for the sandbox's carriers: it asks a carrier what it offers once, does
nothing it does not offer, believes the webhooks the sandbox pushes and refuses anything else."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from activities.carriers.protocol import CarrierRejected, CarrierUnsupported, WebhookRejected
from activities.carriers.sandbox import STATUSES, SandboxCarrier
from carrier_sandbox.carriers import CarrierConfig
from carrier_sandbox.server import SandboxServer
from carrier_sandbox.webhooks import WebhookPolicy, event_body, signed_headers
from domain.addresses import PostalAddress
from domain.carriers import (
    CarrierCapability,
    CounterCodeRequest,
    Parcel,
    PickupDatesRequest,
    TrackingStatus,
)
from tests.activities.carriers.webhook_receiver import Received, WebhookReceiver
from tests.carrier_sandbox.builders import create_label, customer_address, scan, seller_address
from tests.carrier_sandbox.conftest import FAST_TICK, SettableClock

SECRET = "whsec-adapter"


async def carrier_requests(client: httpx.AsyncClient) -> int:
    """How many requests reached the carriers' API so far."""
    count: int = (await client.get("/sandbox/faults/stats")).json()["requests"]
    return count


async def test_the_carrier_is_asked_what_it_offers_once(
    sandbox: SandboxServer, client: httpx.AsyncClient
) -> None:
    carrier = SandboxCarrier(sandbox.url, "sandbox", sandbox.api_key)
    try:
        first = await carrier.describe()
        again = await carrier.describe()
    finally:
        await carrier.aclose()

    assert first is again
    assert (first.code, first.name) == ("sandbox", "Sandbox Post")
    assert CarrierCapability.TRACKING_WEBHOOK in first.capabilities
    assert await carrier_requests(client) == 1


async def test_what_relay_express_does_not_offer_fails_without_a_request(
    sandbox: SandboxServer, client: httpx.AsyncClient
) -> None:
    relay = SandboxCarrier(sandbox.url, "relay", sandbox.api_key)
    home = PostalAddress.model_validate(customer_address())
    request = CounterCodeRequest(
        idempotency_key="return-O1001-1:counter-code:1",
        carrier="relay",
        reference="return-O1001-1",
        sender=home,
        recipient=PostalAddress.model_validate(seller_address()),
        parcel=Parcel(weight_grams=480, description="Smartphone"),
    )
    try:
        with pytest.raises(CarrierUnsupported) as refused:
            await relay.request_counter_code(request)
        with pytest.raises(CarrierUnsupported):
            await relay.mailbox_pickup_dates(PickupDatesRequest(carrier="relay", address=home))
    finally:
        await relay.aclose()

    assert refused.value.operation == "counter return codes"
    assert await carrier_requests(client) == 1  # what it offers, nothing more


async def test_a_carrier_the_sandbox_does_not_play_is_refused_for_good(
    sandbox: SandboxServer,
) -> None:
    pigeon = SandboxCarrier(sandbox.url, "pigeon", sandbox.api_key)
    try:
        with pytest.raises(CarrierRejected) as refused:
            await pigeon.describe()
    finally:
        await pigeon.aclose()

    assert refused.value.status == 404


def test_every_sandbox_status_has_its_normalised_twin() -> None:
    assert {raw: status.value for raw, status in STATUSES.items()} == {
        s.value: s.value for s in TrackingStatus
    }


@pytest.fixture
async def pushed(db_path: Path, clock: SettableClock) -> AsyncIterator[Received]:
    """A webhook the sandbox really sent, for an acceptance scan."""
    async with WebhookReceiver() as receiver:
        webhooks = WebhookPolicy(url=receiver.url(), secret=SECRET)
        async with (
            SandboxServer(
                db_path, clock=clock, rounds=False, webhooks=webhooks, tick_seconds=FAST_TICK
            ) as sandbox,
            httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key}) as http,
        ):
            label = await create_label(http, "return-O1001-1:label:1")
            await scan(http, label["tracking_number"])
            (webhook,) = await receiver.wait_for(1)
        yield webhook


@pytest.fixture
async def reader() -> AsyncIterator[SandboxCarrier]:
    """The adapter as the gateway holds it (reading a webhook makes no request)."""
    carrier = SandboxCarrier("http://127.0.0.1:9", "sandbox", "key", webhook_secret=SECRET)
    yield carrier
    await carrier.aclose()


def resigned(body: bytes, at: int, secret: str = SECRET) -> dict[str, str]:
    return {k.lower(): v for k, v in signed_headers(secret, body, at).items()}


def test_the_adapter_believes_what_the_sandbox_pushed(
    reader: SandboxCarrier, pushed: Received
) -> None:
    report = reader.read_webhook(pushed.headers, pushed.body)

    event = pushed.json()
    assert (report.carrier, report.tracking_number, report.reference) == (
        "sandbox",
        event["tracking_number"],
        "return-O1001-1",
    )
    (accepted,) = report.scans
    assert accepted.scan_id == event["scan"]["scan_id"]
    assert (accepted.status, accepted.carrier_code) == (TrackingStatus.ACCEPTED, "accepted")
    assert accepted.occurred_at.isoformat() == "2025-06-14T10:00:00+02:00"


@pytest.mark.parametrize(
    ("age", "believed"), [(299, True), (301, False), (-299, True), (-301, False)]
)
def test_a_signature_older_or_newer_than_five_minutes_is_refused(
    reader: SandboxCarrier, pushed: Received, age: int, believed: bool
) -> None:
    headers = resigned(pushed.body, int(time.time()) - age)

    if believed:
        assert reader.read_webhook(headers, pushed.body).scans
    else:
        with pytest.raises(WebhookRejected, match="stale or in the future"):
            reader.read_webhook(headers, pushed.body)


def test_a_forged_or_tampered_webhook_is_refused(reader: SandboxCarrier, pushed: Received) -> None:
    forged = resigned(pushed.body, int(time.time()), secret="guessed")
    tampered = pushed.body.replace(b'"accepted"', b'"delivered"')

    with pytest.raises(WebhookRejected, match="does not match"):
        reader.read_webhook(forged, pushed.body)
    with pytest.raises(WebhookRejected, match="does not match"):
        reader.read_webhook(pushed.headers, tampered)


@pytest.mark.parametrize("missing", ["x-sandbox-timestamp", "x-sandbox-signature"])
def test_a_webhook_without_its_signature_is_refused(
    reader: SandboxCarrier, pushed: Received, missing: str
) -> None:
    headers = {k: v for k, v in pushed.headers.items() if k != missing}

    with pytest.raises(WebhookRejected, match="missing"):
        reader.read_webhook(headers, pushed.body)


async def test_without_a_secret_no_webhook_is_believed(pushed: Received) -> None:
    carrier = SandboxCarrier("http://127.0.0.1:9", "sandbox", "key")
    try:
        with pytest.raises(WebhookRejected, match="no signing secret"):
            carrier.read_webhook(pushed.headers, pushed.body)
    finally:
        await carrier.aclose()


async def test_another_carriers_event_is_refused(pushed: Received) -> None:
    relay = SandboxCarrier("http://127.0.0.1:9", "relay", "key", webhook_secret=SECRET)
    try:
        with pytest.raises(WebhookRejected, match="another carrier"):
            relay.read_webhook(pushed.headers, pushed.body)
    finally:
        await relay.aclose()


def test_an_unreadable_body_is_refused_without_quoting_it(reader: SandboxCarrier) -> None:
    body = b'{"type": "tracking.updated", "carrier": "sandbox", "secret-ish": "Camille"'

    with pytest.raises(WebhookRejected) as refused:
        reader.read_webhook(resigned(body, int(time.time())), body)

    assert "Camille" not in str(refused.value)


def test_a_status_the_adapter_does_not_know_is_skipped(reader: SandboxCarrier) -> None:
    scan_event = {
        "scan_id": "SC-0000000000000001",
        "status": "teleported",
        "occurred_at": "2025-06-16T08:00:00+02:00",
        "location": None,
        "description": None,
        "tracking_number": "SB123456785FR",
        "reference": "return-O1001-1",
    }
    body = event_body("sandbox", scan_event)

    report = reader.read_webhook(resigned(body, int(time.time())), body)

    assert report.tracking_number == "SB123456785FR" and report.scans == []


async def test_a_carrier_without_webhooks_reads_none(tmp_path: Path, pushed: Received) -> None:
    quiet = CarrierConfig(
        code="sandbox",
        name="Quiet Post",
        capabilities=(CarrierCapability.ONLINE_RETURN_LABEL, CarrierCapability.TRACKING_POLLING),
        tracking_prefix="QP",
    )
    async with SandboxServer(tmp_path / "quiet.sqlite", carriers=[quiet], rounds=False) as server:
        carrier = SandboxCarrier(server.url, "sandbox", server.api_key, webhook_secret=SECRET)
        try:
            await carrier.describe()
            with pytest.raises(CarrierUnsupported):
                carrier.read_webhook(pushed.headers, pushed.body)
        finally:
            await carrier.aclose()


def test_the_signature_covers_the_timestamp_and_the_body_exactly() -> None:
    body = json.dumps({"id": "EV-1"}).encode()

    headers = signed_headers("s3cret", body, 1_700_000_000)

    # printf '1700000000.{"id": "EV-1"}' | openssl dgst -sha256 -hmac s3cret
    assert headers == {
        "Content-Type": "application/json",
        "X-Sandbox-Timestamp": "1700000000",
        "X-Sandbox-Signature": (
            "v1=cb8e5ca1f7f9f225656704974690044c450740eeadc6156850ea740d03154939"
        ),
    }
