"""Carrier activities and the sandbox adapter, against the real carrier sandbox over HTTP."""

from __future__ import annotations

import datetime as dt
import io
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.carriers.activities import CarrierActivities
from activities.carriers.http_errors import raise_for_carrier
from activities.carriers.protocol import CarrierRejected, CarrierUnavailable
from activities.carriers.registry import CarrierRegistry
from activities.carriers.sandbox import SandboxCarrier
from carrier_sandbox.server import SandboxServer
from carrier_sandbox.webhooks import WebhookPolicy
from domain.calendar import local_date, next_pickup_date
from domain.carriers import (
    CancellationOutcome,
    CounterCodeRequest,
    LabelRequest,
    Parcel,
    PickupDatesRequest,
    PickupRequest,
    PostOfficeQuery,
    TrackingQuery,
    TrackingStatus,
)
from tests.factories import HOME, SELLER_ADDRESS

SECRET = "adapter-test-secret"


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SandboxServer]:
    webhooks = WebhookPolicy(url=None, secret=SECRET)
    async with SandboxServer(
        tmp_path / "sandbox.sqlite", rounds=False, webhooks=webhooks
    ) as server:
        yield server


def adapter(sandbox: SandboxServer, code: str = "sandbox") -> SandboxCarrier:
    return SandboxCarrier(sandbox.url, code, sandbox.api_key, webhook_secret=SECRET)


@pytest.fixture
async def registry(sandbox: SandboxServer) -> AsyncIterator[CarrierRegistry]:
    carriers = CarrierRegistry([adapter(sandbox), adapter(sandbox, "relay")])
    yield carriers
    await carriers.aclose()


@pytest.fixture
def carriers(registry: CarrierRegistry) -> CarrierActivities:
    return CarrierActivities(registry)


