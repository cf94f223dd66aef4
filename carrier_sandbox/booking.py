"""The carrier's desk: prepaid labels, counter codes and mailbox pickups."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any

from carrier_sandbox.carriers import CarrierConfig
from carrier_sandbox.errors import ApiError, invalid, not_found
from carrier_sandbox.label_pdf import LabelSheet
from carrier_sandbox.rules import (
    CARRIER_ZONE,
    COUNTER_CODE_VALIDITY,
    DEPOSIT_BEFORE,
    counter_code,
    object_id,
    pickup_confirmation,
    pickup_date_refusal,
    stamp,
    tracking_number,
)
from carrier_sandbox.schemas import CounterCodeBody, LabelBody, PickupBody
from domain.addresses import PostalAddress
from domain.carriers import Parcel


def create_label(
    db: sqlite3.Connection, carrier: CarrierConfig, body: LabelBody, now: dt.datetime, key: str
) -> dict[str, Any]:
    number = _register_parcel(db, carrier, body, now)
    label_id = _unused(db, "SELECT 1 FROM labels WHERE label_id = ?", lambda: object_id("LBL"))
    db.execute(
        "INSERT INTO labels (label_id, tracking_number, reference, created_at, idempotency_key,"
        " carrier) VALUES (?, ?, ?, ?, ?, ?)",
        (label_id, number, body.reference, stamp(now), key, carrier.code),
    )
    return {
        "label_id": label_id,
        "tracking_number": number,
        "reference": body.reference,
        "created_at": stamp(now),
        "label_url": f"/carriers/{carrier.code}/v1/labels/{label_id}/pdf",
    }


def create_counter_code(
    db: sqlite3.Connection,
    carrier: CarrierConfig,
    body: CounterCodeBody,
    now: dt.datetime,
    key: str,
) -> dict[str, Any]:
    number = _register_parcel(db, carrier, body, now)
    code = _unused(db, "SELECT 1 FROM counter_codes WHERE code = ?", counter_code)
    expires_at = stamp(now + COUNTER_CODE_VALIDITY)
    db.execute(
        "INSERT INTO counter_codes (code, tracking_number, reference, created_at, expires_at,"
        " idempotency_key, carrier) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (code, number, body.reference, stamp(now), expires_at, key, carrier.code),
    )
    return {
        "code": code,
        "tracking_number": number,
        "reference": body.reference,
        "expires_at": expires_at,
    }


def book_pickup(
    db: sqlite3.Connection, carrier: CarrierConfig, body: PickupBody, now: dt.datetime, key: str
) -> dict[str, Any]:
    label = db.execute(
        "SELECT tracking_number, voided_at FROM labels WHERE label_id = ? AND carrier = ?",
        (body.label_id, carrier.code),
    ).fetchone()
    if label is None:
        raise invalid("No label has this label_id: create the label first.", "label_id")
    if label["voided_at"] is not None:
        raise ApiError(
            422, "label_voided", "This label was voided: make a new label first.", "label_id"
        )
    number = label["tracking_number"]
    if db.execute("SELECT 1 FROM scans WHERE tracking_number = ?", (number,)).fetchone():
        raise invalid("The parcel of this label is already with the carrier.", "label_id")
    # A pickup whose day has passed without a scan was missed; the customer may book again.
    booked = db.execute(
        "SELECT pickup_date FROM pickups"
        " WHERE label_id = ? AND cancelled_at IS NULL AND pickup_date >= ?",
        (body.label_id, now.astimezone(CARRIER_ZONE).date().isoformat()),
    ).fetchone()
    if booked is not None:
        raise invalid(
            f"This label already has a pickup booked for {booked['pickup_date']}; "
            "a label has one pickup at a time (cancel it to book another).",
            "label_id",
        )
    refusal = pickup_date_refusal(body.pickup_date, now, carrier.name)
    if refusal is not None:
        raise ApiError(422, "pickup_date_unavailable", refusal, "pickup_date")
    pickup_id = _unused(db, "SELECT 1 FROM pickups WHERE pickup_id = ?", lambda: object_id("PU"))
    confirmation = _unused(db, "SELECT 1 FROM pickups WHERE confirmation = ?", pickup_confirmation)
    db.execute(
        "INSERT INTO pickups (pickup_id, label_id, reference, pickup_date, address, confirmation,"
        " created_at, idempotency_key, carrier) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            pickup_id,
            body.label_id,
            body.reference,
            body.pickup_date.isoformat(),
            body.address.model_dump_json(),
            confirmation,
            stamp(now),
            key,
            carrier.code,
        ),
    )
    return {
        "pickup_id": pickup_id,
        "label_id": body.label_id,
        "tracking_number": number,
        "pickup_date": body.pickup_date.isoformat(),
        "deposit_before": DEPOSIT_BEFORE.strftime("%H:%M"),
        "confirmation": confirmation,
    }


def label_sheet(db: sqlite3.Connection, carrier: CarrierConfig, label_id: str) -> LabelSheet:
    """What the label of `label_id` shows, from what was stored when it was made."""
    row = db.execute(
        "SELECT l.label_id, l.tracking_number, l.reference, l.created_at, l.voided_at,"
        " p.sender, p.recipient, p.parcel"
        " FROM labels l JOIN parcels p USING (tracking_number)"
        " WHERE l.label_id = ? AND l.carrier = ?",
        (label_id, carrier.code),
    ).fetchone()
    if row is None:
        raise not_found("No label has this label_id.")
    if row["voided_at"] is not None:
        raise ApiError(410, "label_voided", "This label was voided: it can no longer be printed.")
    return LabelSheet(
        carrier_name=carrier.name,
        label_id=row["label_id"],
        tracking_number=row["tracking_number"],
        reference=row["reference"],
        created_at=dt.datetime.fromisoformat(row["created_at"]),
        sender=PostalAddress.model_validate_json(row["sender"]),
        recipient=PostalAddress.model_validate_json(row["recipient"]),
        parcel=Parcel.model_validate_json(row["parcel"]),
    )


def _register_parcel(
    db: sqlite3.Connection,
    carrier: CarrierConfig,
    body: LabelBody | CounterCodeBody,
    now: dt.datetime,
) -> str:
    """A new parcel, known to tracking from now on (`pre_transit` until its first scan);
    refused when the carrier does not serve the sender's or the recipient's country, or, for a
    carrier with a tariff, carry a parcel so heavy (what its quotes refuse, it does not carry)."""
    check_countries(carrier, body.sender, body.recipient)
    check_weight(carrier, body.parcel)
    number = _unused(
        db,
        "SELECT 1 FROM parcels WHERE tracking_number = ?",
        lambda: tracking_number(carrier.tracking_prefix),
    )
    db.execute(
        "INSERT INTO parcels (tracking_number, reference, sender, recipient, parcel, created_at,"
        " carrier) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            number,
            body.reference,
            body.sender.model_dump_json(),
            body.recipient.model_dump_json(),
            body.parcel.model_dump_json(),
            stamp(now),
            carrier.code,
        ),
    )
    return number


def check_weight(carrier: CarrierConfig, parcel: Parcel) -> None:
    """A parcel heavier than the heaviest band of the carrier's tariff is refused, naming
    `parcel.weight_grams`; a carrier without a tariff takes any weight the schema allows."""
    tariff = carrier.tariff
    if tariff is None or tariff.band(parcel.weight_grams) is not None:
        return
    heaviest = tariff.bands[-1].up_to_grams
    raise invalid(f"{carrier.name} carries parcels up to {heaviest} g.", "parcel.weight_grams")


def check_countries(
    carrier: CarrierConfig, sender: PostalAddress, recipient: PostalAddress
) -> None:
    """A 422 naming the end whose country the carrier does not serve, if any."""
    for end, address in (("sender", sender), ("recipient", recipient)):
        if carrier.refuses_country(address.country_code):
            served = ", ".join(carrier.countries or ())
            raise invalid(
                f"{carrier.name} does not carry parcels to or from {address.country_code} "
                f"(it serves {served}).",
                f"{end}.country_code",
            )


def _unused(db: sqlite3.Connection, exists_query: str, make: Callable[[], str]) -> str:
    """A fresh random identifier; a collision just draws again."""
    while True:
        candidate = make()
        if db.execute(exists_query, (candidate,)).fetchone() is None:
            return candidate
