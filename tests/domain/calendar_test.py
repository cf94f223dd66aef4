"""When a mailbox pickup can be booked, in the carrier's time zone."""

from __future__ import annotations

import datetime as dt

from domain.calendar import next_pickup_date, pickup_date_problem

# Saturday 14 November 2026, 23:30 in Paris.
SATURDAY_NIGHT_UTC = dt.datetime(2026, 11, 14, 22, 30, tzinfo=dt.UTC)
SHIP_BY = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def test_booking_closes_the_day_before() -> None:
    problem = pickup_date_problem(dt.date(2026, 11, 14), SATURDAY_NIGHT_UTC, SHIP_BY)
    assert problem is not None and problem.startswith("pickup_date must be after today")


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
