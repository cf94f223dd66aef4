"""Periods counted as EU law counts them (Regulation (EEC, Euratom) No 1182/71).

Directive 2011/83/EU gives its periods in days (14 days to withdraw, to send the goods back, to
refund). Regulation 1182/71 says how such a period runs:

- Art. 3(1): the day of the event that starts it is not counted; the first day is the next one;
- Art. 3(2)(b): it ends with the last hour of its last day;
- Art. 3(4): a last day that is a Saturday, a Sunday or a public holiday moves to the end of the
  next working day;
- Art. 3(3): the days counted include Saturdays, Sundays and public holidays;
- Art. 3(5): a period of two days or more includes at least two working days.

The days are the customer's: their country's (or outermost region's) calendar day and time
zone, their country's public holidays (Art. 2(1): those of the Member State where the act is
done). A `LegalCalendar` holds those holidays for the years a return can reach, and the zone; it
is made once, on the worker, when the return starts (`legal_calendar`), so a running return's
deadlines never change with a new release of the holidays library or of the zones known here.
`period_end` is pure: the return workflow calls it.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Self

from pydantic import Field, field_validator, model_validator

from domain.base import EARLIEST, LATEST, CountryCode, DomainModel
from domain.calendar import country_time_zone, local_time_zone, zone_named

SATURDAY = 5
LAST_MOMENT = dt.time.max
"""A day ends with its last hour: 23:59:59.999999, local time."""


class LegalCalendar(DomainModel):
    """The working days of one country, for the years `first_year` to `last_year`."""

    country_code: CountryCode = Field(description="The customer's country (ISO 3166-1).")
    first_year: int = Field(ge=2000, le=2099)
    last_year: int = Field(ge=2000, le=2099)
    public_holidays: list[dt.date] = Field(
        default_factory=list,
        description="The country's national public holidays in those years, sorted.",
    )
    time_zone: str | None = Field(
        default=None,
        description="The customer's time zone, fixed when the return starts. Absent: their "
        "country's mainland zone, Paris for a country with none known.",
    )

    @field_validator("time_zone")
    @classmethod
    def _zone_known(cls, name: str | None) -> str | None:
        if name is not None:
            try:
                zone_named(name)
            except KeyError:
                raise ValueError(f"time_zone: {name!r} is not a customer's time zone") from None
        return name

    @model_validator(mode="after")
    def _years_in_order(self) -> Self:
        if self.last_year < self.first_year:
            raise ValueError("last_year is before first_year")
        if any(not self.first_year <= day.year <= self.last_year for day in self.public_holidays):
            raise ValueError("public_holidays holds a day outside first_year..last_year")
        return self

    @cached_property
    def holidays(self) -> frozenset[dt.date]:
        return frozenset(self.public_holidays)

    @property
    def zone(self) -> dt.tzinfo:
        if self.time_zone is not None:
            return zone_named(self.time_zone)
        return country_time_zone(self.country_code)

    def is_working_day(self, day: dt.date) -> bool:
        """Not a Saturday, a Sunday nor a public holiday (Art. 2(2) of the Regulation).

        Beyond the years held, only weekends are known: a return's periods never reach them
        (`calendar_for` holds `YEARS_AHEAD` years past the notice)."""
        return day.weekday() < SATURDAY and day not in self.holidays

    def local_day(self, moment: dt.datetime) -> dt.date:
        """The customer's calendar day at `moment`."""
        return moment.astimezone(self.zone).date()

    def end_of(self, day: dt.date) -> dt.datetime:
        """The last moment of `day`, in the customer's time zone."""
        return dt.datetime.combine(day, LAST_MOMENT, tzinfo=self.zone)


def last_day(start: dt.date, days: int, calendar: LegalCalendar) -> dt.date:
    """The last day of a period of `days` days counted from the day after `start`, moved to the
    next working day when it falls on a Saturday, Sunday or public holiday, and long enough to
    hold two working days when it is two days or more."""
    if days < 1:
        raise ValueError("a period is at least one day")
    end = start + dt.timedelta(days=days)
    while not calendar.is_working_day(end):
        end += dt.timedelta(days=1)
    if days >= 2:
        while _working_days(start, end, calendar) < 2:
            end += dt.timedelta(days=1)
    return end


def period_end(event_at: dt.datetime, days: int, calendar: LegalCalendar) -> dt.datetime:
    """The last moment of a period of `days` days started by an event at `event_at`: the end of
    its last day, in the customer's time zone. An act at or before it is in time."""
    return calendar.end_of(last_day(calendar.local_day(event_at), days, calendar))


def _working_days(start: dt.date, end: dt.date, calendar: LegalCalendar) -> int:
    day, count = start + dt.timedelta(days=1), 0
    while day <= end:
        count += calendar.is_working_day(day)
        day += dt.timedelta(days=1)
    return count


YEARS_AHEAD = 2
"""A return's calendar holds the years of its order to two years past its notice: a late address,
a late parcel and every period they start fit in them."""


def calendar_for(
    country_code: str, ordered_at: dt.datetime, notice_at: dt.datetime, postal_code: str = ""
) -> LegalCalendar:
    """The calendar a return counts its periods with, from its order to `YEARS_AHEAD` years past
    the withdrawal notice, within the years returnflow counts in. A time is checked in UTC
    (`domain.base.Instant`), so the year written with its offset may be one outside them
    (`1999-12-31T23:30:00-01:00` is 2000 in UTC): such a year is the span's nearest."""
    first_year, last_year = EARLIEST.year, LATEST.year - 1
    first = min(max(min(ordered_at.year, notice_at.year), first_year), last_year)
    last = max(min(notice_at.year + YEARS_AHEAD, last_year), first)
    return legal_calendar(country_code, first, last, postal_code)


def legal_calendar(
    country_code: str, first_year: int, last_year: int, postal_code: str = ""
) -> LegalCalendar:
    """The national public holidays of `country_code` from the maintained `holidays` library
    (regional ones, such as a German Land's, are not counted). A country the library does not
    know has no public holidays: only weekends move a deadline. Not for workflow code: the
    return gets its calendar from its intake activity."""
    import holidays

    found: list[dt.date] = []
    if country_code in holidays.list_supported_countries():
        years = range(first_year, last_year + 1)
        found = sorted(holidays.country_holidays(country_code, years=years))
    return LegalCalendar(
        country_code=country_code,
        first_year=first_year,
        last_year=last_year,
        public_holidays=found,
        time_zone=local_time_zone(country_code, postal_code).key,
    )
