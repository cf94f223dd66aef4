"""The sandbox's clock: a base clock (real UTC by default) plus an offset tests and demos move.

Moving the clock forward lets a demo or a test reach a pickup day, or a parcel's next scan,
without waiting for it. The offset is kept in the store, so a restarted sandbox carries on at
the time it had reached instead of jumping back.
"""

from __future__ import annotations

import datetime as dt
import threading

from carrier_sandbox.rules import Clock, local, utc_now
from carrier_sandbox.store import SandboxStore
from domain.base import LATEST

_OFFSET = "clock_offset_seconds"

FURTHEST = LATEST.replace(year=LATEST.year - 3)
"""The clock moves no further: a pickup's days, a parcel's journey and the calendars of the
returns it serves must all still fall within the years the product counts in."""


class SandboxClock:
    """`now()` is `base() + offset`, in the carriers' zone; the offset only grows."""

    def __init__(self, store: SandboxStore, base: Clock | None = None) -> None:
        self._store = store
        self._base = base or utc_now
        self._lock = threading.Lock()
        self._offset = dt.timedelta(seconds=float(store.state(_OFFSET) or 0))

    @property
    def offset(self) -> dt.timedelta:
        return self._offset

    def now(self) -> dt.datetime:
        # In UTC: adding to a local time would be wall-clock arithmetic, wrong across DST.
        return local(local(self._base()).astimezone(dt.UTC) + self._offset)

    def advance(self, seconds: float) -> dt.datetime:
        """Move the clock `seconds` forward; the new time."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._save(self._offset + dt.timedelta(seconds=seconds))
        return self.now()

    def move_to(self, moment: dt.datetime) -> dt.datetime:
        """Move the clock forward to `moment`; ValueError for a time it has already passed."""
        with self._lock:
            # In UTC: two times in the same zone subtract as wall clocks, an hour off across a
            # summer time change.
            try:
                gap = moment.astimezone(dt.UTC) - self.now().astimezone(dt.UTC)
            except OverflowError:  # an offset taking the year past 9999, or before 1, in UTC
                if moment.year == dt.MINYEAR:
                    raise ValueError("the sandbox clock only moves forward") from None
                raise ValueError(
                    f"the sandbox clock moves no further than {FURTHEST.date()}"
                ) from None
            if gap < dt.timedelta(0):
                raise ValueError("the sandbox clock only moves forward")
            self._save(self._offset + gap)
        return self.now()

    def _save(self, offset: dt.timedelta) -> None:
        try:
            beyond = local(self._base()).astimezone(dt.UTC) + offset >= FURTHEST
        except OverflowError:
            beyond = True
        if beyond:
            raise ValueError(f"the sandbox clock moves no further than {FURTHEST.date()}")
        value = repr(offset.total_seconds())
        self._store.run(lambda db: SandboxStore.set_state(db, _OFFSET, value))
        self._offset = offset
