"""The sandbox carriers' rules: their calendar, their numbers and the order of their scans."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from domain.calendar import collection_days, next_pickup_date, public_holiday_name
from domain.carriers import TrackingStatus

CARRIER_ZONE = ZoneInfo("Europe/Paris")
"""Every day-based rule (pickup dates, the date on a label) is judged in the carriers' zone."""

DEPOSIT_BEFORE = dt.time(8, 0)
"""The mailbox round starts at 08:00: a parcel deposited later waits for the next pickup."""

COUNTER_CODE_VALIDITY = dt.timedelta(days=14)
PICKUP_DATES_LISTED = 10

JOURNEY: tuple[TrackingStatus, ...] = (
    TrackingStatus.ACCEPTED,
    TrackingStatus.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY,
    TrackingStatus.DELIVERED,
)
"""The steps a parcel takes when nothing goes wrong."""

FINAL: frozenset[TrackingStatus] = frozenset(
    {TrackingStatus.DELIVERED, TrackingStatus.RETURNED_TO_SENDER}
)
"""After these a parcel is out of the carrier's hands: no further scan is possible."""

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local(moment: dt.datetime) -> dt.datetime:
    """`moment` in the carriers' zone; a naive datetime is a programming error."""
    if moment.tzinfo is None:
        raise ValueError("the sandbox clock must return an aware datetime")
    return moment.astimezone(CARRIER_ZONE)


def stamp(moment: dt.datetime) -> str:
    """A time as the API writes it: the carriers' local time, to the second, with its offset."""
    return local(moment).isoformat(timespec="seconds")


def pickup_dates(now: dt.datetime, count: int = PICKUP_DATES_LISTED) -> list[dt.date]:
    """The next `count` days a mailbox pickup booked at `now` can take place."""
    return list(itertools.islice(collection_days(now), count))


def pickup_date_refusal(pickup_date: dt.date, now: dt.datetime, carrier_name: str) -> str | None:
    """Why the carrier cannot collect on `pickup_date`, or None when it can."""
    earliest = f"(the earliest pickup date is {next_pickup_date(now).isoformat()})"
    today = local(now).date()
    day = pickup_date.isoformat()
    if pickup_date < today:
        return f"{day} is in the past {earliest}."
    if pickup_date == today:
        return f"Pickups are booked by the day before; {day} is today {earliest}."
    if pickup_date.isoweekday() == 7:
        return f"{carrier_name} does not collect on Sundays; {day} is a Sunday {earliest}."
    holiday = public_holiday_name(pickup_date)
    if holiday is not None:
        return (
            f"{carrier_name} does not collect on public holidays; {day} is a public holiday "
            f"({holiday}) {earliest}."
        )
    return None


def next_journey_step(history: Sequence[TrackingStatus]) -> TrackingStatus | None:
    """The step after the furthest one the parcel has reached; None when it has none left.

    An exception scan does not move the parcel back: it resumes where it was.
    """
    if history and history[-1] in FINAL:
        return None
    reached = [JOURNEY.index(s) for s in history if s in JOURNEY]
    following = max(reached) + 1 if reached else 0
    return JOURNEY[following] if following < len(JOURNEY) else None


def tracking_number(prefix: str) -> str:
    """The carrier's two letters, an 8-digit serial, its UPU S10 check digit, `FR`."""
    serial = f"{secrets.randbelow(10**8):08d}"
    weighted = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - weighted % 11
    check = {10: 0, 11: 5}.get(check, check)
    return f"{prefix}{serial}{check}FR"


# Counter staff read the code aloud or type it: no 0/O or 1/I to confuse.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def counter_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def pickup_confirmation() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def object_id(prefix: str) -> str:
    """`LBL-…`, `PU-…`, `SC-…`, `EV-…`: a prefix saying what it is, then 64 random bits."""
    return f"{prefix}-{secrets.token_hex(8).upper()}"
