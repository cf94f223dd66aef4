"""Periods counted as Regulation (EEC, Euratom) No 1182/71 counts them, on the real calendars.

What the tables check, each expected day worked out by hand from the calendar of the year:

- Art. 3(1): the day of the event is not counted, and it is the customer's local day (an event
  at 23:30 UTC is already the next day in Paris or Helsinki, still the same day in Lisbon);
- Art. 3(2)(b): the period ends with the last moment (23:59:59.999999) of its last day, in the
  customer's time zone, whatever the offset that day (summer time begins and ends in between);
- Art. 3(4): a last day on a Saturday, a Sunday or a national public holiday of the customer's
  country moves to the next working day, over runs of them (Easter, Christmas, the new year);
  regional holidays do not count;
- Art. 3(5): a period of two days or more holds at least two working days;
- an act at the last moment of the last day is in time, one microsecond later it is not;
- a country without known holidays moves only on weekends, and a calendar is checked when made.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from pydantic import ValidationError

from domain.periods import LegalCalendar, calendar_for, last_day, legal_calendar, period_end

D = dt.date
ZONES = {
    "BE": "Europe/Brussels",
    "DE": "Europe/Berlin",
    "ES": "Europe/Madrid",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "IT": "Europe/Rome",
    "NL": "Europe/Amsterdam",
    "PT": "Europe/Lisbon",
    "ZZ": "Europe/Paris",  # a country without a zone of its own keeps the carrier's (Paris)
}
WINTER, SUMMER = dt.timedelta(hours=1), dt.timedelta(hours=2)
"""Paris's, Berlin's and Brussels's offsets from UTC."""


def utc(
    year: int,
    month: int,
    day: int,
    hour: int = 12,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> dt.datetime:
    """An instant in UTC, at noon unless told (noon is the same day everywhere in Europe)."""
    return dt.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=dt.UTC)


def end_of_day(country: str, day: dt.date) -> dt.datetime:
    """The last moment of `day` in `country`'s local time: what a period ending that day gives."""
    return dt.datetime.combine(day, dt.time(23, 59, 59, 999_999), tzinfo=ZoneInfo(ZONES[country]))


@cache
def calendar(country: str, year: int) -> LegalCalendar:
    return legal_calendar(country, year, year + 1)


def assert_ends_on(country: str, event_at: dt.datetime, days: int, day: dt.date) -> dt.datetime:
    end = period_end(event_at, days, calendar(country, event_at.year))
    expected = end_of_day(country, day)
    assert end == expected
    assert end.date() == day and end.time() == dt.time.max
    assert end.utcoffset() == expected.utcoffset()
    return end


# (country, event, last day of a 14-day period), the weekdays those of the real calendar.
ORDINARY = [
    pytest.param("FR", utc(2026, 3, 4), D(2026, 3, 18), id="FR-wed-to-wed"),
    pytest.param("DE", utc(2026, 6, 9), D(2026, 6, 23), id="DE-tue-to-tue"),
    pytest.param("ES", utc(2026, 9, 3), D(2026, 9, 17), id="ES-thu-to-thu"),
    pytest.param("IT", utc(2026, 2, 2), D(2026, 2, 16), id="IT-mon-to-mon"),
    pytest.param("BE", utc(2026, 10, 2), D(2026, 10, 16), id="BE-fri-to-fri"),
    pytest.param("NL", utc(2027, 1, 14), D(2027, 1, 28), id="NL-thu-to-thu"),
]

WEEKENDS = [
    pytest.param("FR", utc(2026, 9, 5), D(2026, 9, 21), id="FR-saturday-to-monday"),
    pytest.param("DE", utc(2026, 2, 15), D(2026, 3, 2), id="DE-sunday-to-monday"),
    pytest.param("BE", utc(2027, 4, 3), D(2027, 4, 19), id="BE-saturday-to-monday"),
    # Saturday, Sunday, then a Monday holiday: Tuesday.
    pytest.param("FR", utc(2026, 5, 9), D(2026, 5, 26), id="FR-saturday-then-whit-monday"),
    pytest.param("ES", utc(2026, 9, 26), D(2026, 10, 13), id="ES-saturday-then-12-october"),
    pytest.param("NL", utc(2026, 4, 11), D(2026, 4, 28), id="NL-saturday-then-kings-day"),
]

