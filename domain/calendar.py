"""Carrier days: when a mailbox pickup can be booked, in the carrier's local time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CARRIER_TZ = ZoneInfo("Europe/Paris")
SUNDAY = 6


def local_date(moment: dt.datetime) -> dt.date:
    """The carrier's calendar day at `moment`."""
    return moment.astimezone(CARRIER_TZ).date()


def pickup_date_problem(pickup_date: dt.date, now: dt.datetime, ship_by: dt.datetime) -> str | None:
    """Why `pickup_date` cannot be booked at `now`, or None when it can.

    Booking closes the day before (the parcel must be in the mailbox by 08:00), carriers do not
    collect on Sundays, and a pickup after the shipping deadline would send the goods too late.
    """
    today = local_date(now)
    if pickup_date <= today:
        return (
            f"pickup_date must be after today ({today.isoformat()}): booking closes the day before"
        )
    if pickup_date.weekday() == SUNDAY:
        return f"pickup_date {pickup_date.isoformat()} is a Sunday: no collection on Sundays"
    if pickup_date > local_date(ship_by):
        deadline = local_date(ship_by).isoformat()
        return f"pickup_date must be on or before the shipping deadline {deadline}"
    return None


def next_pickup_date(now: dt.datetime) -> dt.date:
    """The earliest date a pickup booked at `now` can take place."""
    day = local_date(now) + dt.timedelta(days=1)
    while day.weekday() == SUNDAY:
        day += dt.timedelta(days=1)
    return day
