"""Colissimo mailbox pickups (and no counter codes)."""

from __future__ import annotations

import datetime as dt

import pytest

from activities.carriers.colissimo.pickups import picking_dates
from activities.carriers.colissimo.wire import SlsAnswer
from activities.carriers.protocol import CarrierRejected, CarrierUnsupported
from domain.carriers import CancellationOutcome, CounterCodeRequest, PickupRequest
from tests.activities.carriers.colissimo.builders import (
    BRUSSELS,
    PARCEL,
    Colissimo,
    dates_request,
    label_request,
    paris_today,
    sent,
)
from tests.factories import CUSTOMER_NAME, CUSTOMER_STREET, HOME, SELLER_ADDRESS


async def test_the_mailbox_pickup_days_are_the_ones_colissimo_offers(colissimo: Colissimo) -> None:
    days = await colissimo.carrier.mailbox_pickup_dates(dates_request())

    (call,) = colissimo.replay.calls("getListMailBoxPickingDates")
    assert sent(call)["sender"] == {
        "line2": CUSTOMER_STREET,
        "line1": HOME.line2,
        "zipCode": "69003",
        "city": "Lyon",
        "countryCode": "FR",
    }
    assert len(days) == 3 and days == sorted(days) and days[0] > paris_today()
    assert all(day.isoweekday() != 7 for day in days)


async def test_there_is_no_mailbox_pickup_outside_france(colissimo: Colissimo) -> None:
    days = await colissimo.carrier.mailbox_pickup_dates(dates_request(BRUSSELS))

    assert days == [] and colissimo.replay.requests == []


def test_picking_dates_are_read_as_epoch_milliseconds_or_iso_dates() -> None:
    answer = SlsAnswer(
        {
            "mailBoxPickingDateMaxHour": "08:00",
            "mailBoxPickingDates": ["2025-06-18T00:00:00.000+02:00", 1750111200000, "2025-06-19"],
        }
    )

    read = picking_dates(answer)

    assert read.dates == [dt.date(2025, 6, 17), dt.date(2025, 6, 18), dt.date(2025, 6, 19)]
    assert read.deposit_before == dt.time(8, 0)


def pickup_request(label_number: str, day: dt.date) -> PickupRequest:
    return PickupRequest(
        idempotency_key="return-ORD-1-1:pickup:1",
        carrier="colissimo",
        reference="return-ORD-1-1",
        label_id=label_number,
        tracking_number=label_number,
        pickup_date=day,
        address=HOME,
    )


async def test_a_mailbox_pickup_is_planned_once_with_the_deposit_hour(colissimo: Colissimo) -> None:
    carrier = colissimo.carrier
    label = await carrier.create_return_label(label_request())
    days = await carrier.mailbox_pickup_dates(dates_request())

    pickup = await carrier.book_mailbox_pickup(pickup_request(label.tracking_number, days[1]))
    again = await carrier.book_mailbox_pickup(pickup_request(label.tracking_number, days[1]))

    (plan,) = colissimo.replay.calls("planPickup")
    body = sent(plan)
    assert body["parcelNumber"] == label.tracking_number
    assert body["mailBoxPickingDate"] == days[1].isoformat()
    assert body["sender"]["lastName"] == CUSTOMER_NAME and body["sender"]["countryCode"] == "FR"
    assert again == pickup
    assert pickup.pickup_date == days[1] and pickup.deposit_before == dt.time(8, 0)
    assert pickup.confirmation == label.tracking_number


async def test_a_day_colissimo_does_not_offer_is_refused_before_planning(
    colissimo: Colissimo,
) -> None:
    label = await colissimo.carrier.create_return_label(label_request())

    with pytest.raises(CarrierRejected) as refused:
        await colissimo.carrier.book_mailbox_pickup(
            pickup_request(label.tracking_number, paris_today())
        )

    assert refused.value.field == "pickup_date"
    assert colissimo.replay.calls("planPickup") == []


async def test_a_planned_pickup_has_nothing_to_cancel(colissimo: Colissimo) -> None:
    carrier = colissimo.carrier
    label = await carrier.create_return_label(label_request())
    days = await carrier.mailbox_pickup_dates(dates_request())
    pickup = await carrier.book_mailbox_pickup(pickup_request(label.tracking_number, days[0]))
    calls = len(colissimo.replay.requests)

    cancelled = await carrier.cancel_pickup(pickup)

    assert cancelled.outcome is CancellationOutcome.NOTHING_TO_UNDO
    assert cancelled.object_id == pickup.pickup_id
    assert len(colissimo.replay.requests) == calls


async def test_counter_codes_are_not_offered(colissimo: Colissimo) -> None:
    with pytest.raises(CarrierUnsupported):
        await colissimo.carrier.request_counter_code(
            CounterCodeRequest(
                idempotency_key="return-ORD-1-1:counter-code:1",
                carrier="colissimo",
                reference="return-ORD-1-1",
                sender=HOME,
                recipient=SELLER_ADDRESS,
                parcel=PARCEL,
            )
        )

    assert colissimo.replay.requests == []
