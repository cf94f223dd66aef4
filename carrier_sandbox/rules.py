"""Sandbox Post's rules: its calendar, its numbers and the order of its scans."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from domain.carriers import TrackingStatus

CARRIER_CODE = "sandbox"
CARRIER_NAME = "Sandbox Post"
CARRIER_ZONE = ZoneInfo("Europe/Paris")
"""Every day-based rule (pickup dates, the date on a label) is judged in the carrier's zone."""

DEPOSIT_BEFORE = dt.time(8, 0)
"""The mailbox round starts at 08:00: a parcel deposited later waits for the next pickup."""

COUNTER_CODE_VALIDITY = dt.timedelta(days=14)

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


def local_now(clock: Clock) -> dt.datetime:
    """The clock's time in the carrier's zone; a naive clock is a programming error."""
    now = clock()
    if now.tzinfo is None:
        raise ValueError("the sandbox clock must return an aware datetime")
    return now.astimezone(CARRIER_ZONE)


def earliest_pickup_date(now: dt.datetime) -> dt.date:
    """Booking closes the day before the round, and there is no round on Sundays."""
    day = now.astimezone(CARRIER_ZONE).date() + dt.timedelta(days=1)
    while day.isoweekday() == 7:
        day += dt.timedelta(days=1)
    return day


def pickup_date_refusal(pickup_date: dt.date, now: dt.datetime) -> str | None:
    """Why the carrier cannot collect on `pickup_date`, or None when it can."""
    earliest = earliest_pickup_date(now)
    today = now.astimezone(CARRIER_ZONE).date()
    if pickup_date < today:
        return (
            f"{pickup_date.isoformat()} is in the past "
            f"(the earliest pickup date is {earliest.isoformat()})."
        )
    if pickup_date == today:
        return (
            f"Pickups are booked by the day before; {pickup_date.isoformat()} is today "
            f"(the earliest pickup date is {earliest.isoformat()})."
        )
    if pickup_date.isoweekday() == 7:
        return (
            f"{CARRIER_NAME} does not collect on Sundays; {pickup_date.isoformat()} is a Sunday "
            f"(the earliest pickup date is {earliest.isoformat()})."
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


def tracking_number() -> str:
    """`SB`, an 8-digit serial with its UPU S10 check digit, `FR`: 13 characters."""
    serial = f"{secrets.randbelow(10**8):08d}"
    weighted = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - weighted % 11
    check = {10: 0, 11: 5}.get(check, check)
    return f"SB{serial}{check}FR"


# Counter staff read the code aloud or type it: no 0/O or 1/I to confuse.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def counter_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def pickup_confirmation() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def object_id(prefix: str) -> str:
    """`LBL-…`, `PU-…`, `SC-…`: a prefix saying what it is, then 64 random bits."""
    return f"{prefix}-{secrets.token_hex(8).upper()}"
