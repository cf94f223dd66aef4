"""Carrier activities against the real carrier sandbox over loopback HTTP."""

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
from domain.calendar import local_date, next_pickup_date
from domain.carriers import (
    CounterCodeRequest,
    LabelRequest,
    Parcel,
    PickupRequest,
    TrackingStatus,
)
from tests.factories import HOME, SELLER_ADDRESS


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(tmp_path / "sandbox.sqlite") as server:
        yield server


@pytest.fixture
async def registry(sandbox: SandboxServer) -> AsyncIterator[CarrierRegistry]:
    carriers = CarrierRegistry([SandboxCarrier(sandbox.url, sandbox.api_key)])
    yield carriers
    await carriers.aclose()


@pytest.fixture
def carriers(registry: CarrierRegistry) -> CarrierActivities:
    return CarrierActivities(registry)


def label_request(key: str = "return-ORD-1-1:label:1") -> LabelRequest:
    return LabelRequest(
        idempotency_key=key,
        carrier="sandbox",
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


async def test_a_retried_label_request_makes_one_label(
    carriers: CarrierActivities, sandbox: SandboxServer
) -> None:
    env = ActivityEnvironment()
    first = await env.run(carriers.create_return_label, label_request())
    retried = await env.run(carriers.create_return_label, label_request())

    assert retried == first
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        keys = (await http.get("/sandbox/idempotency-keys")).json()["keys"]
    assert [(k["key"], k["requests"], k["created"]) for k in keys] == [
        ("return-ORD-1-1:label:1", 2, 1)
    ]


async def test_the_label_pdf_for_the_email_shows_tracking_and_both_addresses(
    carriers: CarrierActivities, registry: CarrierRegistry
) -> None:
    label = await ActivityEnvironment().run(carriers.create_return_label, label_request())

    pdf = await registry.label_pdf(label)

    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert label.tracking_number in text
    assert HOME.line1 in text and SELLER_ADDRESS.line1 in text


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


async def test_a_counter_code_parcel_is_tracked_once_the_counter_scans_it(
    carriers: CarrierActivities, registry: CarrierRegistry, sandbox: SandboxServer
) -> None:
    request = CounterCodeRequest(
        idempotency_key="return-ORD-2-1:counter-code:1",
        carrier="sandbox",
        reference="return-ORD-2-1",
        sender=HOME,
        recipient=SELLER_ADDRESS,
        parcel=Parcel(weight_grams=900, description="tablet"),
    )
    code = await ActivityEnvironment().run(carriers.request_counter_code, request)
    carrier = registry.get("sandbox")
    before = await carrier.track(code.tracking_number)

    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        scanned = await http.post(f"/sandbox/parcels/{code.tracking_number}/scans", json={})
        assert scanned.status_code == 201
    after = await carrier.track(code.tracking_number)

    assert len(code.code) == 8 and code.expires_at > dt.datetime.now(dt.UTC)
    assert before == []
    assert [s.status for s in after] == [TrackingStatus.ACCEPTED]
    assert after[0].tracking_number == code.tracking_number


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_unreachable_carrier_is_retried() -> None:
    registry = CarrierRegistry([SandboxCarrier(f"http://127.0.0.1:{closed_port()}", "k")])
    try:
        with pytest.raises(ApplicationError) as failed:
            await ActivityEnvironment().run(
                CarrierActivities(registry).create_return_label, label_request()
            )
    finally:
        await registry.aclose()

    assert failed.value.type == "CarrierUnavailable"
    assert not failed.value.non_retryable


async def test_refused_credentials_are_final_and_logged_loudly(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    registry = CarrierRegistry([SandboxCarrier(sandbox.url, "not-the-key")])
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
    assert "configured: sandbox" in refused.value.message


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
