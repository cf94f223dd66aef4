"""Dates and amounts as customers read them, on their own calendar."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from activities.notices.formats import (
    format_date,
    format_day,
    format_distance,
    format_money,
    format_opening_hours,
    format_time,
)
from domain.base import Money
from domain.calendar import CARRIER_TZ, country_time_zone
from domain.carriers import OpeningHours

DASH = "\N{EN DASH}"


def test_dates_are_spelt_out_in_each_language() -> None:
    assert format_date(dt.date(2026, 11, 26), "en") == "26 November 2026"
    assert format_date(dt.date(2026, 11, 26), "fr") == "26 novembre 2026"
    assert format_date(dt.date(2026, 8, 1), "fr") == "1er août 2026"


def test_a_deadline_falls_on_the_customers_own_calendar_day() -> None:
    late_evening_utc = dt.datetime(2026, 12, 8, 23, 30, tzinfo=dt.UTC)

    assert format_day(late_evening_utc, country_time_zone("IE"), "en") == "8 December 2026"
    assert format_day(late_evening_utc, country_time_zone("GR"), "en") == "9 December 2026"
    # A country the table does not name: the zone the return's legal clocks are counted in.
    assert country_time_zone("ZZ") == CARRIER_TZ
    assert format_day(late_evening_utc, country_time_zone("ZZ"), "en") == "9 December 2026"


def test_times_as_each_language_writes_them() -> None:
    assert format_time(dt.time(8, 0), "en") == "08:00"
    assert format_time(dt.time(8, 0), "fr") == "8 h"
    assert format_time(dt.time(17, 5), "fr") == "17 h 05"


def test_prices_as_each_language_writes_them() -> None:
    price = Money(amount=Decimal("1249.00"), currency="EUR")
    francs = Money(amount=Decimal("89.90"), currency="CHF")

    assert format_money(price, "en") == "€1,249.00"
    assert format_money(price, "fr") == "1\u202f249,00\u00a0€"
    assert format_money(francs, "en") == "CHF\u00a089.90"
    assert format_money(francs, "fr") == "89,90\u00a0CHF"


def test_distances_read_in_metres_then_kilometres() -> None:
    assert format_distance(420, "en") == "420 m"
    assert format_distance(1223, "en") == "1.2 km"
    assert format_distance(1223, "fr") == "1,2 km"


def week(*hours: str) -> list[OpeningHours]:
    return [OpeningHours(weekday=day, hours=h) for day, h in enumerate(hours, start=1)]


def test_opening_hours_group_the_days_that_open_alike() -> None:
    post_office = week(*["09:00-12:00 14:00-18:00"] * 5, "09:00-12:30", "closed")

    assert format_opening_hours(post_office, "en") == (
        f"Mon{DASH}Fri 09:00{DASH}12:00, 14:00{DASH}18:00; Sat 09:00{DASH}12:30; Sun closed"
    )
    assert format_opening_hours(post_office, "fr") == (
        f"lun.{DASH}ven. 9 h{DASH}12 h, 14 h{DASH}18 h ; sam. 9 h{DASH}12 h 30 ; dim. fermé"
    )


def test_opening_hours_keep_apart_days_that_are_not_next_to_each_other() -> None:
    relay = week("closed", *["07:30-20:30"] * 5, "closed")

    assert format_opening_hours(relay, "en") == (
        f"Mon closed; Tue{DASH}Sat 07:30{DASH}20:30; Sun closed"
    )
    assert format_opening_hours([], "en") == ""


def test_opening_hours_in_a_form_we_do_not_know_are_shown_as_published() -> None:
    odd = [OpeningHours(weekday=1, hours="by appointment"), OpeningHours(weekday=2, hours="24:00")]

    assert format_opening_hours(odd, "en") == "Mon by appointment; Tue 24:00"
