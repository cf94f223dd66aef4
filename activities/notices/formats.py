"""Dates, times and money written the way a customer reads them, in English or French.

Month names are spelled here rather than taken from the `locale` module: that one depends on
which locales the machine has installed and is process-wide, so it is neither portable nor safe
to switch per message in a worker sending in several languages at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.base import Money
from domain.carriers import OpeningHours

MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
}  # fmt: skip

_CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


def format_date(day: dt.date, lang: str) -> str:
    """`26 November 2026`, `26 novembre 2026` (and `1er décembre 2026`, as French writes it)."""
    month = MONTHS[lang][day.month - 1]
    if lang == "fr":
        number = "1er" if day.day == 1 else str(day.day)
        return f"{number} {month} {day.year}"
    return f"{day.day} {month} {day.year}"


def format_time(time: dt.time, lang: str) -> str:
    """`08:00` in English; `8 h`, `8 h 30` in French."""
    if lang == "fr":
        return f"{time.hour} h" if time.minute == 0 else f"{time.hour} h {time.minute:02d}"
    return f"{time.hour:02d}:{time.minute:02d}"


def format_moment(at: dt.datetime, zone: ZoneInfo, lang: str) -> str:
    """A point in time in the customer's zone: `26 November 2026 at 10:15`."""
    local = at.astimezone(zone)
    joiner = " à " if lang == "fr" else " at "
    return format_date(local.date(), lang) + joiner + format_time(local.time(), lang)


def format_day(at: dt.datetime, zone: ZoneInfo, lang: str) -> str:
    """The calendar day of a point in time, in the customer's zone."""
    return format_date(at.astimezone(zone).date(), lang)


def format_money(money: Money, lang: str) -> str:
    """`€389.00`, `389,00 €`; `CHF 1,249.00`, `1 249,00 CHF` where no symbol is usual."""
    amount = money.amount.quantize(Decimal("0.01"))
    symbol = _CURRENCY_SYMBOLS.get(money.currency)
    if lang == "fr":
        # Narrow no-break space between thousands, no-break space before the currency.
        digits = f"{amount:,.2f}".replace(",", "\u202f").replace(".", ",")
        return f"{digits}\u00a0{symbol or money.currency}"
    digits = f"{amount:,.2f}"
    return f"{symbol}{digits}" if symbol else f"{money.currency}\u00a0{digits}"


WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
}
_CLOSED = {"en": "closed", "fr": "fermé"}
_DASH = "\N{EN DASH}"
_SLOT = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def format_distance(metres: int, lang: str) -> str:
    """`350 m`; `1.2 km` (`1,2 km` in French) from a kilometre on."""
    if metres < 1000:
        return f"{metres} m"
    kilometres = f"{metres / 1000:.1f}"
    return (kilometres.replace(".", ",") if lang == "fr" else kilometres) + " km"


def format_opening_hours(days: Sequence[OpeningHours], lang: str) -> str:
    """A week of opening hours in one line, days with the same hours together (with en dashes):
    `Mon-Fri 09:00-12:00, 14:00-18:00; Sat 09:00-12:30; Sun closed`
    (`lun.-ven. 9 h-12 h, 14 h-18 h ; sam. 9 h-12 h 30 ; dim. fermé`)."""
    groups: list[tuple[int, int, str]] = []  # first weekday, last weekday, hours
    for day in sorted(days, key=lambda d: d.weekday):
        hours = _hours(day.hours, lang)
        if groups and groups[-1][2] == hours and groups[-1][1] == day.weekday - 1:
            groups[-1] = (groups[-1][0], day.weekday, hours)
        else:
            groups.append((day.weekday, day.weekday, hours))
    names = WEEKDAYS[lang]
    parts = [
        (names[first - 1] if first == last else f"{names[first - 1]}{_DASH}{names[last - 1]}")
        + f" {hours}"
        for first, last, hours in groups
    ]
    return (" ; " if lang == "fr" else "; ").join(parts)


def _hours(published: str, lang: str) -> str:
    slots = published.split()
    if not slots or published.strip().lower() == "closed":
        return _CLOSED[lang]
    written = []
    for slot in slots:
        match = _SLOT.match(slot)
        try:
            if match is None:
                raise ValueError(slot)
            opens = dt.time(int(match[1]), int(match[2]))
            closes = dt.time(int(match[3]), int(match[4]))
        except ValueError:
            return published  # a format we do not know (or 24:00): as the carrier wrote it
        written.append(f"{format_time(opens, lang)}{_DASH}{format_time(closes, lang)}")
    return ", ".join(written)
