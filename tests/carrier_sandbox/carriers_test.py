"""The sandbox plays several carriers, each under its own path, each with what it offers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from carrier_sandbox.carriers import CarrierConfig, CarriersFileError, load_carriers
from carrier_sandbox.server import SandboxServer
from tests.carrier_sandbox.builders import (
    MONDAY,
    RELAY,
    SANDBOX,
    book_pickup,
    create_label,
    error_of,
    label_body,
    scan,
)
from tests.carrier_sandbox.conftest import SettableClock


def s10_check_digit_is_right(number: str) -> bool:
    serial, check = number[2:10], int(number[10])
    weighted = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    expected = {10: 0, 11: 5}.get(11 - weighted % 11, 11 - weighted % 11)
    return check == expected


async def test_relay_express_is_a_drop_off_carrier_with_its_own_name(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{RELAY}/carrier")

    assert response.json() == {
        "code": "relay",
        "name": "Relay Express",
        "capabilities": [
            "online_return_label",
            "drop_off",
            "post_office_locator",
            "tracking_webhook",
            "tracking_polling",
        ],
    }


async def test_the_bench_lists_the_carriers_and_where_their_apis_are(
    client: httpx.AsyncClient,
) -> None:
    listed = (await client.get("/sandbox/carriers")).json()["carriers"]

    assert [(c["code"], c["name"], c["api"]) for c in listed] == [
        ("sandbox", "Sandbox Post", "/carriers/sandbox/v1"),
        ("relay", "Relay Express", "/carriers/relay/v1"),
    ]


async def test_each_carrier_numbers_its_parcels_with_its_own_prefix(
    client: httpx.AsyncClient,
) -> None:
    sandbox = await create_label(client, "return-O1001-1:label:sandbox")
    relay = await create_label(client, "return-O1001-1:label:relay", api=RELAY)

    assert re.fullmatch(r"SB\d{9}FR", sandbox["tracking_number"])
    assert re.fullmatch(r"RX\d{9}FR", relay["tracking_number"])
    assert s10_check_digit_is_right(sandbox["tracking_number"])
    assert s10_check_digit_is_right(relay["tracking_number"])
    assert relay["label_url"] == f"{RELAY}/labels/{relay['label_id']}/pdf"
    pdf = await client.get(relay["label_url"])
    assert pdf.status_code == 200 and b"Relay Express" in pdf.content


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/pickups"),
        ("POST", "/pickups/PU-0000000000000000/cancel"),
        ("GET", "/pickup-dates?postal_code=75011"),
        ("POST", "/counter-codes"),
    ],
)
async def test_what_relay_express_does_not_offer_is_not_there(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(
        method, f"{RELAY}{path}", json=label_body(), headers={"Idempotency-Key": "k-relay"}
    )

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_offered"


async def test_an_unknown_carrier_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/carriers/pigeon-post/v1/carrier")

    assert response.status_code == 404
    assert error_of(response)["code"] == "unknown_carrier"


async def test_the_old_unprefixed_routes_are_gone(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/carrier")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


async def test_a_label_of_one_carrier_is_unknown_to_another(client: httpx.AsyncClient) -> None:
    relay = await create_label(client, "return-O1001-1:label:relay", api=RELAY)

    pdf = await client.get(f"{SANDBOX}/labels/{relay['label_id']}/pdf")
    void = await client.post(f"{SANDBOX}/labels/{relay['label_id']}/void")
    pickup = await book_pickup(client, "return-O1001-1:pickup:1", relay["label_id"], MONDAY)
    tracked = await client.get(f"{SANDBOX}/tracking/{relay['tracking_number']}")

    assert pdf.status_code == void.status_code == tracked.status_code == 404
    assert pickup.status_code == 422 and error_of(pickup)["field"] == "label_id"


async def test_each_carrier_has_its_own_idempotency_keys(
    client: httpx.AsyncClient, sandbox: SandboxServer
) -> None:
    key = "return-O1001-1:label:1"
    sandbox_label = await create_label(client, key)
    relay_label = await create_label(client, key, api=RELAY)

    keys = (await client.get("/sandbox/idempotency-keys")).json()["keys"]

    assert sandbox_label["label_id"] != relay_label["label_id"]
    assert [(k["carrier"], k["key"], k["created"]) for k in keys] == [
        ("sandbox", key, 1),
        ("relay", key, 1),
    ]


async def test_a_relay_parcel_scanned_at_the_relay_point_says_so(
    client: httpx.AsyncClient,
) -> None:
    label = await create_label(client, "return-O1001-1:label:relay", api=RELAY)

    accepted = (await scan(client, label["tracking_number"])).json()

    assert accepted["description"] == "Parcel accepted by Relay Express."
    assert accepted["location"] == "Relay Express — collection sorting centre"


async def test_the_carriers_come_from_a_file(tmp_path: Path, clock: SettableClock) -> None:
    carriers_file = tmp_path / "carriers.json"
    carriers_file.write_text(
        json.dumps(
            {
                "carriers": [
                    {
                        "code": "parcelwing",
                        "name": "ParcelWing",
                        "capabilities": ["online_return_label", "tracking_polling"],
                        "tracking_prefix": "PW",
                    }
                ]
            }
        )
    )

    async with (
        SandboxServer(tmp_path / "db.sqlite", clock=clock, carriers=carriers_file) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key}) as http,
    ):
        who = await http.get("/carriers/parcelwing/v1/carrier")
        label = await create_label(http, "k-wing", api="/carriers/parcelwing/v1")
        locator = await http.get("/carriers/parcelwing/v1/post-offices?postal_code=75011")
        sandbox_post = await http.get(f"{SANDBOX}/carrier")

    assert who.json()["name"] == "ParcelWing"
    assert label["tracking_number"].startswith("PW")
    assert error_of(locator)["code"] == "not_offered"
    assert error_of(sandbox_post)["code"] == "unknown_carrier"


def test_a_bad_carriers_file_is_refused_naming_the_fault(tmp_path: Path) -> None:
    bad = tmp_path / "carriers.json"
    bad.write_text(json.dumps({"carriers": [{"code": "x", "name": "X", "capabilities": []}]}))

    with pytest.raises(CarriersFileError, match="tracking_prefix"):
        load_carriers(bad)


def test_two_carriers_cannot_share_a_code_or_a_prefix() -> None:
    one = CarrierConfig(code="one", name="One", capabilities=(), tracking_prefix="ON")

    with pytest.raises(CarriersFileError, match="code once"):
        load_carriers([one, one])
    with pytest.raises(CarriersFileError, match="tracking_prefix"):
        load_carriers([one, one.model_copy(update={"code": "two"})])
