"""Taking back: voiding an unused label, cancelling a pickup before its day.

Both are naturally idempotent: a repeat answers 200 with `already_voided` / `already_cancelled`
true and the time of the first one, so a caller that lost the first answer just asks again.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from carrier_sandbox.carriers import CarrierConfig
from carrier_sandbox.errors import ApiError, not_found
from carrier_sandbox.rules import local, stamp


def void_label(
    db: sqlite3.Connection, carrier: CarrierConfig, label_id: str, now: dt.datetime
) -> dict[str, Any]:
    """Void the label so it is not charged; its booked pickup, if any, is cancelled with it."""
    label = db.execute(
        "SELECT tracking_number, voided_at FROM labels WHERE label_id = ? AND carrier = ?",
        (label_id, carrier.code),
    ).fetchone()
    if label is None:
        raise not_found("No label has this label_id.")
    if label["voided_at"] is not None:
        return {"label_id": label_id, "voided_at": label["voided_at"], "already_voided": True}
    if _scanned(db, label["tracking_number"]):
        raise ApiError(
            422, "label_used", "The parcel of this label is already with the carrier: it is used."
        )
    voided_at = stamp(now)
    db.execute("UPDATE labels SET voided_at = ? WHERE label_id = ?", (voided_at, label_id))
    db.execute(
        "UPDATE pickups SET cancelled_at = ? WHERE label_id = ? AND cancelled_at IS NULL",
        (voided_at, label_id),
    )
    return {"label_id": label_id, "voided_at": voided_at, "already_voided": False}


def cancel_pickup(
    db: sqlite3.Connection, carrier: CarrierConfig, pickup_id: str, now: dt.datetime
) -> dict[str, Any]:
    """Call the pickup off; only before its day begins and before the parcel is collected."""
    pickup = db.execute(
        "SELECT p.pickup_date, p.cancelled_at, l.tracking_number FROM pickups p"
        " JOIN labels l USING (label_id) WHERE p.pickup_id = ? AND p.carrier = ?",
        (pickup_id, carrier.code),
    ).fetchone()
    if pickup is None:
        raise not_found("No pickup has this pickup_id.")
    if pickup["cancelled_at"] is not None:
        return {
            "pickup_id": pickup_id,
            "cancelled_at": pickup["cancelled_at"],
            "already_cancelled": True,
        }
    if _scanned(db, pickup["tracking_number"]):
        raise ApiError(422, "pickup_passed", "The parcel was already collected.")
    if local(now).date().isoformat() >= pickup["pickup_date"]:
        raise ApiError(
            422,
            "pickup_passed",
            f"The pickup day {pickup['pickup_date']} has begun: the round can no longer be "
            "called off.",
        )
    cancelled_at = stamp(now)
    db.execute("UPDATE pickups SET cancelled_at = ? WHERE pickup_id = ?", (cancelled_at, pickup_id))
    return {"pickup_id": pickup_id, "cancelled_at": cancelled_at, "already_cancelled": False}


def _scanned(db: sqlite3.Connection, tracking_number: str) -> bool:
    found = db.execute("SELECT 1 FROM scans WHERE tracking_number = ?", (tracking_number,))
    return found.fetchone() is not None
