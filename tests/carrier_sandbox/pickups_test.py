"""The customer books a mailbox pickup: the carrier's calendar, in Paris time, decides."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from domain.calendar import collection_days
from tests.carrier_sandbox.builders import (
    MONDAY,
    SANDBOX,
    SATURDAY,
    SUNDAY,
    TUESDAY,
    book_pickup,
    create_label,
    error_of,
    scan,
)
from tests.carrier_sandbox.conftest import SettableClock


def date_refusal(response: httpx.Response) -> str:
    """The carrier's sentence, once the answer is checked to be a refused pickup date."""
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["field"]) == ("pickup_date_unavailable", "pickup_date")
    return str(error["message"])


@pytest.fixture
async def label(client: httpx.AsyncClient) -> dict[str, str]:
    return await create_label(client, "return-O1001-1:label:1")


async def test_pickup_on_the_first_weekday_after_booking_is_confirmed_for_before_eight(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    response = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], MONDAY)

    assert response.status_code == 201
    pickup = response.json()
    assert pickup["pickup_id"].startswith("PU-")
    assert pickup["label_id"] == label["label_id"]
    assert pickup["tracking_number"] == label["tracking_number"]
    assert pickup["pickup_date"] == "2025-06-16"
    assert pickup["deposit_before"] == "08:00"
    assert pickup["confirmation"]


async def test_pickup_on_a_sunday_is_refused_naming_the_field(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    response = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], SUNDAY)

    message = date_refusal(response)
    assert "Sunday" in message
    assert "2025-06-16" in message


async def test_pickup_today_is_refused_because_booking_closes_the_day_before(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    response = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], SATURDAY)

    assert "day before" in date_refusal(response)


async def test_pickup_in_the_past_is_refused(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    last_week = SATURDAY - dt.timedelta(days=7)

    response = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], last_week)

    assert "in the past" in date_refusal(response)


async def test_booking_day_is_the_paris_day_not_the_utc_day(
    client: httpx.AsyncClient, label: dict[str, str], clock: SettableClock
) -> None:
    # 23:30 UTC on Friday is already 01:30 on Saturday in Paris (summer time).
    clock.now = dt.datetime(2025, 6, 13, 23, 30, tzinfo=dt.UTC)

    saturday = await book_pickup(client, "k-saturday", label["label_id"], SATURDAY)
    monday = await book_pickup(client, "k-monday", label["label_id"], MONDAY)

    assert "day before" in date_refusal(saturday)
    assert monday.status_code == 201


async def test_pickup_for_an_unknown_label_names_label_id(client: httpx.AsyncClient) -> None:
    response = await book_pickup(client, "k-unknown", "LBL-FFFFFFFFFFFFFFFF", MONDAY)

    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid_request", "label_id")


async def test_a_label_has_one_pickup_booked_at_a_time(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    first = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], MONDAY)
    second = await book_pickup(client, "return-O1001-1:pickup:2", label["label_id"], TUESDAY)

    assert first.status_code == 201
    assert second.status_code == 422
    error = error_of(second)
    assert (error["code"], error["field"]) == ("invalid_request", "label_id")
    assert "2025-06-16" in error["message"]


async def test_a_missed_pickup_can_be_booked_again(
    client: httpx.AsyncClient, label: dict[str, str], clock: SettableClock
) -> None:
    await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], MONDAY)
    clock.now = dt.datetime(2025, 6, 17, 9, 0, tzinfo=dt.UTC)  # Tuesday; nobody came on Monday

    again = await book_pickup(
        client, "return-O1001-1:pickup:2", label["label_id"], MONDAY + dt.timedelta(days=3)
    )

    assert again.status_code == 201


async def test_no_pickup_for_a_parcel_the_carrier_already_has(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    await scan(client, label["tracking_number"])

    response = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], MONDAY)

    assert response.status_code == 422
    assert error_of(response)["field"] == "label_id"


async def test_pickup_date_that_is_not_a_date_is_an_invalid_request(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    response = await client.post(
        f"{SANDBOX}/pickups",
        json={
            "reference": "return-O1001-1",
            "label_id": label["label_id"],
            "pickup_date": "next monday",
            "address": {"name": "x"},
        },
        headers={"Idempotency-Key": "k-not-a-date"},
    )

    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_request"
    assert error_of(response)["field"] == "pickup_date"


async def test_racing_bookings_for_one_label_book_one_pickup(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    answers = await asyncio.gather(
        *(book_pickup(client, f"k-race-{n}", label["label_id"], MONDAY) for n in range(6))
    )

    assert sorted(a.status_code for a in answers) == [201, 422, 422, 422, 422, 422]


async def test_pickup_on_a_public_holiday_is_refused_naming_the_holiday(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    bastille_day = dt.date(2025, 7, 14)

    response = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], bastille_day)

    message = date_refusal(response)
    assert "public holiday (Bastille Day)" in message
    assert "2025-06-16" in message


async def test_the_carrier_lists_the_next_ten_collection_days(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{SANDBOX}/pickup-dates", params={"postal_code": "31400", "country_code": "FR"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "dates": [
            "2025-06-16",
            "2025-06-17",
            "2025-06-18",
            "2025-06-19",
            "2025-06-20",
            "2025-06-21",
            "2025-06-23",
            "2025-06-24",
            "2025-06-25",
            "2025-06-26",
        ],
        "deposit_before": "08:00",
    }


async def test_the_collection_days_skip_sundays_and_holidays(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    clock.now = dt.datetime(2025, 7, 12, 9, 0, tzinfo=dt.UTC)  # Saturday before Bastille Day

    dates = (await client.get(f"{SANDBOX}/pickup-dates?postal_code=75011")).json()["dates"]

    assert dates[:2] == ["2025-07-15", "2025-07-16"]


async def test_collection_days_of_the_sandbox_are_the_workflows(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    clock.now = dt.datetime(2026, 4, 30, 12, 0, tzinfo=dt.UTC)  # before 1 May, 8 May, Ascension

    dates = (await client.get(f"{SANDBOX}/pickup-dates?postal_code=69003")).json()["dates"]

    days = collection_days(clock.now)
    assert dates == [next(days).isoformat() for _ in range(10)]
    assert "2026-05-01" not in dates and "2026-05-08" not in dates and "2026-05-14" not in dates


async def test_pickup_dates_for_an_unknown_postal_code_name_the_field(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{SANDBOX}/pickup-dates?postal_code=00000")

    assert response.status_code == 422
    assert error_of(response)["field"] == "postal_code"