@pytest.fixture
async def bench(sandbox: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox's test bench: scans on command, faults, statistics."""
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        yield http


def label_request(key: str = "return-ORD-1-1:label:1", carrier: str = "sandbox") -> LabelRequest:
    return LabelRequest(
        idempotency_key=key,
        carrier=carrier,
        reference="return-ORD-1-1",
        sender=HOME,
        recipient=SELLER_ADDRESS,
        parcel=Parcel(weight_grams=450, description="smartphone"),
    )


def pickup_request(label_id: str, tracking: str, day: dt.date) -> PickupRequest:
    return PickupRequest(
        idempotency_key=f"return-ORD-1-1:pickup:{day}",
        carrier="sandbox",
        reference="return-ORD-1-1",
        label_id=label_id,
        tracking_number=tracking,
        pickup_date=day,
        address=HOME,
    )


async def test_the_offers_are_what_each_carrier_declares(carriers: CarrierActivities) -> None:
    offers = await ActivityEnvironment().run(carriers.list_carrier_offers)

    assert [(o.code, o.name) for o in offers] == [
        ("sandbox", "Sandbox Post"),
        ("relay", "Relay Express"),
    ]
    assert [m.value for m in offers[1].methods()] == ["post_office_drop_off"]


async def test_a_retried_label_request_makes_one_label(
    carriers: CarrierActivities, bench: httpx.AsyncClient
) -> None:
    env = ActivityEnvironment()
    first = await env.run(carriers.create_return_label, label_request())
    retried = await env.run(carriers.create_return_label, label_request())

    assert retried == first
    keys = (await bench.get("/sandbox/idempotency-keys")).json()["keys"]
    assert [(k["key"], k["requests"], k["created"]) for k in keys] == [
        ("return-ORD-1-1:label:1", 2, 1)
    ]


async def test_a_label_whose_answer_was_lost_is_given_back_on_retry(
    carriers: CarrierActivities, bench: httpx.AsyncClient
) -> None:
    env = ActivityEnvironment()
    await env.run(carriers.list_carrier_offers)  # the offer is known before the fault
    lost = {"endpoint": "POST /carriers/*/v1/labels", "error_rate": 1.0, "error_when": "after"}
    await bench.put("/sandbox/faults", json={"rules": [{**lost, "count": 1}]})

    with pytest.raises(ApplicationError) as failed:
        await env.run(carriers.create_return_label, label_request())
    retried = await env.run(carriers.create_return_label, label_request())

    assert failed.value.type == "CarrierUnavailable" and not failed.value.non_retryable
    keys = (await bench.get("/sandbox/idempotency-keys")).json()["keys"]
    assert [(k["requests"], k["created"]) for k in keys] == [(2, 1)]
    assert retried.tracking_number.startswith("SB")


async def test_the_label_pdf_for_the_email_shows_tracking_and_both_addresses(
    carriers: CarrierActivities, registry: CarrierRegistry
) -> None:
    label = await ActivityEnvironment().run(carriers.create_return_label, label_request())

    pdf = await registry.label_pdf(label)

    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert label.tracking_number in text
    assert HOME.line1 in text and SELLER_ADDRESS.line1 in text


async def test_a_relay_express_label_carries_its_own_prefix(carriers: CarrierActivities) -> None:
    label = await ActivityEnvironment().run(
        carriers.create_return_label, label_request(carrier="relay")
    )

    assert label.carrier == "relay" and label.tracking_number.startswith("RX")


async def test_the_pickup_days_offered_are_the_ones_the_workflow_accepts(
    carriers: CarrierActivities,
) -> None:
    days = await ActivityEnvironment().run(
        carriers.mailbox_pickup_dates, PickupDatesRequest(carrier="sandbox", address=HOME)
    )

    assert len(days) == 10
    assert days[0] == next_pickup_date(dt.datetime.now(dt.UTC))
    assert all(d.isoweekday() != 7 for d in days)


async def test_a_mailbox_pickup_is_booked_for_the_label(carriers: CarrierActivities) -> None:
    env = ActivityEnvironment()
    label = await env.run(carriers.create_return_label, label_request())
    day = next_pickup_date(dt.datetime.now(dt.UTC))

    pickup = await env.run(
        carriers.book_mailbox_pickup, pickup_request(label.label_id, label.tracking_number, day)
    )

    assert pickup.pickup_date == day
    assert pickup.deposit_before == dt.time(8, 0)
    assert pickup.carrier == "sandbox" and pickup.confirmation


async def test_a_cancelled_return_calls_off_the_pickup_and_voids_the_label_once(
    carriers: CarrierActivities,
) -> None:
    env = ActivityEnvironment()
    label = await env.run(carriers.create_return_label, label_request())
    day = next_pickup_date(dt.datetime.now(dt.UTC))
    pickup = await env.run(
        carriers.book_mailbox_pickup, pickup_request(label.label_id, label.tracking_number, day)
    )

    cancelled = await env.run(carriers.cancel_pickup, pickup)
    cancelled_again = await env.run(carriers.cancel_pickup, pickup)
    voided = await env.run(carriers.void_label, label)
    voided_again = await env.run(carriers.void_label, label)

    assert (cancelled.outcome, cancelled_again.outcome) == (
        CancellationOutcome.DONE,
        CancellationOutcome.ALREADY_DONE,
    )
    assert (voided.outcome, voided_again.outcome) == (
        CancellationOutcome.DONE,
        CancellationOutcome.ALREADY_DONE,
    )
    assert voided.object_id == label.label_id and voided.carrier == "sandbox"
    assert voided.detail is not None and voided.detail.startswith("voided at ")


async def test_a_used_label_cannot_be_voided_and_says_why(
    carriers: CarrierActivities, bench: httpx.AsyncClient
) -> None:
    env = ActivityEnvironment()
    label = await env.run(carriers.create_return_label, label_request())
    await bench.post(f"/sandbox/parcels/{label.tracking_number}/scans", json={})

    with pytest.raises(ApplicationError) as refused:
        await env.run(carriers.void_label, label)

    assert refused.value.type == "CarrierRejected" and refused.value.non_retryable
    assert "used" in refused.value.message


async def test_a_sunday_pickup_is_a_final_refusal_naming_the_field(
    carriers: CarrierActivities,
) -> None:
    env = ActivityEnvironment()
    label = await env.run(carriers.create_return_label, label_request())
    today = local_date(dt.datetime.now(dt.UTC))
    sunday = today + dt.timedelta(days=(6 - today.weekday()) or 7)

    with pytest.raises(ApplicationError) as refused:
        await env.run(
            carriers.book_mailbox_pickup,
            pickup_request(label.label_id, label.tracking_number, sunday),
        )

    assert refused.value.type == "CarrierRejected"
    assert refused.value.non_retryable
    assert refused.value.details == ({"field": "pickup_date"},)
    assert "Sunday" in refused.value.message


async def test_the_nearest_counters_come_back_as_post_offices(
    carriers: CarrierActivities,
) -> None:
    env = ActivityEnvironment()
    offices = await env.run(
        carriers.find_post_offices, PostOfficeQuery(carrier="sandbox", near=HOME, limit=2)
    )
    relay_points = await env.run(
        carriers.find_post_offices, PostOfficeQuery(carrier="relay", near=HOME)
    )

    assert len(offices) == 2 and len(relay_points) == 3
    nearest = offices[0]
    assert (nearest.carrier, nearest.kind, nearest.city) == ("sandbox", "post_office", "Lyon")
    assert nearest.distance_m is not None and nearest.distance_m < 5_000
    assert [h.weekday for h in nearest.opening_hours] == [1, 2, 3, 4, 5, 6, 7]
    assert {o.kind for o in relay_points} == {"relay_point"}


async def test_a_counter_code_parcel_is_tracked_once_the_counter_scans_it(
    carriers: CarrierActivities, bench: httpx.AsyncClient
) -> None:
    request = CounterCodeRequest(
        idempotency_key="return-ORD-2-1:counter-code:1",
        carrier="sandbox",
        reference="return-ORD-2-1",
        sender=HOME,
        recipient=SELLER_ADDRESS,
        parcel=Parcel(weight_grams=900, description="tablet"),
    )
    env = ActivityEnvironment()
    code = await env.run(carriers.request_counter_code, request)
    query = TrackingQuery(carrier="sandbox", tracking_number=code.tracking_number)
    before = await env.run(carriers.track_parcel, query)

    scanned = await bench.post(f"/sandbox/parcels/{code.tracking_number}/scans", json={})
    assert scanned.status_code == 201
    after = await env.run(carriers.track_parcel, query)

    assert len(code.code) == 8 and code.expires_at > dt.datetime.now(dt.UTC)
    assert before == []
    assert [(s.status, s.carrier_code) for s in after] == [(TrackingStatus.ACCEPTED, "accepted")]
    assert after[0].tracking_number == code.tracking_number
    assert after[0].scan_id == scanned.json()["scan_id"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_unreachable_carrier_is_retried() -> None:
    carrier = SandboxCarrier(f"http://127.0.0.1:{closed_port()}", "sandbox", "k")
    registry = CarrierRegistry([carrier])
    try:
        with pytest.raises(ApplicationError) as failed:
            await ActivityEnvironment().run(
                CarrierActivities(registry).create_return_label, label_request()
            )
    finally:
        await registry.aclose()

    assert failed.value.type == "CarrierUnavailable"
    assert not failed.value.non_retryable


async def test_a_rate_limited_call_is_retried_after_the_carriers_delay(
    carriers: CarrierActivities, bench: httpx.AsyncClient
) -> None:
    env = ActivityEnvironment()
    await env.run(carriers.list_carrier_offers)
    limited = {"rate_limit_rate": 1.0, "retry_after_seconds": 3, "count": 1}
    await bench.put("/sandbox/faults", json={"rules": [limited]})

    with pytest.raises(ApplicationError) as failed:
        await env.run(carriers.create_return_label, label_request())

    assert failed.value.type == "CarrierUnavailable"
    assert failed.value.next_retry_delay == dt.timedelta(seconds=3)


async def test_refused_credentials_are_final_and_logged_loudly(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    registry = CarrierRegistry([SandboxCarrier(sandbox.url, "sandbox", "not-the-key")])
    try:
        with pytest.raises(ApplicationError) as failed, caplog.at_level(logging.ERROR):
            await ActivityEnvironment().run(
                CarrierActivities(registry).create_return_label, label_request()
            )
    finally:
        await registry.aclose()

    assert failed.value.type == "CarrierAuthFailed" and failed.value.non_retryable
    assert any("credentials" in r.getMessage() for r in caplog.records)


async def test_an_unknown_carrier_is_refused(carriers: CarrierActivities) -> None:
    request = label_request().model_copy(update={"carrier": "pigeon-post"})
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(carriers.create_return_label, request)
    assert refused.value.type == "CarrierRejected"
    assert "configured: relay, sandbox" in refused.value.message


@pytest.mark.parametrize(
    ("status", "headers", "error", "retry_after"),
    [
        (503, {}, CarrierUnavailable, None),
        (429, {"Retry-After": "7"}, CarrierUnavailable, 7.0),
        (429, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, CarrierUnavailable, None),
        (422, {}, CarrierRejected, None),
    ],
)
def test_carrier_answers_are_classified(
    status: int, headers: dict[str, str], error: type[Exception], retry_after: float | None
) -> None:
    response = httpx.Response(
        status,
        headers=headers,
        json={"error": {"code": "x", "message": "the carrier's words", "field": "sender.city"}},
    )
    with pytest.raises(error) as raised:
        raise_for_carrier("sandbox", response)
    if isinstance(raised.value, CarrierUnavailable):
        assert raised.value.retry_after == retry_after
    if isinstance(raised.value, CarrierRejected):
        assert raised.value.field == "sender.city"
        assert raised.value.message == "the carrier's words"
