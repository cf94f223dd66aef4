"""A shipper retries: one Idempotency-Key is one object, however often or however fast."""

from __future__ import annotations

import asyncio

import httpx

from carrier_sandbox.server import SandboxServer
from tests.carrier_sandbox.builders import (
    MONDAY,
    SANDBOX,
    book_pickup,
    cancel_pickup,
    count_rows,
    create_label,
    error_of,
    label_body,
    void_label,
)


async def test_same_idempotency_key_never_makes_a_second_label(
    client: httpx.AsyncClient, sandbox: SandboxServer
) -> None:
    key = "return-O1001-1:label:1"
    first = await client.post(
        f"{SANDBOX}/labels", json=label_body(), headers={"Idempotency-Key": key}
    )
    again = await client.post(
        f"{SANDBOX}/labels", json=label_body(), headers={"Idempotency-Key": key}
    )

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count_rows(sandbox.db_path, "labels") == 1
    assert count_rows(sandbox.db_path, "parcels") == 1


async def test_racing_requests_with_one_key_make_one_label(
    client: httpx.AsyncClient, sandbox: SandboxServer
) -> None:
    key = "return-O1001-1:label:race"

    answers = await asyncio.gather(
        *(
            client.post(f"{SANDBOX}/labels", json=label_body(), headers={"Idempotency-Key": key})
            for _ in range(8)
        )
    )

    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["label_id"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert count_rows(sandbox.db_path, "labels") == 1
    keys = (await client.get("/sandbox/idempotency-keys")).json()["keys"]
    assert keys == [
        {
            "carrier": "sandbox",
            "key": key,
            "endpoint": "POST /carriers/sandbox/v1/labels",
            "requests": 8,
            "created": 1,
        }
    ]


async def test_reused_key_with_another_body_is_a_conflict(
    client: httpx.AsyncClient, sandbox: SandboxServer
) -> None:
    key = "return-O1001-1:label:1"
    await create_label(client, key)

    heavier = await client.post(
        f"{SANDBOX}/labels", json=label_body(weight_grams=900), headers={"Idempotency-Key": key}
    )

    assert heavier.status_code == 409
    assert error_of(heavier)["code"] == "idempotency_key_reused"
    assert count_rows(sandbox.db_path, "labels") == 1


async def test_same_body_in_another_key_order_is_the_same_request(
    client: httpx.AsyncClient,
) -> None:
    key = "return-O1001-1:label:1"
    first = await create_label(client, key)
    shuffled = dict(reversed(list(label_body().items())))

    again = await client.post(f"{SANDBOX}/labels", json=shuffled, headers={"Idempotency-Key": key})

    assert again.status_code == 201
    assert again.json()["label_id"] == first["label_id"]


async def test_a_refused_request_keeps_its_key_free_for_the_corrected_one(
    client: httpx.AsyncClient,
) -> None:
    key = "return-O1001-1:label:1"
    wrong = label_body()
    wrong["recipient"]["country_code"] = "fr"

    refused = await client.post(f"{SANDBOX}/labels", json=wrong, headers={"Idempotency-Key": key})
    corrected = await client.post(
        f"{SANDBOX}/labels", json=label_body(), headers={"Idempotency-Key": key}
    )

    assert refused.status_code == 422
    assert error_of(refused)["field"] == "recipient.country_code"
    assert corrected.status_code == 201
    assert "Idempotent-Replayed" not in corrected.headers


async def test_idempotency_key_counts_requests_per_endpoint(client: httpx.AsyncClient) -> None:
    label = await create_label(client, "return-O1001-1:label:1")
    await create_label(client, "return-O1001-1:label:1")
    for _ in range(3):
        booked = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], MONDAY)
        assert booked.status_code == 201

    keys = (await client.get("/sandbox/idempotency-keys")).json()["keys"]

    assert keys == [
        {
            "carrier": "sandbox",
            "key": "return-O1001-1:label:1",
            "endpoint": "POST /carriers/sandbox/v1/labels",
            "requests": 2,
            "created": 1,
        },
        {
            "carrier": "sandbox",
            "key": "return-O1001-1:pickup:1",
            "endpoint": "POST /carriers/sandbox/v1/pickups",
            "requests": 3,
            "created": 1,
        },
    ]


async def test_a_key_used_for_a_label_cannot_book_a_pickup(client: httpx.AsyncClient) -> None:
    label = await create_label(client, "return-O1001-1:step:1")

    pickup = await book_pickup(client, "return-O1001-1:step:1", label["label_id"], MONDAY)

    assert pickup.status_code == 409
    error = error_of(pickup)
    assert error["code"] == "idempotency_key_reused"
    assert "POST /carriers/sandbox/v1/labels" in error["message"]


async def test_idempotency_key_longer_than_200_characters_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{SANDBOX}/labels", json=label_body(), headers={"Idempotency-Key": "k" * 201}
    )

    assert response.status_code == 400
    assert error_of(response) == {
        "code": "missing_idempotency_key",
        "message": "The Idempotency-Key header must be 1-200 printable ASCII characters.",
        "field": "Idempotency-Key",
    }


async def test_a_voided_label_and_a_cancelled_pickup_still_count_as_made(
    client: httpx.AsyncClient,
) -> None:
    label = await create_label(client, "return-O1001-1:label:1")
    booked = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], MONDAY)
    await cancel_pickup(client, booked.json()["pickup_id"])
    await void_label(client, label["label_id"])

    keys = (await client.get("/sandbox/idempotency-keys")).json()["keys"]

    assert [(k["key"], k["created"]) for k in keys] == [
        ("return-O1001-1:label:1", 1),
        ("return-O1001-1:pickup:1", 1),
    ]
