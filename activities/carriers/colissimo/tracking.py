"""Tracking through La Poste's "Suivi v2" API: `GET /idships/{idShip}?lang=fr_FR` with the
header `X-Okapi-Key`. The answer's `shipment.event[]` (newest first) carries `code`, `label`
and `date` (ISO 8601 with offset); `shipment.timeline[]` summarises the steps for people and
is not used. Errors carry `returnCode` and `returnMessage` (e.g. returnCode 400 "Le numéro
que vous avez saisi n'est pas valide" for a malformed number).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import partial
from typing import Any

from activities.carriers.scans import carrier_text, readable_scan
from domain.carriers import ParcelDestination, TrackingScan, TrackingStatus

S = TrackingStatus

EVENT_STATUS: dict[str, TrackingStatus] = {
    # The event codes La Poste documents for Suivi v2 (developer.laposte.fr, "Suivi" product
    # page), as reproduced by several open-source clients (rigwild/suivi-poste and others).
    "DR1": S.PRE_TRANSIT,  # Déclaratif réceptionné: the label is announced, nothing scanned
    "PC1": S.ACCEPTED,  # Pris en charge
    "PC2": S.ACCEPTED,  # Pris en charge dans le pays d'expédition
    "ET1": S.IN_TRANSIT,  # En cours de traitement
    "ET2": S.IN_TRANSIT,  # En cours de traitement dans le pays d'expédition
    "ET3": S.IN_TRANSIT,  # En cours de traitement dans le pays de destination
    "ET4": S.IN_TRANSIT,  # En cours de traitement dans un pays de transit
    "EP1": S.IN_TRANSIT,  # En attente de présentation
    "DO1": S.IN_TRANSIT,  # Entrée en douane
    "DO2": S.IN_TRANSIT,  # Sortie de douane
    "DO3": S.EXCEPTION,  # Retenu en douane
    "PB1": S.EXCEPTION,  # Problème en cours
    "PB2": S.IN_TRANSIT,  # Problème résolu
    "MD2": S.OUT_FOR_DELIVERY,  # Mis en distribution
    "ND1": S.EXCEPTION,  # Non distribuable
    # En attente d'être retiré au guichet: not delivered, the seller must fetch it.
    "AG1": S.EXCEPTION,
    "RE1": S.RETURNED_TO_SENDER,  # Retourné à l'expéditeur
    "DI1": S.DELIVERED,  # Distribué
    # Distribué à l'expéditeur: the return came back to the customer, not to the seller.
    "DI2": S.RETURNED_TO_SENDER,
    # Not in the published documentation found here: these four appear in one client's table
    # only (DR2 "Problème lors de la préparation", DI0 "Distribué en lot", DI3 "Retardé",
    # ID0 "Informations douane").
    "DR2": S.EXCEPTION,
    "DI0": S.DELIVERED,
    "DI3": S.IN_TRANSIT,
    "ID0": S.IN_TRANSIT,
}

UNKNOWN_EVENT_STATUS = S.IN_TRANSIT
"""A code La Poste adds later: the parcel moved, but nothing is known to have gone wrong."""

NO_SUCH_PARCEL = frozenset({400, 404})
"""returnCode (and HTTP status) of a malformed or unknown number: the number is blamed."""

NOT_SHOWN = 404
"""An unknown number: one La Poste does not show yet (a counter's label appears later), taken
as no scans rather than refused."""


def status_of(code: str) -> TrackingStatus:
    return EVENT_STATUS.get(code, UNKNOWN_EVENT_STATUS)


def scans(carrier: str, tracking_number: str, data: object) -> list[TrackingScan]:
    """Every event of the parcel, oldest first. The answer is one object, or (as the Swagger
    types it) a list of them: the one about `tracking_number` is read."""
    shipment = _shipment(data, tracking_number)
    events = shipment.get("event") or []
    found = [
        readable_scan(carrier, tracking_number, partial(_scan, carrier, tracking_number, e))
        for e in (events if isinstance(events, list) else [])
        if isinstance(e, dict)
    ]
    # La Poste lists the newest first: reversed, a stable sort keeps same-minute events in
    # the order they happened.
    return sorted((s for s in reversed(found) if s is not None), key=lambda s: s.occurred_at)


def destination(tracking_number: str, data: object) -> ParcelDestination | None:
    """Where La Poste's Suivi v2 says the parcel goes: the arrival country of its
    `contextData` (Suivi v2 shows no postal code)."""
    context = _shipment(data, tracking_number).get("contextData")
    country = context.get("arrivalCountry") if isinstance(context, dict) else None
    if not isinstance(country, str) or len(country) != 2 or not country.isalpha():
        return None
    return ParcelDestination(country_code=country.upper())


def return_code(data: object) -> int | None:
    item = data[0] if isinstance(data, list) and data else data
    if isinstance(item, dict):
        try:
            return int(item["returnCode"])
        except (KeyError, TypeError, ValueError):
            return None
    return None


def return_message(data: object) -> str:
    item = data[0] if isinstance(data, list) and data else data
    if isinstance(item, dict):
        return f"{item.get('returnCode')}: {item.get('returnMessage') or 'no message'}"[:300]
    return "no message"


def scan_id(tracking_number: str, code: str, date: str) -> str:
    """The same event always gets the same ID, so a repeated poll adds nothing."""
    digest = hashlib.sha256(f"{tracking_number}|{code}|{date}".encode()).hexdigest()[:20]
    return f"{code}-{digest}"


def _shipment(data: object, tracking_number: str) -> dict[str, Any]:
    items = data if isinstance(data, list) else [data]
    for item in items:
        shipment = item.get("shipment") if isinstance(item, dict) else None
        if (
            isinstance(shipment, dict)
            and shipment.get("idShip", tracking_number) == tracking_number
        ):
            return shipment
    return {}


def _scan(carrier: str, tracking_number: str, event: dict[str, Any]) -> TrackingScan | None:
    """One event as a scan; None for an event without a code or a zoned time (ValueError or
    ValidationError when it holds one no clock can count from)."""
    code, date = str(event.get("code") or ""), str(event.get("date") or "")
    try:
        occurred_at = dt.datetime.fromisoformat(date)
    except ValueError:
        return None
    if not code or occurred_at.tzinfo is None:
        return None
    label = carrier_text(event.get("label"))
    return TrackingScan(
        carrier=carrier,
        tracking_number=tracking_number,
        scan_id=scan_id(tracking_number, code, date),
        status=status_of(code),
        occurred_at=occurred_at,
        description=label or None,
        carrier_code=code,
    )
