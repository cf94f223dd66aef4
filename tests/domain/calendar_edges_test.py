"""The carrier calendar at its edges: Easter in its rarest years, the last day a pickup may
take place, and a mailbox in a country the carrier has no zone for."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import country_time_zone, easter_sunday, pickup_date_problem

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (1700, dt.date(1700, 4, 11)),
        (1818, dt.date(1818, 3, 22)),  # the earliest possible
        (1886, dt.date(1886, 4, 25)),  # the latest possible
        (1943, dt.date(1943, 4, 25)),
        (1954, dt.date(1954, 4, 18)),  # the two exceptions of the algorithm
        (1981, dt.date(1981, 4, 19)),
        (2038, dt.date(2038, 4, 25)),
        (2049, dt.date(2049, 4, 18)),
        (2076, dt.date(2076, 4, 19)),
        (2285, dt.date(2285, 3, 22)),
    ],
)
def test_easter_falls_on_its_published_date_even_in_its_rarest_years(
    year: int, easter: dt.date
) -> None:
    assert easter_sunday(year) == easter


def test_a_pickup_on_the_shipping_deadlines_day_is_in_time() -> None:
    now = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
    ship_by = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)  # a Friday

    assert pickup_date_problem(dt.date(2026, 11, 20), now, ship_by) is None
    assert pickup_date_problem(dt.date(2026, 11, 21), now, ship_by) == (
        "pickup_date: must be on or before the shipping deadline 2026-11-20"
    )


def test_the_shipping_deadlines_day_is_the_mailboxs_own() -> None:
    """A deadline at the end of Tuesday 8 December in Lisbon is already Wednesday in Paris: a
    mailbox in Lisbon may not be picked up on the Wednesday."""
    lisbon = ZoneInfo("Europe/Lisbon")
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    ship_by = dt.datetime.combine(dt.date(2026, 12, 8), dt.time.max, tzinfo=lisbon)

    assert pickup_date_problem(dt.date(2026, 12, 8), now, ship_by, lisbon) is None
    assert pickup_date_problem(dt.date(2026, 12, 9), now, ship_by, lisbon) == (
        "pickup_date: must be on or before the shipping deadline 2026-12-08"
    )
    assert pickup_date_problem(dt.date(2026, 12, 9), now, ship_by) is None, "Paris's day"


def test_a_mailbox_outside_the_listed_countries_keeps_the_carriers_time() -> None:
    assert country_time_zone("JP") == PARIS
    assert country_time_zone("US") == PARIS
    assert country_time_zone("IE") == ZoneInfo("Europe/Dublin")
