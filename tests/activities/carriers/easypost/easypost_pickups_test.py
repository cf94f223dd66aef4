"""EasyPost mailbox pickups (and no counter codes or post offices)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr, ValidationError

from activities.carriers.easypost import EasyPostCarrier, EasyPostConfig
from activities.carriers.protocol import CarrierUnavailable, CarrierUnsupported
from domain.calendar import deposit_deadline
from domain.carriers import CounterCodeRequest, PickupDatesRequest, PostOfficeQuery
from tests.activities.carriers.easypost.builders import NEW_YORK, label_request, pickup_request
from tests.activities.carriers.replay.easypost import API_KEY, US_CUSTOMER, EasyPostReplay


async def test_pickup_days_are_the_next_weekdays_where_the_customer_lives(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    days = await carrier.mailbox_pickup_dates(
        PickupDatesRequest(carrier="easypost", address=US_CUSTOMER)
    )

    # Friday 23:30 in New York is already Saturday in UTC: days count from New York's Friday.
    assert days == [dt.date(2026, 2, d) for d in (16, 17, 18, 19, 20)]
    assert replay.requests == [], "EasyPost has no endpoint for pickup days"


async def test_a_mailbox_pickup_is_booked_once_and_called_off_once(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    label = await carrier.create_return_label(label_request())
    replay.lose_answer("pickup.buy", 500)
    with pytest.raises(CarrierUnavailable):
        await carrier.book_mailbox_pickup(pickup_request(label))
    pickup = await carrier.book_mailbox_pickup(pickup_request(label))
    again = await carrier.book_mailbox_pickup(pickup_request(label))

    [created] = replay.bodies("pickup.create")
    body = created["pickup"]
    assert body["shipment"] == {"id": label.label_id} and body["reference"] == "return-ORD1-1"
    assert body["address"]["street1"] == US_CUSTOMER.line1 and body["is_account_address"] is False
    assert "mailbox" in body["instructions"].lower()
    opens = dt.datetime.fromisoformat(body["min_datetime"])
    assert opens == dt.datetime(2026, 2, 16, 8, 0, tzinfo=NEW_YORK)
    assert dt.datetime.fromisoformat(body["max_datetime"]) > opens
    assert replay.bodies("pickup.buy") == [{"carrier": "USPS", "service": "NextDay"}]
    assert again == pickup and pickup.pickup_id == replay.pickups[pickup.pickup_id]["id"]
    assert pickup.confirmation == replay.pickups[pickup.pickup_id]["confirmation"]
    assert (pickup.pickup_date, pickup.deposit_before) == (dt.date(2026, 2, 16), dt.time(8, 0))
    assert pickup.deposit_by == opens and deposit_deadline(pickup, "US") == opens, (
        "the return counts from the window it booked, not from 08:00 in Paris"
    )
    cancelled, repeated = await carrier.cancel_pickup(pickup), await carrier.cancel_pickup(pickup)
    assert (cancelled.outcome, repeated.outcome) == ("done", "already_done")
    assert replay.calls("pickup.cancel") == 1


async def test_counter_codes_and_post_offices_are_refused_without_a_request(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    counter = CounterCodeRequest(**label_request().model_dump())
    with pytest.raises(CarrierUnsupported):
        await carrier.request_counter_code(counter)
    with pytest.raises(CarrierUnsupported):
        await carrier.find_post_offices(PostOfficeQuery(carrier="easypost", near=US_CUSTOMER))
    assert replay.requests == []


def test_an_unknown_pickup_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError):
        EasyPostConfig(api_key=SecretStr(API_KEY), pickup_timezone="America/Nowhere")


async def test_a_customer_in_europe_has_the_pickup_window_of_their_own_country(
    carrier: EasyPostCarrier,
) -> None:
    berlin = US_CUSTOMER.model_copy(
        update={"line2": None, "postal_code": "10115", "city": "Berlin", "country_code": "DE"}
    )
    label = await carrier.create_return_label(label_request())
    pickup = await carrier.book_mailbox_pickup(
        pickup_request(label).model_copy(update={"address": berlin})
    )

    # PICKUP_TIMEZONE (New York) is for countries with no single zone known: 08:00 in Berlin.
    assert pickup.deposit_by == dt.datetime(2026, 2, 16, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert deposit_deadline(pickup, "DE") == pickup.deposit_by
