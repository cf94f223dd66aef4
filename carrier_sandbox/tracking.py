"""A parcel's journey: the scans the carrier records and what tracking answers."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from carrier_sandbox.booking import stamp
from carrier_sandbox.errors import invalid, not_found
from carrier_sandbox.rules import CARRIER_NAME, FINAL, next_journey_step, object_id
from carrier_sandbox.schemas import ScanBody
from domain.addresses import PostalAddress
from domain.carriers import TrackingStatus

_SAID: dict[TrackingStatus, str] = {
    TrackingStatus.ACCEPTED: f"Parcel accepted by {CARRIER_NAME}.",
    TrackingStatus.IN_TRANSIT: "Parcel in transit to the delivery office.",
    TrackingStatus.OUT_FOR_DELIVERY: "Parcel out for delivery.",
    TrackingStatus.DELIVERED: "Parcel delivered to the recipient.",
    TrackingStatus.EXCEPTION: "Delivery problem: the parcel is held at the sorting centre.",
    TrackingStatus.RETURNED_TO_SENDER: "Parcel returned to the sender.",
}

_NEAR_RECIPIENT = frozenset({TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED})


def tracking(db: sqlite3.Connection, number: str) -> dict[str, Any]:
    parcel = _parcel(db, number)
    events = [
        {
            "scan_id": row["scan_id"],
            "status": row["status"],
            "occurred_at": row["occurred_at"],
            "location": row["location"],
            "description": row["description"],
        }
        for row in _scans(db, number)
    ]
    return {
        "tracking_number": number,
        "reference": parcel["reference"],
        "status": events[-1]["status"] if events else TrackingStatus.PRE_TRANSIT.value,
        "events": events,
    }


def record_scan(
    db: sqlite3.Connection, number: str, body: ScanBody, now: dt.datetime
) -> dict[str, Any]:
    """Scan the parcel: with the status asked for, or the next step of its journey."""
    parcel = _parcel(db, number)
    history = [TrackingStatus(row["status"]) for row in _scans(db, number)]
    if history and history[-1] in FINAL:
        raise invalid(f"The parcel is already {history[-1].value}; it takes no more scans.", None)
    status = body.status or next_journey_step(history)
    if status is None:
        raise invalid("The parcel has no step of its journey left.", None)
    if status is TrackingStatus.PRE_TRANSIT:
        raise invalid("pre_transit is the state before the first scan, not a scan.", "status")
    event = {
        "scan_id": object_id("SC"),
        "status": status.value,
        "occurred_at": stamp(now),
        "location": body.location or _facility(parcel, status),
        "description": body.description or _SAID[status],
    }
    db.execute(
        "INSERT INTO scans (scan_id, tracking_number, status, occurred_at, location, description)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            event["scan_id"],
            number,
            event["status"],
            event["occurred_at"],
            event["location"],
            event["description"],
        ),
    )
    return {**event, "tracking_number": number, "reference": parcel["reference"]}


def _facility(parcel: sqlite3.Row, status: TrackingStatus) -> str:
    """The carrier site that scanned it. Near the seller (a business) it is named by the town;
    near the customer only by its kind, so a scan never tells where the customer lives."""
    if status in _NEAR_RECIPIENT:
        city = PostalAddress.model_validate_json(parcel["recipient"]).city
        return f"{CARRIER_NAME} — {city} delivery office"
    return f"{CARRIER_NAME} — collection sorting centre"


def _parcel(db: sqlite3.Connection, number: str) -> sqlite3.Row:
    row: sqlite3.Row | None = db.execute(
        "SELECT reference, sender, recipient FROM parcels WHERE tracking_number = ?", (number,)
    ).fetchone()
    if row is None:
        raise not_found("No parcel has this tracking number.")
    return row


def _scans(db: sqlite3.Connection, number: str) -> list[sqlite3.Row]:
    return db.execute(
        "SELECT scan_id, status, occurred_at, location, description FROM scans"
        " WHERE tracking_number = ? ORDER BY seq",
        (number,),
    ).fetchall()
