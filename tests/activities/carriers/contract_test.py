"""One contract for every carrier: what each declares, it does; what it does not, it refuses.

Runs over the embedded sandbox (real HTTP on loopback) and over replays of Colissimo's and
EasyPost's documented requests and responses, which cannot be reached from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from activities.carriers.protocol import (
    CarrierAuthFailed,
    CarrierUnavailable,
    CarrierUnsupported,
    WebhookRejected,
)
from domain.carriers import (
    CancellationOutcome,
    CarrierCapability,
    CounterCodeRequest,
    LabelRequest,
    PickupDatesRequest,
    PickupRequest,
    PostOfficeQuery,
    TrackingStatus,
)
from tests.activities.carriers.replay.colissimo import colissimo_subject
from tests.activities.carriers.replay.easypost import easypost_subject
from tests.activities.carriers.sandbox_subject import sandbox_subject
from tests.activities.carriers.subject import ContractSubject

Cap = CarrierCapability
SUBJECTS: dict[str, Callable[[Path], AbstractAsyncContextManager[ContractSubject]]] = {
    "sandbox": sandbox_subject,
    "colissimo": colissimo_subject,
    "easypost": easypost_subject,
}


@pytest.fixture(params=sorted(SUBJECTS))
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ContractSubject]:
    async with SUBJECTS[request.param](tmp_path) as subject:
        yield subject


def needs(subject: ContractSubject, capability: CarrierCapability) -> None:
    if capability not in subject.capabilities:
        pytest.skip(f"{subject.carrier.code} does not declare {capability}")


def label_request(subject: ContractSubject, key: str = "return-C1-1:label:1") -> LabelRequest:
    return LabelRequest(
        idempotency_key=key,
        carrier=subject.carrier.code,
        reference="return-C1-1",
        sender=subject.customer,
        recipient=subject.seller,
        parcel=subject.parcel,
    )


async def test_the_carrier_declares_what_it_can_do(subject: ContractSubject) -> None:
    offer = await subject.carrier.describe()

    assert offer.code == subject.carrier.code
    assert offer.capabilities == subject.capabilities
    assert offer.methods(), "a carrier offers the customer at least one way to send the parcel"


async def test_what_the_carrier_does_not_offer_is_refused_without_a_call(
    subject: ContractSubject,
) -> None:
    carrier, code = subject.carrier, subject.carrier.code
    calls: dict[CarrierCapability, Callable[[], Awaitable[object]]] = {
        Cap.COUNTER_RETURN_CODE: lambda: carrier.request_counter_code(
            CounterCodeRequest(
                idempotency_key="return-C1-1:counter-code:1",
                carrier=code,
                reference="return-C1-1",
                sender=subject.customer,
                recipient=subject.seller,
                parcel=subject.parcel,
            )
        ),
        Cap.MAILBOX_PICKUP: lambda: carrier.mailbox_pickup_dates(
            PickupDatesRequest(carrier=code, address=subject.customer)
        ),
        Cap.POST_OFFICE_LOCATOR: lambda: carrier.find_post_offices(
            PostOfficeQuery(carrier=code, near=subject.customer)
        ),
        Cap.TRACKING_POLLING: lambda: carrier.track("XX000000000XX"),
    }
    for capability, call in calls.items():
        if capability not in subject.capabilities:
            with pytest.raises(CarrierUnsupported, match=f"^{code}: {code} does not offer "):
                await call()
    if Cap.TRACKING_WEBHOOK not in subject.capabilities:
        # Refused as not offered, or as nothing in the carrier's name to believe.
        with pytest.raises((CarrierUnsupported, WebhookRejected)) as refused:
            carrier.read_webhook({}, b"{}")
        assert code in str(refused.value).lower() and "webhook" in str(refused.value)


async def test_one_key_makes_one_label_and_its_pdf(subject: ContractSubject) -> None:
    needs(subject, Cap.ONLINE_RETURN_LABEL)
    first = await subject.carrier.create_return_label(label_request(subject))
    again = await subject.carrier.create_return_label(label_request(subject))
    pdf = await subject.carrier.fetch_label_pdf(first)

    assert again == first
    assert first.carrier == subject.carrier.code and first.tracking_number
    assert pdf.startswith(b"%PDF")


async def test_a_label_given_back_stays_given_back(subject: ContractSubject) -> None:
    needs(subject, Cap.ONLINE_RETURN_LABEL)
    label = await subject.carrier.create_return_label(label_request(subject))
    voided = await subject.carrier.void_label(label)
    again = await subject.carrier.void_label(label)

    assert voided.object_id == label.label_id
    assert voided.outcome in (CancellationOutcome.DONE, CancellationOutcome.NOTHING_TO_UNDO)
    assert again.outcome in (CancellationOutcome.ALREADY_DONE, CancellationOutcome.NOTHING_TO_UNDO)


async def test_a_mailbox_pickup_is_booked_on_an_offered_day_and_can_be_called_off(
    subject: ContractSubject,
) -> None:
    needs(subject, Cap.MAILBOX_PICKUP)
    carrier, code = subject.carrier, subject.carrier.code
    label = await carrier.create_return_label(label_request(subject))
    days = await carrier.mailbox_pickup_dates(
        PickupDatesRequest(carrier=code, address=subject.customer)
    )
    request = PickupRequest(
        idempotency_key="return-C1-1:pickup:1",
        carrier=code,
        reference="return-C1-1",
        label_id=label.label_id,
        tracking_number=label.tracking_number,
        pickup_date=days[0],
        address=subject.customer,
    )
    pickup = await carrier.book_mailbox_pickup(request)
    again = await carrier.book_mailbox_pickup(request)
    cancelled = await carrier.cancel_pickup(pickup)
    cancelled_again = await carrier.cancel_pickup(pickup)

    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    assert days == sorted(days) and days[0] > yesterday
    assert all(day.isoweekday() != 7 for day in days), "no collection on Sundays"
    assert again == pickup and pickup.pickup_date == days[0]
    assert cancelled.outcome in (CancellationOutcome.DONE, CancellationOutcome.NOTHING_TO_UNDO)
    assert cancelled_again.outcome in (
        CancellationOutcome.ALREADY_DONE,
        CancellationOutcome.NOTHING_TO_UNDO,
    )


async def test_a_counter_code_is_issued_once_per_key(subject: ContractSubject) -> None:
    needs(subject, Cap.COUNTER_RETURN_CODE)
    request = CounterCodeRequest(
        idempotency_key="return-C1-1:counter-code:1",
        carrier=subject.carrier.code,
        reference="return-C1-1",
        sender=subject.customer,
        recipient=subject.seller,
        parcel=subject.parcel,
    )
    first = await subject.carrier.request_counter_code(request)
    again = await subject.carrier.request_counter_code(request)

    assert again == first and first.code and first.tracking_number


async def test_the_nearest_counters_come_nearest_first(subject: ContractSubject) -> None:
    needs(subject, Cap.POST_OFFICE_LOCATOR)
    query = PostOfficeQuery(carrier=subject.carrier.code, near=subject.customer, limit=3)
    offices = await subject.carrier.find_post_offices(query)

    distances = [o.distance_m for o in offices]
    assert 1 <= len(offices) <= 3
    assert all(d is not None for d in distances) and distances == sorted(distances)  # type: ignore[type-var]
    assert all(o.carrier == subject.carrier.code and o.opening_hours for o in offices)


async def test_tracking_shows_the_parcel_accepted_once_scanned(subject: ContractSubject) -> None:
    needs(subject, Cap.TRACKING_POLLING)
    label = await subject.carrier.create_return_label(label_request(subject))
    before = await subject.carrier.track(label.tracking_number)
    await subject.accept_parcel(label.tracking_number)
    after = await subject.carrier.track(label.tracking_number)
    again = await subject.carrier.track(label.tracking_number)

    assert TrackingStatus.ACCEPTED not in [s.status for s in before]
    assert TrackingStatus.ACCEPTED in [s.status for s in after]
    assert all(s.tracking_number == label.tracking_number for s in after)
    assert [s.scan_id for s in again] == [s.scan_id for s in after], "scan IDs are stable"
    assert len({s.scan_id for s in after}) == len(after)


async def test_a_signed_webhook_is_believed_and_a_forged_one_is_not(
    subject: ContractSubject,
) -> None:
    needs(subject, Cap.TRACKING_WEBHOOK)
    assert subject.signed_webhook is not None
    label = await subject.carrier.create_return_label(label_request(subject))
    headers, body = subject.signed_webhook(label.tracking_number)
    report = subject.carrier.read_webhook(headers, body)

    assert report.tracking_number == label.tracking_number
    assert TrackingStatus.ACCEPTED in [s.status for s in report.scans]
    with pytest.raises(WebhookRejected):
        subject.carrier.read_webhook(headers, body.replace(b"accepted", b"delivered", 1) + b" ")
    with pytest.raises(WebhookRejected):
        subject.carrier.read_webhook({}, body)


async def test_refused_credentials_are_told_apart_from_an_outage(
    subject: ContractSubject,
) -> None:
    needs(subject, Cap.ONLINE_RETURN_LABEL)
    assert subject.fail_next is not None and subject.break_credentials is not None
    await subject.fail_next(503, None)
    with pytest.raises(CarrierUnavailable):
        await subject.carrier.create_return_label(label_request(subject, "return-C1-1:label:2"))
    await subject.fail_next(429, 7.0)
    with pytest.raises(CarrierUnavailable) as limited:
        await subject.carrier.create_return_label(label_request(subject, "return-C1-1:label:3"))
    await subject.break_credentials()
    with pytest.raises(CarrierAuthFailed):
        await subject.carrier.create_return_label(label_request(subject, "return-C1-1:label:4"))

    assert limited.value.retry_after == 7.0
