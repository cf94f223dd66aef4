"""The carriers' rounds on the sandbox clock: mailbox pickups collected, parcels moved on.

Each round (every tick of real time, and at once when the clock is moved):

- a booked, uncancelled mailbox pickup whose day has reached 08:00 (Paris time), for a label not
  voided and a parcel with no scan yet, gets an `accepted` scan dated 08:00 that day;
- a parcel whose latest scan is a step of its journey takes the next step when it is due:
  `in_transit` 6 h after `accepted`, `out_for_delivery` at 07:00 on the next collection day
  (not Sunday, not a public holiday) after `in_transit`, `delivered` 4 h after that.

Scans carry the time they were due, not the time the round noticed, so a clock moved on by a
week yields the whole journey with plausible times. A parcel held by an `exception` scan waits
for a scan on command.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from carrier_sandbox.carriers import CarrierConfig
from carrier_sandbox.clock import SandboxClock
from carrier_sandbox.rules import CARRIER_ZONE, DEPOSIT_BEFORE, local
from carrier_sandbox.store import SandboxStore
from carrier_sandbox.tracking import parcel_of, record_scan
from carrier_sandbox.webhooks import Outbox
from domain.calendar import is_collection_day
from domain.carriers import CarrierCapability, TrackingStatus

logger = logging.getLogger(__name__)

IN_TRANSIT_AFTER = dt.timedelta(hours=6)
OUT_FOR_DELIVERY_AT = dt.time(7, 0)
DELIVERED_AFTER = dt.timedelta(hours=4)

_MOVING = (TrackingStatus.ACCEPTED, TrackingStatus.IN_TRANSIT, TrackingStatus.OUT_FOR_DELIVERY)


def next_step(
    status: TrackingStatus, occurred_at: dt.datetime
) -> tuple[TrackingStatus, dt.datetime] | None:
    """The step a parcel takes after a scan of `status`, and when; None if it does not move."""
    if status is TrackingStatus.ACCEPTED:
        return TrackingStatus.IN_TRANSIT, local(occurred_at.astimezone(dt.UTC) + IN_TRANSIT_AFTER)
    if status is TrackingStatus.IN_TRANSIT:
        day = local(occurred_at).date() + dt.timedelta(days=1)
        while not is_collection_day(day):
            day += dt.timedelta(days=1)
        return TrackingStatus.OUT_FOR_DELIVERY, _at(day, OUT_FOR_DELIVERY_AT)
    if status is TrackingStatus.OUT_FOR_DELIVERY:
        return TrackingStatus.DELIVERED, local(occurred_at.astimezone(dt.UTC) + DELIVERED_AFTER)
    return None


def carrier_round(
    db: sqlite3.Connection,
    carriers: Mapping[str, CarrierConfig],
    outbox: Outbox,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """One round of every carrier up to `now`; the scans it made, in order."""
    # In UTC: two times in the carriers' zone compare as wall clocks, wrong in the hour a
    # summer time change repeats.
    work = _Round(db, carriers, outbox, now.astimezone(dt.UTC))
    return work.collect_mailboxes() + work.move_parcels()


@dataclass(frozen=True)
class _Round:
    db: sqlite3.Connection
    carriers: Mapping[str, CarrierConfig]
    outbox: Outbox
    now: dt.datetime

    def collect_mailboxes(self) -> list[dict[str, Any]]:
        due = self.db.execute(
            "SELECT p.carrier, p.pickup_date, l.tracking_number FROM pickups p"
            " JOIN labels l USING (label_id)"
            " WHERE p.cancelled_at IS NULL AND l.voided_at IS NULL AND p.pickup_date <= ?"
            " AND NOT EXISTS (SELECT 1 FROM scans s WHERE s.tracking_number = l.tracking_number)"
            " ORDER BY p.pickup_date, p.created_at",
            (local(self.now).date().isoformat(),),
        ).fetchall()
        made: list[dict[str, Any]] = []
        collected: set[str] = set()
        for row in due:
            carrier = self.carriers.get(row["carrier"])
            collected_at = _at(dt.date.fromisoformat(row["pickup_date"]), DEPOSIT_BEFORE)
            number = row["tracking_number"]
            if carrier is None or not carrier.offers(CarrierCapability.MAILBOX_PICKUP):
                continue
            # A label rebooked after a missed day has two due pickups: one collection.
            if collected_at > self.now or number in collected:
                continue
            collected.add(number)
            scan = record_scan(
                self.db,
                carrier,
                self.outbox,
                parcel_of(self.db, number),
                TrackingStatus.ACCEPTED,
                collected_at,
                location=f"{carrier.name} — mailbox round",
                description=f"Parcel collected from the mailbox by {carrier.name}.",
            )
            made.append(scan)
        return made

    def move_parcels(self) -> list[dict[str, Any]]:
        latest = self.db.execute(
            "SELECT s.tracking_number, s.status, s.occurred_at FROM scans s"
            " JOIN (SELECT tracking_number, MAX(seq) AS seq FROM scans GROUP BY tracking_number)"
            " m USING (tracking_number, seq)"
            " WHERE s.status IN (?, ?, ?) ORDER BY s.seq",
            [s.value for s in _MOVING],
        ).fetchall()
        made: list[dict[str, Any]] = []
        for row in latest:
            parcel = parcel_of(self.db, row["tracking_number"])
            carrier = self.carriers.get(parcel["carrier"])
            if carrier is None:
                continue
            last = dt.datetime.fromisoformat(row["occurred_at"])
            step = next_step(TrackingStatus(row["status"]), last)
            while step is not None and step[1] <= self.now:
                status, due = step
                made.append(record_scan(self.db, carrier, self.outbox, parcel, status, due))
                step = next_step(status, due)
        return made


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=CARRIER_ZONE)


class Rounds:
    """Runs `carrier_round` every `tick_seconds` of real time, and on demand."""

    def __init__(
        self,
        store: SandboxStore,
        clock: SandboxClock,
        carriers: Mapping[str, CarrierConfig],
        outbox: Outbox,
        *,
        tick_seconds: float = 0.5,
        on_scans: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._carriers = carriers
        self._outbox = outbox
        self._tick = tick_seconds
        self._on_scans = on_scans

    async def run_once(self) -> list[dict[str, Any]]:
        now = self._clock.now()
        made = await asyncio.to_thread(
            self._store.run, lambda db: carrier_round(db, self._carriers, self._outbox, now)
        )
        for scan in made:
            logger.info(
                "parcel scanned on the carrier's round",
                extra={"tracking_number": scan["tracking_number"], "status": scan["status"]},
            )
        if made and self._on_scans is not None:
            self._on_scans()
        return made

    async def run(self) -> None:
        """Round after round until cancelled; a failing round is logged, the next one tried."""
        while True:
            try:
                await self.run_once()
            except Exception:
                logger.exception("carrier round failed")
            await asyncio.sleep(self._tick)
