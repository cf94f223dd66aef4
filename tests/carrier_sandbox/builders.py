"""Requests a shipper sends the sandbox's carriers, with realistic addresses."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import httpx

CUSTOMER_NAME = "Zoé Łasica-Lefèvre"
CUSTOMER_STREET = "27 chemin des Vignes"
SELLER_NAME = "Atelier Reconditionné Returns"

SANDBOX = "/carriers/sandbox/v1"
"""Sandbox Post's API: labels, counter codes, mailbox pickups, post offices, tracking."""
RELAY = "/carriers/relay/v1"
"""Relay Express's API: drop-off only (no pickups, no counter codes)."""

SATURDAY_MORNING = dt.datetime(2025, 6, 14, 8, 0, tzinfo=dt.UTC)
"""10:00 in Paris on Saturday 14 June 2025: tomorrow is a Sunday."""
SATURDAY = dt.date(2025, 6, 14)
SUNDAY = dt.date(2025, 6, 15)
MONDAY = dt.date(2025, 6, 16)
TUESDAY = dt.date(2025, 6, 17)


def customer_address() -> dict[str, Any]:
    return {
        "name": CUSTOMER_NAME,
        "line1": CUSTOMER_STREET,
        "line2": "Résidence Les Tilleuls, apt 4",
        "postal_code": "31400",
        "city": "Toulouse",
        "country_code": "FR",
        "phone": "+33 6 98 76 54 32",
    }


def seller_address() -> dict[str, Any]:
    return {
        "name": SELLER_NAME,
        "company": "Atelier Reconditionné SARL",
        "line1": "8 rue de l'Industrie",
        "line2": None,
        "postal_code": "67100",
        "city": "Strasbourg",
        "country_code": "FR",
        "phone": None,
    }


def label_body(reference: str = "return-O1001-1", weight_grams: int = 480) -> dict[str, Any]:
    return {
        "reference": reference,
        "sender": customer_address(),
        "recipient": seller_address(),
        "parcel": {"weight_grams": weight_grams, "description": "Smartphone"},
    }


def pickup_body(label_id: str, pickup_date: dt.date) -> dict[str, Any]:
    return {
        "reference": "return-O1001-1",
        "label_id": label_id,
        "pickup_date": pickup_date.isoformat(),
        "address": customer_address(),
    }


async def create_label(
    client: httpx.AsyncClient,
    key: str,
    body: dict[str, Any] | None = None,
    *,
    api: str = SANDBOX,
) -> dict[str, Any]:
    response = await client.post(
        f"{api}/labels", json=body or label_body(), headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    label: dict[str, Any] = response.json()
    return label


async def book_pickup(
    client: httpx.AsyncClient, key: str, label_id: str, pickup_date: dt.date
) -> httpx.Response:
    return await client.post(
        f"{SANDBOX}/pickups",
        json=pickup_body(label_id, pickup_date),
        headers={"Idempotency-Key": key},
    )


async def scan(client: httpx.AsyncClient, tracking_number: str, **body: str) -> httpx.Response:
    return await client.post(f"/sandbox/parcels/{tracking_number}/scans", json=body)


async def void_label(client: httpx.AsyncClient, label_id: str) -> httpx.Response:
    return await client.post(f"{SANDBOX}/labels/{label_id}/void")


async def cancel_pickup(client: httpx.AsyncClient, pickup_id: str) -> httpx.Response:
    return await client.post(f"{SANDBOX}/pickups/{pickup_id}/cancel")


async def move_clock(client: httpx.AsyncClient, **move: Any) -> dict[str, Any]:
    """Move the sandbox clock (`advance_seconds=` or `now=`); its answer, with the scans made."""
    if isinstance(move.get("now"), dt.datetime):
        move["now"] = move["now"].isoformat()
    response = await client.post("/sandbox/clock", json=move)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def statuses(
    client: httpx.AsyncClient, tracking_number: str, api: str = SANDBOX
) -> list[str]:
    """The statuses of the parcel's scans so far, oldest first."""
    tracked = (await client.get(f"{api}/tracking/{tracking_number}")).json()
    return [event["status"] for event in tracked["events"]]


def count_rows(db_path: Path, table: str) -> int:
    """Look in the carrier's own file: proof of what exists, whatever the API says."""
    with sqlite3.connect(db_path) as db:
        (count,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
    return int(count)


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The documented error object, checked to have exactly the documented keys."""
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    error: dict[str, Any] = body["error"]
    return error