HOLIDAYS = [
    # France: 11 national days (Good Friday and 26 December are Alsace-Moselle's only).
    pytest.param("FR", utc(2026, 6, 30), D(2026, 7, 15), id="FR-14-july-2026-tue"),
    pytest.param("FR", utc(2026, 10, 28), D(2026, 11, 12), id="FR-11-november-2026-wed"),
    pytest.param("FR", utc(2026, 4, 30), D(2026, 5, 15), id="FR-ascension-2026-thu"),
    pytest.param("FR", utc(2026, 4, 17), D(2026, 5, 4), id="FR-1-may-2026-fri-then-weekend"),
    pytest.param("FR", utc(2026, 4, 24), D(2026, 5, 11), id="FR-8-may-2026-fri-then-weekend"),
    pytest.param("FR", utc(2027, 5, 3), D(2027, 5, 18), id="FR-whit-monday-2027"),
    pytest.param("FR", utc(2027, 6, 30), D(2027, 7, 15), id="FR-14-july-2027-wed"),
    # Germany: the nine nationwide days only.
    pytest.param("DE", utc(2026, 3, 20), D(2026, 4, 7), id="DE-good-friday-to-easter-monday-2026"),
    pytest.param("DE", utc(2027, 3, 15), D(2027, 3, 30), id="DE-easter-monday-2027"),
    pytest.param("DE", utc(2027, 4, 22), D(2027, 5, 7), id="DE-ascension-2027-thu"),
    pytest.param("DE", utc(2026, 9, 19), D(2026, 10, 5), id="DE-3-october-2026-sat"),
    pytest.param("DE", utc(2028, 9, 19), D(2028, 10, 4), id="DE-3-october-2028-tue"),
    pytest.param("DE", utc(2025, 12, 12), D(2025, 12, 29), id="DE-26-december-2025-fri"),
    pytest.param("DE", utc(2026, 12, 11), D(2026, 12, 28), id="DE-christmas-2026-fri-sat-sun"),
    # Spain: the national days (Easter Monday is regional).
    pytest.param("ES", utc(2026, 9, 28), D(2026, 10, 13), id="ES-12-october-2026-mon"),
    pytest.param("ES", utc(2027, 9, 28), D(2027, 10, 13), id="ES-12-october-2027-tue"),
    pytest.param("ES", utc(2026, 11, 24), D(2026, 12, 9), id="ES-8-december-2026-tue"),
    pytest.param("ES", utc(2027, 11, 24), D(2027, 12, 9), id="ES-8-december-2027-wed"),
    pytest.param("ES", utc(2026, 12, 23), D(2027, 1, 7), id="ES-6-january-2027-wed"),
    pytest.param("ES", utc(2027, 3, 12), D(2027, 3, 29), id="ES-good-friday-2027-not-monday"),
    # Italy: Easter Monday, 25 April, 2 June, 4 October (again from 2026), 8 and 26 December.
    pytest.param("IT", utc(2026, 5, 19), D(2026, 6, 3), id="IT-2-june-2026-tue"),
    pytest.param("IT", utc(2026, 3, 23), D(2026, 4, 7), id="IT-easter-monday-2026"),
    pytest.param("IT", utc(2026, 4, 11), D(2026, 4, 27), id="IT-25-april-2026-sat"),
    pytest.param("IT", utc(2027, 9, 20), D(2027, 10, 5), id="IT-4-october-2027-mon"),
    pytest.param("IT", utc(2027, 10, 18), D(2027, 11, 2), id="IT-1-november-2027-mon"),
    pytest.param("IT", utc(2027, 11, 24), D(2027, 12, 9), id="IT-8-december-2027-wed"),
    pytest.param("IT", utc(2026, 12, 11), D(2026, 12, 28), id="IT-christmas-2026-fri-sat-sun"),
    # Belgium.
    pytest.param("BE", utc(2026, 7, 7), D(2026, 7, 22), id="BE-21-july-2026-tue"),
    pytest.param("BE", utc(2027, 7, 7), D(2027, 7, 22), id="BE-21-july-2027-wed"),
    pytest.param("BE", utc(2026, 8, 1), D(2026, 8, 17), id="BE-15-august-2026-sat"),
    pytest.param("BE", utc(2026, 10, 28), D(2026, 11, 12), id="BE-11-november-2026-wed"),
    pytest.param("BE", utc(2027, 10, 28), D(2027, 11, 12), id="BE-11-november-2027-thu"),
    pytest.param("BE", utc(2027, 5, 3), D(2027, 5, 18), id="BE-whit-monday-2027"),
    # The Netherlands.
    pytest.param("NL", utc(2026, 4, 13), D(2026, 4, 28), id="NL-kings-day-2026-mon"),
    pytest.param("NL", utc(2027, 4, 13), D(2027, 4, 28), id="NL-kings-day-2027-tue"),
    pytest.param("NL", utc(2027, 4, 22), D(2027, 5, 7), id="NL-ascension-2027-thu"),
    pytest.param("NL", utc(2026, 12, 11), D(2026, 12, 28), id="NL-christmas-2026-fri-sat-sun"),
    pytest.param("NL", utc(2027, 12, 11), D(2027, 12, 27), id="NL-christmas-2027-sat-sun"),
]

