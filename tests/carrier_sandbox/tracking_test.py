"""The carrier scans the parcel on its way back; tracking tells the shipper, in order."""

from __future__ import annotations

import datetime as dt
import re

import httpx

from tests.carrier_sandbox.builders import (
    CUSTOMER_NAME,
    CUSTOMER_STREET,
    SANDBOX,
    SELLER_NAME,
    create_label,
    error_of,
    label_body,
    scan,
)
from tests.carrier_sandbox.conftest import SettableClock


async def test_scans_advance_in_order_and_tracking_lists_them(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    label = await create_label(client, "return-O1001-1:label:1")
    number = label["tracking_number"]

    played = []
    for hours in range(4):
        clock.now += dt.timedelta(hours=hours)
        response = await scan(client, number)
        assert response.status_code == 201
        played.append(response.json())

    assert [s["status"] for s in played] == [
        "accepted",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert all(s["tracking_number"] == number for s in played)
    assert all(s["reference"] == "return-O1001-1" for s in played)
    tracked = (await client.get(f"{SANDBOX}/tracking/{number}")).json()
    assert tracked["status"] == "delivered"
    assert tracked["events"] == [
        {k: s[k] for k in ("scan_id", "status", "occurred_at", "location", "description")}
        for s in played
    ]
    assert len({e["scan_id"] for e in tracked["events"]}) == 4
    assert all(re.fullmatch(r"SC-[0-9A-F]{16}", e["scan_id"]) for e in tracked["events"])
    assert played[0]["occurred_at"] == "2025-06-14T10:00:00+02:00"


async def test_delivered_parcel_cannot_advance(client: httpx.AsyncClient) -> None:
    label = await create_label(client, "return-O1001-1:label:1")
    await scan(client, label["tracking_number"], status="delivered")

    response = await scan(client, label["tracking_number"])

    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_request"


async def test_after_an_exception_the_parcel_resumes_where_it_was(
    client: httpx.AsyncClient,
) -> None:
    label = await create_label(client, "return-O1001-1:label:1")
    number = label["tracking_number"]
    await scan(client, number)
    held = await scan(client, number, status="exception", description="Address label damaged.")

    resumed = await scan(client, number)

    assert held.json()["description"] == "Address label damaged."
    assert resumed.json()["status"] == "in_transit"


async def test_scan_locations_never_say_where_the_customer_lives(
    client: httpx.AsyncClient,
) -> None:
    label = await create_label(client, "return-O1001-1:label:1")
    events = [(await scan(client, label["tracking_number"])).json() for _ in range(4)]

    assert events[0]["location"] == "Sandbox Post — collection sorting centre"
    assert events[3]["location"] == "Sandbox Post — Strasbourg delivery office"
    said = " ".join(f"{e['location']} {e['description']}" for e in events)
    for personal in (CUSTOMER_NAME, CUSTOMER_STREET, "Toulouse", SELLER_NAME, "rue de l'Industrie"):
        assert personal not in said


async def test_a_scan_may_name_its_own_status_and_place(client: httpx.AsyncClient) -> None:
    label = await create_label(client, "return-O1001-1:label:1")

    response = await scan(
        client, label["tracking_number"], status="accepted", location="Bureau de poste Capitole"
    )

    assert response.json()["location"] == "Bureau de poste Capitole"


async def test_a_scan_cannot_put_a_parcel_back_before_transit(client: httpx.AsyncClient) -> None:
    label = await create_label(client, "return-O1001-1:label:1")

    response = await scan(client, label["tracking_number"], status="pre_transit")

    assert response.status_code == 422
    assert error_of(response)["field"] == "status"


async def test_unknown_tracking_number_is_not_found(client: httpx.AsyncClient) -> None:
    tracked = await client.get(f"{SANDBOX}/tracking/SB000000000FR")
    scanned = await scan(client, "SB000000000FR")

    assert tracked.status_code == scanned.status_code == 404
    assert error_of(tracked)["code"] == error_of(scanned)["code"] == "not_found"


async def test_counter_code_reserves_a_tracked_parcel_for_fourteen_days(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{SANDBOX}/counter-codes",
        json=label_body(),
        headers={"Idempotency-Key": "return-O1001-1:counter-code:1"},
    )

    assert response.status_code == 201
    code = response.json()
    assert re.fullmatch(r"[A-Z0-9]{8}", code["code"])
    assert re.fullmatch(r"SB\d{9}FR", code["tracking_number"])
    assert code["reference"] == "return-O1001-1"
    assert code["expires_at"] == "2025-06-28T10:00:00+02:00"
    tracked = await client.get(f"{SANDBOX}/tracking/{code['tracking_number']}")
    assert tracked.json()["status"] == "pre_transit"
