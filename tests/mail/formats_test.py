"""Dates and amounts as customers read them, on their own calendar."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from activities.notices.formats import (
    format_date,
    format_day,
    format_money,
    format_time,
    local_zone,
)
from domain.base import Money


def test_dates_are_spelt_out_in_each_language() -> None:
    assert format_date(dt.date(2026, 11, 26), "en") == "26 November 2026"
    assert format_date(dt.date(2026, 11, 26), "fr") == "26 novembre 2026"
    assert format_date(dt.date(2026, 8, 1), "fr") == "1er août 2026"


def test_a_deadline_falls_on_the_customers_own_calendar_day() -> None:
    late_evening_utc = dt.datetime(2026, 12, 8, 23, 30, tzinfo=dt.UTC)

    assert format_day(late_evening_utc, local_zone("IE"), "en") == "8 December 2026"
    assert format_day(late_evening_utc, local_zone("GR"), "en") == "9 December 2026"
    assert format_day(late_evening_utc, local_zone("ZZ"), "en") == "8 December 2026"


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