NEW_YEAR = [
    pytest.param("FR", utc(2026, 12, 18), D(2027, 1, 4), id="FR-1-january-2027-fri"),
    pytest.param("IT", utc(2026, 12, 23), D(2027, 1, 7), id="IT-6-january-2027-wed"),
    pytest.param("DE", utc(2027, 12, 17), D(2027, 12, 31), id="DE-31-december-is-working"),
    pytest.param("BE", utc(2027, 12, 18), D(2028, 1, 3), id="BE-1-january-2028-sat"),
    # 23:30 UTC on 17 December is already the 18th in Amsterdam: the 14th day is 1 January.
    pytest.param("NL", utc(2026, 12, 17, 23, 30), D(2027, 1, 4), id="NL-late-event-to-1-january"),
]


@pytest.mark.parametrize(("country", "event_at", "day"), ORDINARY)
def test_an_ordinary_period_ends_on_its_fourteenth_day(
    country: str, event_at: dt.datetime, day: dt.date
) -> None:
    assert_ends_on(country, event_at, 14, day)
    assert day - event_at.date() == dt.timedelta(days=14)


@pytest.mark.parametrize(("country", "event_at", "day"), WEEKENDS)
def test_a_last_day_on_a_weekend_moves_to_the_next_working_day(
    country: str, event_at: dt.datetime, day: dt.date
) -> None:
    assert_ends_on(country, event_at, 14, day)


@pytest.mark.parametrize(("country", "event_at", "day"), HOLIDAYS)
def test_a_last_day_on_a_national_holiday_moves_to_the_next_working_day(
    country: str, event_at: dt.datetime, day: dt.date
) -> None:
    assert_ends_on(country, event_at, 14, day)


@pytest.mark.parametrize(("country", "event_at", "day"), NEW_YEAR)
def test_a_period_runs_across_the_new_year(
    country: str, event_at: dt.datetime, day: dt.date
) -> None:
    assert_ends_on(country, event_at, 14, day)


