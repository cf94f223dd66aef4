"""The carrier's feed of one return's parcel: its scans kept once each and in order, the ones
that came before the return knew the parcel's number, the problems to tell, and the scans that
came after the return ended. Plain deterministic code, a part of `ReturnState`."""

from __future__ import annotations

from abc import ABC, abstractmethod

from domain.carriers import TrackingScan, TrackingStatus

IN_CARRIER_HANDS = frozenset(
    {
        TrackingStatus.ACCEPTED,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    }
)
"""A scan with one of these proves the carrier has the parcel, even if `accepted` is late."""

PROBLEM_SCANS = frozenset({TrackingStatus.EXCEPTION, TrackingStatus.RETURNED_TO_SENDER})
"""A scan telling that something went wrong with the parcel: a person has to act."""

MAX_UNMATCHED_SCANS = 20
MAX_SCANS = 200
"""A parcel has a few dozen scans at most; more is a feed gone wrong, not kept in history."""


class ParcelScans(ABC):
    """The scans of the parcel `tracking_number` names (given by the return that holds them)."""

    def __init__(self) -> None:
        self.scans: list[TrackingScan] = []
        self.unmatched_scans: list[TrackingScan] = []
        self.problem_scans: list[TrackingScan] = []
        """Problem scans not yet told to the customer."""
        self.late_scans: list[TrackingScan] = []
        """Scans that came after the return ended without a parcel on its way."""

    @property
    @abstractmethod
    def tracking_number(self) -> str | None:
        """The parcel whose scans are this return's: `ReturnState` says which, from its
        choice, its label or code, the customer's report, or the late parcel it listens for."""

    def take_scan(self, scan: TrackingScan, *, hold: bool) -> bool:
        """Keep a scan of this return's parcel; False when it is a repeat or not ours.

        A scan of a number the return does not know yet is held (`hold`: a choice is being
        prepared, or the parcel's number is not known) and taken once the number is known.
        """
        if any(s.scan_id == scan.scan_id for s in self.scans) or len(self.scans) >= MAX_SCANS:
            return False
        if scan.tracking_number != self.tracking_number:
            held = any(s.scan_id == scan.scan_id for s in self.unmatched_scans)
            if hold and not held and len(self.unmatched_scans) < MAX_UNMATCHED_SCANS:
                self.unmatched_scans.append(scan)
            return False
        self.scans.append(scan)
        self.scans.sort(key=lambda s: s.occurred_at)
        if scan.status in PROBLEM_SCANS:
            self.problem_scans.append(scan)
        return True

    def take_late_scan(self, scan: TrackingScan) -> bool:
        """Keep a scan that came after the return ended (the customer may have sent the parcel
        anyway): apart from the return's scans, once, and a few at most."""
        if any(s.scan_id == scan.scan_id for s in self.late_scans):
            return False
        if len(self.late_scans) >= MAX_UNMATCHED_SCANS:
            return False
        self.late_scans.append(scan)
        return True

    def replay_unmatched_scans(self) -> list[TrackingScan]:
        """Once the tracking number is known, take the scans that arrived before it."""
        held, self.unmatched_scans = self.unmatched_scans, []
        return [s for s in held if self.take_scan(s, hold=False)]

    @property
    def dispatch_scan(self) -> TrackingScan | None:
        """The earliest scan proving the carrier has the parcel: the proof of dispatch."""
        return next((s for s in self.scans if s.status in IN_CARRIER_HANDS), None)

    @property
    def delivery_scan(self) -> TrackingScan | None:
        return next((s for s in self.scans if s.status is TrackingStatus.DELIVERED), None)
