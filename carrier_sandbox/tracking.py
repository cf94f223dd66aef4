"""A parcel's journey: the scans the carrier records and what tracking answers."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from typing import Any

from carrier_sandbox.carriers import CarrierConfig
from carrier_sandbox.errors import ApiError, invalid, not_found
from carrier_sandbox.rules import FINAL, next_journey_step, object_id, stamp
from carrier_sandbox.schemas import ScanBody
from carrier_sandbox.webhooks import Outbox
from domain.addresses import PostalAddress
from domain.carriers import TrackingStatus

_SAID: dict[TrackingStatus, str] = {
    TrackingStatus.ACCEPTED: "Parcel accepted by {carrier}.",
    TrackingStatus.IN_TRANSIT: "Parcel in transit to the delivery office.",
    TrackingStatus.OUT_FOR_DELIVERY: "Parcel out for delivery.",
    TrackingStatus.DELIVERED: "Parcel delivered to the recipient.",
    TrackingStatus.EXCEPTION: "Delivery problem: the parcel is held at the sorting centre.",
    TrackingStatus.RETURNED_TO_SENDER: "Parcel returned to the sender.",
}

_NEAR_RECIPIENT = frozenset({TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED})


def tracking(db: sqlite3.Connection, carrier: CarrierConfig, number: str) -> dict[str, Any]:
    parcel = parcel_of(db, number, carrier.code)
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
    recipient = PostalAddress.model_validate_json(parcel["recipient"])
    return {
        "tracking_number": number,
        "reference": parcel["reference"],
        "status": events[-1]["status"] if events else TrackingStatus.PRE_TRANSIT.value,
        # Where it goes, as carriers' tracking pages show it: the area, never the name or street.
        "destination": {
            "postal_code": recipient.postal_code,
            "country_code": recipient.country_code,
        },
        "events": events,
    }


def scan_on_command(
    db: sqlite3.Connection,
    carriers: Mapping[str, CarrierConfig],
    outbox: Outbox,
    number: str,
    body: ScanBody,
    now: dt.datetime,
) -> dict[str, Any]:
    """Scan the parcel now: with the status asked for, or the next step of its journey."""
    parcel = parcel_of(db, number)
    if parcel["voided_at"] is not None:
        raise ApiError(
            422, "label_voided", "The label of this parcel was voided; it takes no scans."
        )
    history = [TrackingStatus(row["status"]) for row in _scans(db, number)]
    if history and history[-1] in FINAL:
        raise invalid(f"The parcel is already {history[-1].value}; it takes no more scans.", None)
    status = body.status or next_journey_step(history)
    if status is None:
        raise invalid("The parcel has no step of its journey left.", None)
    if status is TrackingStatus.PRE_TRANSIT:
        raise invalid("pre_transit is the state before the first scan, not a scan.", "status")
    carrier = carriers.get(parcel["carrier"])
    if carrier is None:
        raise ApiError(404, "unknown_carrier", "The parcel's carrier is no longer configured.")
    return record_scan(db, carrier, outbox, parcel, status, now, body.location, body.description)


def record_scan(
    db: sqlite3.Connection,
    carrier: CarrierConfig,
    outbox: Outbox,
    parcel: sqlite3.Row,
    status: TrackingStatus,
    occurred_at: dt.datetime,
    location: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Record one scan, and its webhook event in the same transaction."""
    scan = {
        "scan_id": object_id("SC"),
        "status": status.value,
        "occurred_at": stamp(occurred_at),
        "location": location or _facility(carrier, parcel, status),
        "description": description or _SAID[status].format(carrier=carrier.name),
        "tracking_number": parcel["tracking_number"],
        "reference": parcel["reference"],
    }
    db.execute(
        "INSERT INTO scans (scan_id, tracking_number, status, occurred_at, location, description)"
        " VALUES (:scan_id, :tracking_number, :status, :occurred_at, :location, :description)",
        scan,
    )
    outbox.enqueue(db, carrier, scan)
    return scan


def _facility(carrier: CarrierConfig, parcel: sqlite3.Row, status: TrackingStatus) -> str:
    """The carrier site that scanned it. Near the seller (a business) it is named by the town;
    near the customer only by its kind, so a scan never tells where the customer lives."""
    if status in _NEAR_RECIPIENT:
        city = PostalAddress.model_validate_json(parcel["recipient"]).city
        return f"{carrier.name} — {city} delivery office"
    return f"{carrier.name} — collection sorting centre"


def parcel_of(db: sqlite3.Connection, number: str, carrier: str | None = None) -> sqlite3.Row:
    """The parcel (of `carrier`, when given), with whether its label was voided; 404 if none."""
    row: sqlite3.Row | None = db.execute(
        "SELECT p.tracking_number, p.carrier, p.reference, p.recipient, l.voided_at"
        " FROM parcels p LEFT JOIN labels l USING (tracking_number)"
        " WHERE p.tracking_number = ? AND (? IS NULL OR p.carrier = ?)",
        (number, carrier, carrier),
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
