"""A shipper asks a carrier of the sandbox what a return label costs before buying one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from carrier_sandbox.carriers import CarriersFileError, load_carriers
from tests.carrier_sandbox.builders import (
    RELAY,
    SANDBOX,
    count_rows,
    customer_address,
    error_of,
    seller_address,
)


def quote_body(weight_grams: int = 480, sender_country: str = "FR") -> dict[str, Any]:
    sender = customer_address() | {"country_code": sender_country}
    if sender_country == "BE":
        sender |= {"postal_code": "1000", "city": "Bruxelles"}
    return {
        "sender": sender,
        "recipient": seller_address(),
        "parcel": {"weight_grams": weight_grams, "description": "Smartphone"},
    }


@pytest.mark.parametrize(
    ("path", "weight", "country", "price", "zone", "band"),
    [
        (SANDBOX, 480, "FR", "6.25", "domestic", 500),
        (SANDBOX, 500, "FR", "6.25", "domestic", 500),
        (SANDBOX, 501, "FR", "7.45", "domestic", 1000),
        (SANDBOX, 250, "BE", "12.70", "international", 250),
        (RELAY, 480, "FR", "4.40", "domestic", 500),
        (RELAY, 2400, "BE", "11.90", "international", 5000),
    ],
)
async def test_the_price_follows_the_weight_band_and_the_border(
    client: httpx.AsyncClient,
    db_path: Path,
    path: str,
    weight: int,
    country: str,
    price: str,
    zone: str,
    band: int,
) -> None:
    response = await client.post(f"{path}/quotes", json=quote_body(weight, country))

    assert response.status_code == 200
    assert response.json() == {
        "price": {"amount": price, "currency": "EUR"},
        "zone": zone,
        "up_to_grams": band,
    }
    assert count_rows(db_path, "parcels") == 0, "a quote buys nothing"


async def test_a_parcel_heavier_than_every_band_is_refused_naming_its_weight(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{RELAY}/quotes", json=quote_body(weight_grams=25_000))

    assert response.status_code == 422
    assert (error_of(response)["code"], error_of(response)["field"]) == (
        "invalid_request",
        "parcel.weight_grams",
    )
    assert "20000 g" in error_of(response)["message"]


async def test_a_parcel_too_heavy_to_price_gets_no_label_either(
    client: httpx.AsyncClient, db_path: Path
) -> None:
    """What the carrier's quotes refuse, it does not carry: no label, no parcel."""
    body = quote_body(weight_grams=25_000) | {"reference": "return-ORD-HEAVY-1"}

    response = await client.post(
        f"{RELAY}/labels", json=body, headers={"Idempotency-Key": "k-heavy"}
    )

    assert response.status_code == 422
    assert error_of(response)["field"] == "parcel.weight_grams"
    assert "20000 g" in error_of(response)["message"]
    assert count_rows(db_path, "parcels") == 0


async def test_a_country_the_carrier_does_not_serve_is_refused_naming_the_end(
    client: httpx.AsyncClient,
) -> None:
    body = quote_body()
    body["recipient"] |= {"country_code": "DE", "postal_code": "10115", "city": "Berlin"}

    response = await client.post(f"{RELAY}/quotes", json=body)

    assert response.status_code == 422
    assert (error_of(response)["code"], error_of(response)["field"]) == (
        "invalid_request",
        "recipient.country_code",
    )


async def test_a_wrong_body_is_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    body = quote_body()
    del body["parcel"]["weight_grams"]

    missing = await client.post(f"{SANDBOX}/quotes", json=body)
    not_json = await client.post(f"{SANDBOX}/quotes", content=b"{NaN")

    assert missing.status_code == 422
    assert (error_of(missing)["code"], error_of(missing)["field"]) == (
        "invalid_request",
        "parcel.weight_grams",
    )
    assert not_json.status_code == 422
    assert error_of(not_json)["code"] == "invalid_request"


def test_a_carrier_without_a_tariff_quotes_nothing_and_a_wrong_band_is_refused(
    tmp_path: Path,
) -> None:
    carriers = tmp_path / "carriers.json"
    band = {"up_to_grams": 500, "domestic": "4.999", "international": "9.00"}
    carrier = {
        "code": "post",
        "name": "Post",
        "capabilities": [],
        "tracking_prefix": "PP",
        "tariff": {"currency": "EUR", "bands": [band]},
    }
    carriers.write_text(json.dumps({"carriers": [carrier]}))

    with pytest.raises(CarriersFileError, match=r"tariff\.bands\.0\.domestic"):
        load_carriers(carriers)
    assert load_carriers()["sandbox"].tariff is not None
