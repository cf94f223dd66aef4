"""A shipper asks Sandbox Post for a prepaid return label and prints it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from carrier_sandbox.server import SandboxServer
from domain.addresses import PostalAddress
from tests.carrier_sandbox.builders import (
    RELAY,
    SANDBOX,
    count_rows,
    create_label,
    customer_address,
    error_of,
    label_body,
    seller_address,
)


async def test_carrier_says_who_it_is_and_what_it_can_do(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{SANDBOX}/carrier")

    assert response.status_code == 200
    assert response.json() == {
        "code": "sandbox",
        "name": "Sandbox Post",
        "capabilities": [
            "online_return_label",
            "counter_return_code",
            "counter_label",
            "mailbox_pickup",
            "drop_off",
            "post_office_locator",
            "tracking_webhook",
            "tracking_polling",
        ],
    }


async def test_health_needs_no_api_key(sandbox: SandboxServer) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as anonymous:
        response = await anonymous.get("/healthz")

    assert response.json() == {"status": "ok"}


async def test_wrong_or_missing_api_key_is_unauthorized(sandbox: SandboxServer) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as anonymous:
        missing = await anonymous.get(f"{SANDBOX}/carrier")
        wrong = await anonymous.post(
            f"{SANDBOX}/labels",
            json=label_body(),
            headers={"X-Api-Key": "not-the-key", "Idempotency-Key": "k-unauthorized"},
        )

    for response in (missing, wrong):
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthorized"


async def test_label_has_a_sandbox_tracking_number_and_a_pdf_link(
    client: httpx.AsyncClient,
) -> None:
    label = await create_label(client, "return-O1001-1:label:1")

    assert re.fullmatch(r"LBL-[0-9A-F]{16}", label["label_id"])
    assert re.fullmatch(r"SB\d{9}FR", label["tracking_number"])
    assert label["reference"] == "return-O1001-1"
    assert label["created_at"] == "2025-06-14T10:00:00+02:00"
    assert label["label_url"] == f"{SANDBOX}/labels/{label['label_id']}/pdf"


async def test_new_label_parcel_is_pre_transit_without_scans(client: httpx.AsyncClient) -> None:
    label = await create_label(client, "k-pre-transit")

    response = await client.get(f"{SANDBOX}/tracking/{label['tracking_number']}")

    assert response.json() == {
        "tracking_number": label["tracking_number"],
        "reference": "return-O1001-1",
        "status": "pre_transit",
        # The recipient's area, as a tracking page shows it; never a name or a street.
        "destination": {"postal_code": "67100", "country_code": "FR"},
        "events": [],
    }


async def test_label_pdf_shows_tracking_number_and_both_addresses(
    client: httpx.AsyncClient,
) -> None:
    label = await create_label(client, "k-pdf")

    response = await client.get(label["label_url"])

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    page = PdfReader(io.BytesIO(response.content)).pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (298, 420)  # A6: 105 x 148 mm
    text = page.extract_text()
    expected = [
        "Sandbox Post",
        "RETURN",
        label["tracking_number"],
        "return-O1001-1",
        "2025-06-14",
        *PostalAddress.model_validate(customer_address()).lines(),
        *PostalAddress.model_validate(seller_address()).lines(),
    ]
    for words in expected:
        assert words in text, words


async def test_label_pdf_carries_a_code_128_barcode_and_is_the_same_each_time(
    client: httpx.AsyncClient,
) -> None:
    label = await create_label(client, "k-barcode")

    first = await client.get(label["label_url"])
    again = await client.get(label["label_url"])

    assert first.content == again.content
    content = PdfReader(io.BytesIO(first.content)).pages[0].get_contents()
    assert content is not None
    # A Code 128 of 13 characters draws well over 30 bars, each a filled rectangle.
    assert content.get_data().count(b" re") > 30


async def test_pdf_of_an_unknown_label_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{SANDBOX}/labels/LBL-0000000000000000/pdf")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


async def test_wrong_postal_code_is_refused_naming_the_dotted_field(
    client: httpx.AsyncClient,
) -> None:
    body = label_body()
    body["sender"]["postal_code"] = "#31400"

    response = await client.post(
        f"{SANDBOX}/labels", json=body, headers={"Idempotency-Key": "k-pc"}
    )

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert error["field"] == "sender.postal_code"


@pytest.mark.parametrize(
    ("side", "field", "value", "said"),
    [
        ("sender", "postal_code", "1234", "sender.postal_code: is not a FR postal code"),
        ("recipient", "country_code", "XX", "recipient.country_code: is not an ISO 3166-1"),
        ("sender", "line1", "1 rue\x07 Haute", "sender.line1: "),
    ],
    ids=["postal-code", "country", "a-field-checked-alone"],
)
async def test_a_postal_code_or_country_the_address_refuses_is_named_down_to_its_field(
    client: httpx.AsyncClient, side: str, field: str, value: str, said: str
) -> None:
    body = label_body()
    body[side][field] = value

    response = await client.post(
        f"{SANDBOX}/labels", json=body, headers={"Idempotency-Key": f"k-{side}"}
    )

    assert response.status_code == 422
    error = error_of(response)
    assert error["field"] == f"{side}.{field}"
    assert error["message"].startswith(said), error["message"]
    assert "Value error" not in error["message"]


async def test_missing_and_unknown_fields_are_refused_by_name(client: httpx.AsyncClient) -> None:
    missing = label_body()
    del missing["parcel"]["weight_grams"]
    unknown = label_body()
    unknown["recipient"]["floor"] = "2"

    answers = [
        await client.post(f"{SANDBOX}/labels", json=body, headers={"Idempotency-Key": "k-fields"})
        for body in (missing, unknown)
    ]

    assert [error_of(r)["field"] for r in answers] == ["parcel.weight_grams", "recipient.floor"]
    assert {r.status_code for r in answers} == {422}


async def test_malformed_json_is_an_invalid_request(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{SANDBOX}/labels",
        content=b'{"reference": "return-O1001-1", "sender": ',
        headers={"Idempotency-Key": "k-malformed", "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"[" * 5_000 + b"]" * 5_000, "nested more than 64 levels deep"),
        (b'{"reference": "return-O1001-1", "weight": NaN}', "NaN is not a JSON number"),
        (b'{"reference": "\\ud800"}', "a string holds an escaped lone surrogate"),
    ],
    ids=["nested", "nan", "lone-surrogate"],
)
async def test_json_no_parser_should_take_is_an_invalid_request_saying_why(
    client: httpx.AsyncClient, content: bytes, why: str
) -> None:
    response = await client.post(
        f"{SANDBOX}/labels",
        content=content,
        headers={"Idempotency-Key": "k-hostile", "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_request"
    assert why in error_of(response)["message"]


async def test_label_without_idempotency_key_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{SANDBOX}/labels", json=label_body())

    assert response.status_code == 400
    assert error_of(response)["code"] == "missing_idempotency_key"


async def test_a_carrier_refuses_a_label_to_a_country_it_does_not_serve(
    client: httpx.AsyncClient, db_path: Path
) -> None:
    to_berlin = label_body()
    to_berlin["recipient"] = {
        **seller_address(),
        "line1": "Lagerstraße 17",
        "postal_code": "10317",
        "city": "Berlin",
        "country_code": "DE",
    }
    refused = await client.post(
        f"{RELAY}/labels", json=to_berlin, headers={"Idempotency-Key": "k-berlin"}
    )
    fixed = await client.post(
        f"{RELAY}/labels", json=label_body(), headers={"Idempotency-Key": "k-berlin"}
    )
    served = await client.post(
        f"{SANDBOX}/labels", json=to_berlin, headers={"Idempotency-Key": "k-berlin"}
    )

    assert refused.status_code == 422
    error = error_of(refused)
    assert error["code"] == "invalid_request" and error["field"] == "recipient.country_code"
    assert "Relay Express" in error["message"] and "DE" in error["message"]
    assert fixed.status_code == 201, "nothing was kept under the key: the sender may fix it"
    assert served.status_code == 201, "Sandbox Post carries parcels to every country"
    assert count_rows(db_path, "labels") == 2
