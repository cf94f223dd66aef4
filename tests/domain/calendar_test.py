"""When a mailbox pickup can be booked, in the carrier's time zone and on its calendar."""

from __future__ import annotations

import datetime as dt

from domain.calendar import (
    collection_days,
    easter_sunday,
    french_public_holidays,
    is_french_public_holiday,
    next_pickup_date,
    pickup_date_problem,
)

# Saturday 14 November 2026, 23:30 in Paris.
SATURDAY_NIGHT_UTC = dt.datetime(2026, 11, 14, 22, 30, tzinfo=dt.UTC)
SHIP_BY = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def test_booking_closes_the_day_before() -> None:
    problem = pickup_date_problem(dt.date(2026, 11, 14), SATURDAY_NIGHT_UTC, SHIP_BY)
    assert problem is not None and problem.startswith("pickup_date: must be after today")


def test_no_collection_on_sundays() -> None:
    problem = pickup_date_problem(dt.date(2026, 11, 15), SATURDAY_NIGHT_UTC, SHIP_BY)
    assert problem is not None and "Sunday" in problem


def test_no_pickup_after_the_shipping_deadline() -> None:
    problem = pickup_date_problem(dt.date(2026, 11, 30), SATURDAY_NIGHT_UTC, SHIP_BY)
    assert problem is not None and "shipping deadline 2026-11-28" in problem


def test_a_weekday_after_today_is_fine() -> None:
    assert pickup_date_problem(dt.date(2026, 11, 16), SATURDAY_NIGHT_UTC, SHIP_BY) is None


def test_the_next_pickup_skips_sunday() -> None:
    assert next_pickup_date(SATURDAY_NIGHT_UTC) == dt.date(2026, 11, 16)


def test_the_carrier_day_is_the_paris_day() -> None:
    # 23:30 UTC on Sunday is already Monday in Paris: the next pickup is Tuesday, not Monday.
    monday_in_paris = dt.datetime(2026, 11, 15, 23, 30, tzinfo=dt.UTC)
    assert next_pickup_date(monday_in_paris) == dt.date(2026, 11, 17)


def test_easter_falls_where_the_church_calendar_puts_it() -> None:
    assert [easter_sunday(y) for y in (2024, 2025, 2026, 2027, 2038, 2285)] == [
        dt.date(2024, 3, 31),
        dt.date(2025, 4, 20),
        dt.date(2026, 4, 5),
        dt.date(2027, 3, 28),
        dt.date(2038, 4, 25),  # the latest possible
        dt.date(2285, 3, 22),  # the earliest possible
    ]


def test_france_has_eleven_public_holidays_with_the_movable_ones_after_easter() -> None:
    holidays = french_public_holidays(2026)

    assert len(holidays) == 11
    assert holidays[dt.date(2026, 4, 6)] == "Easter Monday"
    assert holidays[dt.date(2026, 5, 14)] == "Ascension Day"
    assert holidays[dt.date(2026, 5, 25)] == "Whit Monday"
    assert holidays[dt.date(2026, 7, 14)] == "Bastille Day"
    assert list(holidays) == sorted(holidays)


def test_an_ordinary_day_is_no_holiday() -> None:
    assert not is_french_public_holiday(dt.date(2026, 4, 7))
    assert is_french_public_holiday(dt.date(2026, 11, 11))


def test_no_collection_on_a_public_holiday_naming_it() -> None:
    before_christmas = dt.datetime(2026, 12, 20, 10, 0, tzinfo=dt.UTC)
    ship_by = dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC)

    problem = pickup_date_problem(dt.date(2026, 12, 25), before_christmas, ship_by)

    assert problem == "pickup_date: 2026-12-25 is a public holiday (Christmas Day): no collection"


def test_the_next_pickup_skips_a_holiday_after_a_sunday() -> None:
    # Saturday 4 April 2026: Sunday is Easter, Monday is Easter Monday.
    saturday_before_easter = dt.datetime(2026, 4, 4, 9, 0, tzinfo=dt.UTC)
    assert next_pickup_date(saturday_before_easter) == dt.date(2026, 4, 7)


def test_collection_days_run_on_past_the_holidays() -> None:
    # Wednesday 12 May 2026: Thursday 14 is Ascension Day.
    days = collection_days(dt.datetime(2026, 5, 12, 9, 0, tzinfo=dt.UTC))
    assert [next(days) for _ in range(4)] == [
        dt.date(2026, 5, 13),
        dt.date(2026, 5, 15),
        dt.date(2026, 5, 16),
        dt.date(2026, 5, 18),
    ]
