"""Carrier days: when a mailbox pickup can be booked, in the carrier's local time.

Pure functions, no I/O: the return workflow's update validator and the carrier sandbox judge a
pickup date with the same rules (booking closes the day before, no Sundays, no French public
holidays).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterator
from typing import TypeVar
from zoneinfo import ZoneInfo

from domain.carriers import Pickup

CARRIER_TZ = ZoneInfo("Europe/Paris")
SUNDAY = 6


K = TypeVar("K", bound=Hashable)


def _loaded(zones: dict[K, str]) -> dict[K, ZoneInfo]:
    """Each zone of the table, loaded now (at import)."""
    return {where: ZoneInfo(zone) for where, zone in zones.items()}


_COUNTRY_ZONES: dict[str, ZoneInfo] = _loaded(
    {
        "AT": "Europe/Vienna",
        "BE": "Europe/Brussels",
        "BG": "Europe/Sofia",
        "CH": "Europe/Zurich",
        "CY": "Asia/Nicosia",
        "CZ": "Europe/Prague",
        "DE": "Europe/Berlin",
        "DK": "Europe/Copenhagen",
        "EE": "Europe/Tallinn",
        "ES": "Europe/Madrid",
        "FI": "Europe/Helsinki",
        "FR": "Europe/Paris",
        "GB": "Europe/London",
        "GR": "Europe/Athens",
        "HR": "Europe/Zagreb",
        "HU": "Europe/Budapest",
        "IE": "Europe/Dublin",
        "IS": "Atlantic/Reykjavik",
        "IT": "Europe/Rome",
        "LI": "Europe/Vaduz",
        "LT": "Europe/Vilnius",
        "LU": "Europe/Luxembourg",
        "LV": "Europe/Riga",
        "MC": "Europe/Monaco",
        "MT": "Europe/Malta",
        "NL": "Europe/Amsterdam",
        "NO": "Europe/Oslo",
        "PL": "Europe/Warsaw",
        "PT": "Europe/Lisbon",
        "RO": "Europe/Bucharest",
        "SE": "Europe/Stockholm",
        "SI": "Europe/Ljubljana",
        "SK": "Europe/Bratislava",
    }
)
"""The local time of a mailbox, by its country (the mainland's zone), loaded once at import: a
workflow uses them without reading the time zone database."""

_FIXED_HOLIDAYS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "New Year's Day"),
    (5, 1, "Labour Day"),
    (5, 8, "Victory in Europe Day"),
    (7, 14, "Bastille Day"),
    (8, 15, "Assumption Day"),
    (11, 1, "All Saints' Day"),
    (11, 11, "Armistice Day"),
    (12, 25, "Christmas Day"),
)
"""France's public holidays on the same date every year (Code du travail, art. L3133-1)."""

_EASTER_HOLIDAYS: tuple[tuple[int, str], ...] = (
    (1, "Easter Monday"),
    (39, "Ascension Day"),
    (50, "Whit Monday"),
)
"""The movable ones, in days after Easter Sunday."""


_OUTERMOST_ZONES: dict[str, ZoneInfo] = _loaded(
    {
        "GF": "America/Cayenne",
        "GP": "America/Guadeloupe",
        "MF": "America/Marigot",
        "MQ": "America/Martinique",
        "RE": "Indian/Reunion",
        "YT": "Indian/Mayotte",
    }
)
"""The EU's outermost regions with a country code of their own (TFEU Art. 349): the Directive
applies there, in their own time."""

_ISLAND_ZONES: dict[tuple[str, str], ZoneInfo] = _loaded(
    {
        ("ES", "35"): "Atlantic/Canary",  # Las Palmas
        ("ES", "38"): "Atlantic/Canary",  # Santa Cruz de Tenerife
        ("PT", "95"): "Atlantic/Azores",  # 9500-9999: the Azores
        ("PT", "96"): "Atlantic/Azores",
        ("PT", "97"): "Atlantic/Azores",
        ("PT", "98"): "Atlantic/Azores",
        ("PT", "99"): "Atlantic/Azores",
    }
)
"""The outermost regions that share their country's code, by the first two digits of their
postal codes: the Canaries (an hour behind Madrid) and the Azores (an hour behind Lisbon).
Madeira (9000-9499) keeps Lisbon's time."""

_ZONES_BY_NAME: dict[str, ZoneInfo] = {
    zone.key: zone
    for zone in (
        *_COUNTRY_ZONES.values(),
        *_OUTERMOST_ZONES.values(),
        *_ISLAND_ZONES.values(),
        CARRIER_TZ,
    )
}


def local_time_zone(country_code: str, postal_code: str = "") -> ZoneInfo:
    """The local time of a person at an address in `country_code` with `postal_code`, the
    outermost regions' own included: a customer's legal days, and the times emails and pages
    show. (A carrier's pickup days are counted by `country_time_zone`.)"""
    island = _ISLAND_ZONES.get((country_code, postal_code.strip()[:2]))
    return island or _OUTERMOST_ZONES.get(country_code) or country_time_zone(country_code)


def counted_zone(time_zone: str | None, country_code: str) -> ZoneInfo:
    """The zone a return counts its customer's days in: its calendar's (`time_zone`), or, for a
    return whose calendar has none, `country_time_zone`'s, as it was counted."""
    if time_zone is not None:
        return zone_named(time_zone)
    return country_time_zone(country_code)


def zone_named(name: str) -> ZoneInfo:
    """One of the zones this module loaded, by its name (KeyError for another): a workflow
    uses it without reading the time zone database."""
    return _ZONES_BY_NAME[name]


def known_time_zone(country_code: str) -> ZoneInfo | None:
    """The local time of an address in `country_code`, if the country has one zone known here."""
    return _COUNTRY_ZONES.get(country_code)


def country_time_zone(country_code: str) -> ZoneInfo:
    """The local time of an address in `country_code`; the carrier's own for other countries."""
    return known_time_zone(country_code) or CARRIER_TZ


def deposit_deadline(pickup: Pickup, country_code: str) -> dt.datetime:
    """The instant by which the parcel must be in the mailbox: the one the carrier booked, or
    the pickup day at its deposit time (08:00) in the local time of the mailbox's country."""
    if pickup.deposit_by is not None:
        return pickup.deposit_by
    zone = country_time_zone(country_code)
    return dt.datetime.combine(pickup.pickup_date, pickup.deposit_before, tzinfo=zone)


def local_date(moment: dt.datetime) -> dt.date:
    """The carrier's calendar day at `moment`."""
    return moment.astimezone(CARRIER_TZ).date()


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday of the Gregorian calendar (the anonymous algorithm of Meeus/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def french_public_holidays(year: int) -> dict[dt.date, str]:
    """The eleven national public holidays of `year`, by date, with their English names.

    Alsace-Moselle's two extra days (Good Friday, St Stephen's Day) are local and not included.
    """
    holidays = {dt.date(year, month, day): name for month, day, name in _FIXED_HOLIDAYS}
    easter = easter_sunday(year)
    for days_after, name in _EASTER_HOLIDAYS:
        holidays[easter + dt.timedelta(days=days_after)] = name
    return dict(sorted(holidays.items()))


def public_holiday_name(day: dt.date) -> str | None:
    """The name of the French public holiday on `day`, or None on an ordinary day."""
    return french_public_holidays(day.year).get(day)


def is_french_public_holiday(day: dt.date) -> bool:
    return public_holiday_name(day) is not None


def is_collection_day(day: dt.date) -> bool:
    """Carriers collect from mailboxes on every day but Sundays and public holidays."""
    return day.weekday() != SUNDAY and not is_french_public_holiday(day)


def pickup_date_problem(
    pickup_date: dt.date, now: dt.datetime, ship_by: dt.datetime, zone: dt.tzinfo = CARRIER_TZ
) -> str | None:
    """Why `pickup_date` cannot be booked at `now`, or None when it can.

    Booking closes the day before (the parcel must be in the mailbox by 08:00), carriers do not
    collect on Sundays nor on public holidays, and a pickup after the shipping deadline would
    send the goods too late: the deadline's day is read in the mailbox's time zone (`zone`).
    """
    today = local_date(now)
    if pickup_date <= today:
        return (
            f"pickup_date: must be after today ({today.isoformat()}): booking closes the day before"
        )
    if pickup_date.weekday() == SUNDAY:
        return f"pickup_date: {pickup_date.isoformat()} is a Sunday: no collection on Sundays"
    holiday = public_holiday_name(pickup_date)
    if holiday is not None:
        return (
            f"pickup_date: {pickup_date.isoformat()} is a public holiday ({holiday}): no collection"
        )
    last_day = ship_by.astimezone(zone).date()
    if pickup_date > last_day:
        deadline = last_day.isoformat()
        return f"pickup_date: must be on or before the shipping deadline {deadline}"
    return None


def collection_days(now: dt.datetime) -> Iterator[dt.date]:
    """The days a pickup booked at `now` can take place, earliest first, without end."""
    day = local_date(now)
    while True:
        day += dt.timedelta(days=1)
        if is_collection_day(day):
            yield day


def next_pickup_date(now: dt.datetime) -> dt.date:
    """The earliest date a pickup booked at `now` can take place."""
    return next(collection_days(now))