@pytest.mark.parametrize(
    ("event_at", "first", "first_day", "second", "second_day"),
    [
        pytest.param(
            utc(2025, 12, 12), "FR", D(2025, 12, 26), "DE", D(2025, 12, 29), id="26-december-2025"
        ),
        pytest.param(
            utc(2028, 9, 19), "FR", D(2028, 10, 3), "DE", D(2028, 10, 4), id="3-october-2028"
        ),
        pytest.param(
            utc(2026, 3, 20), "FR", D(2026, 4, 3), "DE", D(2026, 4, 7), id="good-friday-2026"
        ),
        pytest.param(
            utc(2026, 3, 20), "IT", D(2026, 4, 3), "ES", D(2026, 4, 6), id="good-friday-it-es"
        ),
        pytest.param(utc(2026, 5, 19), "FR", D(2026, 6, 2), "IT", D(2026, 6, 3), id="2-june-2026"),
        pytest.param(
            utc(2026, 5, 11), "ES", D(2026, 5, 25), "FR", D(2026, 5, 26), id="whit-monday-2026"
        ),
        pytest.param(
            utc(2026, 7, 7), "FR", D(2026, 7, 21), "BE", D(2026, 7, 22), id="21-july-2026"
        ),
    ],
)
def test_the_same_event_ends_on_each_countrys_own_calendar(
    event_at: dt.datetime, first: str, first_day: dt.date, second: str, second_day: dt.date
) -> None:
    assert_ends_on(first, event_at, 14, first_day)
    assert_ends_on(second, event_at, 14, second_day)


@pytest.mark.parametrize(
    ("country", "event_at", "day"),
    [
        # Paris is UTC+1 in March: from 23:00 UTC it is the next day.
        pytest.param("FR", utc(2026, 3, 10, 22, 59), D(2026, 3, 24), id="FR-2259utc-same-day"),
        pytest.param("FR", utc(2026, 3, 10, 23, 0), D(2026, 3, 25), id="FR-2300utc-midnight"),
        pytest.param("FR", utc(2026, 3, 10, 23, 30), D(2026, 3, 25), id="FR-2330utc-next-day"),
        # Helsinki is UTC+2 in winter.
        pytest.param("FI", utc(2026, 2, 10, 22, 30), D(2026, 2, 25), id="FI-2230utc-next-day"),
        # Lisbon is UTC+0 in winter, UTC+1 in summer.
        pytest.param("PT", utc(2026, 3, 10, 23, 30), D(2026, 3, 24), id="PT-2330utc-same-day"),
        pytest.param("PT", utc(2026, 7, 1, 23, 30), D(2026, 7, 16), id="PT-summer-2330utc-next"),
        # An instant given with another offset is the same instant: 19:30 UTC, 20:30 in Paris.
        pytest.param(
            "FR",
            dt.datetime(2026, 3, 11, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
            D(2026, 3, 24),
            id="FR-event-with-plus-0530-offset",
        ),
        pytest.param(
            "PT",
            dt.datetime(2026, 3, 11, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            D(2026, 3, 24),
            id="PT-event-with-plus-0100-offset",
        ),
    ],
)
def test_the_event_day_is_the_customers_local_day(
    country: str, event_at: dt.datetime, day: dt.date
) -> None:
    assert_ends_on(country, event_at, 14, day)


def test_the_same_late_instant_is_a_different_day_in_paris_and_lisbon() -> None:
    late = utc(2026, 3, 10, 23, 30)
    paris = assert_ends_on("FR", late, 14, D(2026, 3, 25))
    lisbon = assert_ends_on("PT", late, 14, D(2026, 3, 24))
    assert paris == utc(2026, 3, 25, 22, 59, 59, 999_999)
    assert lisbon == utc(2026, 3, 24, 23, 59, 59, 999_999)


@pytest.mark.parametrize(
    ("country", "event_at", "day", "start_offset", "end_offset"),
    [
        # Summer time begins on 29 March 2026 and 28 March 2027, ends on 25 October 2026 and
        # 31 October 2027 (the last Sundays).
        pytest.param(
            "FR", utc(2026, 3, 16), D(2026, 3, 30), WINTER, SUMMER, id="FR-across-march-2026"
        ),
        pytest.param(
            "FR", utc(2026, 10, 19), D(2026, 11, 2), SUMMER, WINTER, id="FR-across-october-2026"
        ),
        pytest.param(
            "PT",
            utc(2026, 3, 16),
            D(2026, 3, 30),
            dt.timedelta(0),
            dt.timedelta(hours=1),
            id="PT-across-march-2026",
        ),
        pytest.param(
            "FR", utc(2026, 3, 15), D(2026, 3, 30), WINTER, SUMMER, id="FR-last-day-dst-sunday-mar"
        ),
        pytest.param(
            "FR",
            utc(2026, 10, 11),
            D(2026, 10, 26),
            SUMMER,
            WINTER,
            id="FR-last-day-dst-sunday-oct",
        ),
        # 28 March 2027 is both the change and Easter Sunday; Monday is Easter Monday.
        pytest.param(
            "DE", utc(2027, 3, 14), D(2027, 3, 30), WINTER, SUMMER, id="DE-dst-easter-sunday-2027"
        ),
        # 31 October 2027 is the change, Monday 1 November All Saints' Day.
        pytest.param(
            "FR",
            utc(2027, 10, 17),
            D(2027, 11, 2),
            SUMMER,
            WINTER,
            id="FR-dst-then-all-saints-2027",
        ),
    ],
)
def test_a_period_ends_at_local_midnight_whatever_the_summer_time(
    country: str,
    event_at: dt.datetime,
    day: dt.date,
    start_offset: dt.timedelta,
    end_offset: dt.timedelta,
) -> None:
    end = assert_ends_on(country, event_at, 14, day)
    assert event_at.astimezone(ZoneInfo(ZONES[country])).utcoffset() == start_offset
    assert end.utcoffset() == end_offset


@pytest.mark.parametrize(
    ("country", "start", "days", "day"),
    [
        # An ordinary weekend: counted from Saturday, two days end on Sunday, which moves to
        # Monday; Saturday to Monday holds one working day, so the period runs to Tuesday.
        pytest.param("FR", D(2026, 3, 6), 1, D(2026, 3, 9), id="FR-fri-1-day"),
        pytest.param("FR", D(2026, 3, 6), 2, D(2026, 3, 10), id="FR-fri-2-days"),
        pytest.param("FR", D(2026, 3, 6), 3, D(2026, 3, 10), id="FR-fri-3-days"),
        pytest.param("FR", D(2026, 3, 6), 4, D(2026, 3, 10), id="FR-fri-4-days"),
        # Counted from Friday, Friday and Monday are two working days already.
        pytest.param("FR", D(2026, 3, 5), 2, D(2026, 3, 9), id="FR-thu-2-days-no-extension"),
        # Whitsun 2026 in France: Saturday 23 to Monday 25 May.
        pytest.param("FR", D(2026, 5, 22), 1, D(2026, 5, 26), id="FR-whitsun-1-day"),
        pytest.param("FR", D(2026, 5, 22), 2, D(2026, 5, 27), id="FR-whitsun-2-days"),
        pytest.param("FR", D(2026, 5, 22), 3, D(2026, 5, 27), id="FR-whitsun-3-days"),
        pytest.param("FR", D(2026, 5, 22), 5, D(2026, 5, 27), id="FR-whitsun-5-days"),
        pytest.param("FR", D(2026, 5, 22), 6, D(2026, 5, 28), id="FR-whitsun-6-days"),
        # Easter 2026 in Germany: Good Friday 3 to Easter Monday 6 April.
        pytest.param("DE", D(2026, 4, 2), 1, D(2026, 4, 7), id="DE-easter-1-day"),
        pytest.param("DE", D(2026, 4, 2), 2, D(2026, 4, 8), id="DE-easter-2-days"),
        pytest.param("DE", D(2026, 4, 2), 3, D(2026, 4, 8), id="DE-easter-3-days"),
        # Christmas 2026 in Germany: Friday 25 to Sunday 27 December.
        pytest.param("DE", D(2026, 12, 24), 2, D(2026, 12, 29), id="DE-christmas-2-days"),
    ],
)
def test_a_period_of_two_days_or_more_holds_two_working_days(
    country: str, start: dt.date, days: int, day: dt.date
) -> None:
    assert last_day(start, days, calendar(country, start.year)) == day


@pytest.mark.parametrize(
    ("country", "notice_at", "in_time"),
    [
        # The period of an event on 4 March 2026 ends on Wednesday 18 March, at local midnight.
        pytest.param("FR", utc(2026, 3, 18, 22, 59, 59), True, id="FR-a-second-before"),
        pytest.param("FR", utc(2026, 3, 18, 22, 59, 59, 999_999), True, id="FR-last-moment"),
        pytest.param("FR", utc(2026, 3, 18, 23), False, id="FR-one-microsecond-late"),
        pytest.param("FR", utc(2026, 3, 18, 23, 30), False, id="FR-2330utc-next-day"),
        pytest.param("PT", utc(2026, 3, 18, 23, 59, 59, 999_999), True, id="PT-last-moment"),
        pytest.param("PT", utc(2026, 3, 19, 0), False, id="PT-one-microsecond-late"),
    ],
)
def test_an_act_on_the_last_moment_is_in_time_and_not_a_microsecond_later(
    country: str, notice_at: dt.datetime, in_time: bool
) -> None:
    end = period_end(utc(2026, 3, 4), 14, calendar(country, 2026))
    assert (notice_at <= end) is in_time


@pytest.mark.parametrize(
    ("country", "day"),
    [
        pytest.param("FR", D(2026, 4, 3), id="FR-good-friday-alsace-moselle"),
        pytest.param("FR", D(2025, 12, 26), id="FR-26-december-alsace-moselle"),
        pytest.param("DE", D(2026, 1, 6), id="DE-epiphany-some-lander"),
        pytest.param("DE", D(2026, 6, 4), id="DE-corpus-christi-some-lander"),
        pytest.param("DE", D(2027, 11, 1), id="DE-all-saints-some-lander"),
        pytest.param("ES", D(2026, 4, 6), id="ES-easter-monday-some-regions"),
        pytest.param("IT", D(2027, 6, 29), id="IT-saints-peter-and-paul-rome"),
        pytest.param("BE", D(2025, 7, 11), id="BE-flemish-community-day"),
        pytest.param("BE", D(2027, 9, 27), id="BE-french-community-day"),
    ],
)
def test_a_regional_holiday_is_a_working_day(country: str, day: dt.date) -> None:
    assert day.weekday() < 5
    assert calendar(country, day.year).is_working_day(day)


def test_a_country_the_library_does_not_know_moves_only_on_weekends() -> None:
    with pytest.raises(NotImplementedError):
        holidays.country_holidays("ZZ", years=2026)
    unknown = legal_calendar("ZZ", 2026, 2027)

    assert unknown.public_holidays == []
    assert_ends_on("ZZ", utc(2026, 12, 11), 14, D(2026, 12, 25))  # Christmas is a Friday
    assert_ends_on("ZZ", utc(2026, 6, 30), 14, D(2026, 7, 14))
    assert_ends_on("ZZ", utc(2026, 9, 5), 14, D(2026, 9, 21))  # Saturday to Monday


def test_a_country_without_holidays_keeps_its_own_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def without_portugal() -> dict[str, list[str]]:
        return {"FR": []}  # a release of the library that does not know Portugal

    monkeypatch.setattr(holidays, "list_supported_countries", without_portugal)
    portugal = legal_calendar("PT", 2026, 2027)

    assert portugal.public_holidays == []
    # 10 June, Portugal Day, is a Wednesday: with no holidays known it is the last day.
    end = period_end(utc(2026, 5, 27), 14, portugal)
    assert end == end_of_day("PT", D(2026, 6, 10))
    assert end.utcoffset() == dt.timedelta(hours=1)


def test_a_calendar_with_a_holiday_outside_its_years_is_refused() -> None:
    with pytest.raises(ValidationError, match="public_holidays"):
        LegalCalendar(
            country_code="FR",
            first_year=2026,
            last_year=2027,
            public_holidays=[D(2026, 7, 14), D(2028, 1, 1)],
        )
    with pytest.raises(ValidationError, match="public_holidays"):
        LegalCalendar(
            country_code="FR", first_year=2026, last_year=2027, public_holidays=[D(2025, 12, 25)]
        )


def test_a_calendar_whose_years_are_reversed_is_refused() -> None:
    with pytest.raises(ValidationError, match="last_year is before first_year"):
        LegalCalendar(country_code="FR", first_year=2027, last_year=2026)


@pytest.mark.parametrize("days", [0, -1, -14])
def test_a_period_is_at_least_one_day(days: int) -> None:
    with pytest.raises(ValueError, match="at least one day"):
        last_day(D(2026, 3, 4), days, calendar("FR", 2026))
    with pytest.raises(ValueError, match="at least one day"):
        period_end(utc(2026, 3, 4), days, calendar("FR", 2026))


def test_a_calendar_holds_the_holidays_of_its_last_year_too() -> None:
    calendar = legal_calendar("FR", 2026, 2027)

    assert dt.date(2027, 12, 25) in calendar.public_holidays
    assert dt.date(2026, 1, 1) in calendar.public_holidays


@pytest.mark.parametrize(
    ("ordered_at", "notice_at", "years"),
    [
        ("1999-12-31T23:30:00-01:00", "2000-01-05T10:00:00+00:00", (2000, 2002)),
        ("2100-01-01T00:10:00+01:00", "2100-01-01T00:30:00+01:00", (2099, 2099)),
    ],
    ids=["order-written-in-1999", "notice-written-in-2100"],
)
def test_a_time_written_in_a_year_outside_the_span_counts_on_the_spans_nearest(
    ordered_at: str, notice_at: str, years: tuple[int, int]
) -> None:
    """Each time is within the years 2000 to 2099 in UTC, as the models check it; written with
    its offset it falls in the year before or after."""
    calendar = calendar_for(
        "FR", dt.datetime.fromisoformat(ordered_at), dt.datetime.fromisoformat(notice_at)
    )

    assert (calendar.first_year, calendar.last_year) == years


def test_a_customer_in_guadeloupe_has_the_whole_of_their_last_day() -> None:
    """Delivered Friday 20 November 2026 in Guadeloupe (UTC-4): the 14th day is Friday
    4 December, to its last moment there, not Paris's (18:59 local)."""
    guadeloupe = legal_calendar("GP", 2026, 2027)
    end = period_end(dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC), 14, guadeloupe)

    assert guadeloupe.time_zone == "America/Guadeloupe"
    assert end == dt.datetime.combine(
        D(2026, 12, 4), dt.time.max, tzinfo=ZoneInfo("America/Guadeloupe")
    )


@pytest.mark.parametrize(
    ("country", "postal_code", "zone"),
    [
        ("ES", "35001", "Atlantic/Canary"),  # Las Palmas de Gran Canaria
        ("ES", "38001", "Atlantic/Canary"),  # Santa Cruz de Tenerife
        ("ES", "28001", "Europe/Madrid"),
        ("PT", "9500-150", "Atlantic/Azores"),  # Ponta Delgada
        ("PT", "9000-018", "Europe/Lisbon"),  # Funchal, Madeira: Lisbon's time
        ("PT", "1100-148", "Europe/Lisbon"),
    ],
)
def test_a_customer_on_the_canaries_or_the_azores_counts_in_the_islands_time(
    country: str, postal_code: str, zone: str
) -> None:
    """Spain's and Portugal's outermost regions share their codes: their postal codes tell
    them. Delivered on Friday 20 November 2026, the 14th day ends at the islands' midnight."""
    calendar = calendar_for(
        country,
        dt.datetime(2026, 11, 10, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
        postal_code,
    )
    end = period_end(dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC), 14, calendar)

    assert calendar.time_zone == zone
    assert end == dt.datetime.combine(D(2026, 12, 4), dt.time.max, tzinfo=ZoneInfo(zone))


def test_a_calendar_made_before_its_zone_was_kept_counts_as_it_did() -> None:
    """A running return's calendar, recorded without a zone: its deadlines do not move."""
    kept = legal_calendar("GP", 2026, 2027).model_dump(exclude={"time_zone"})
    before = LegalCalendar.model_validate(kept)

    assert before.zone == ZoneInfo("Europe/Paris")


def test_a_zone_no_customer_has_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError, match="time_zone: 'Mars/Olympus' is not a customer's"):
        LegalCalendar(country_code="FR", first_year=2026, last_year=2027, time_zone="Mars/Olympus")
