"""The customer cancels the return: the booked pickup is called off and the unused label voided."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.carrier_sandbox.builders import (
    MONDAY,
    SANDBOX,
    TUESDAY,
    book_pickup,
    cancel_pickup,
    create_label,
    error_of,
    scan,
    void_label,
)
from tests.carrier_sandbox.conftest import SettableClock


@pytest.fixture
async def label(client: httpx.AsyncClient) -> dict[str, str]:
    return await create_label(client, "return-O1001-1:label:1")


@pytest.fixture
async def pickup(client: httpx.AsyncClient, label: dict[str, str]) -> dict[str, str]:
    booked = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], MONDAY)
    assert booked.status_code == 201
    answer: dict[str, str] = booked.json()
    return answer


async def test_an_unused_label_is_voided_and_a_repeat_says_it_already_was(
    client: httpx.AsyncClient, label: dict[str, str], clock: SettableClock
) -> None:
    first = await void_label(client, label["label_id"])
    clock.now += dt.timedelta(minutes=5)
    again = await void_label(client, label["label_id"])

    assert first.status_code == again.status_code == 200
    assert first.json() == {
        "label_id": label["label_id"],
        "voided_at": "2025-06-14T10:00:00+02:00",
        "already_voided": False,
    }
    assert again.json() == {**first.json(), "already_voided": True}


async def test_a_label_whose_parcel_was_scanned_cannot_be_voided(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    await scan(client, label["tracking_number"])

    response = await void_label(client, label["label_id"])

    assert response.status_code == 422
    assert error_of(response)["code"] == "label_used"


async def test_a_label_voided_cannot_get_a_pickup(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    await void_label(client, label["label_id"])

    response = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], MONDAY)

    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["field"]) == ("label_voided", "label_id")


async def test_the_parcel_of_a_voided_label_takes_no_scan_and_its_pdf_is_gone(
    client: httpx.AsyncClient, label: dict[str, str]
) -> None:
    await void_label(client, label["label_id"])

    scanned = await scan(client, label["tracking_number"])
    pdf = await client.get(label["label_url"])
    tracked = (await client.get(f"{SANDBOX}/tracking/{label['tracking_number']}")).json()

    assert scanned.status_code == 422 and error_of(scanned)["code"] == "label_voided"
    assert pdf.status_code == 410 and error_of(pdf)["code"] == "label_voided"
    assert tracked["status"] == "pre_transit"


async def test_voiding_a_label_calls_its_pickup_off(
    client: httpx.AsyncClient, label: dict[str, str], pickup: dict[str, str]
) -> None:
    await void_label(client, label["label_id"])

    cancelled = await cancel_pickup(client, pickup["pickup_id"])

    assert cancelled.json()["already_cancelled"] is True


async def test_an_unknown_label_cannot_be_voided(client: httpx.AsyncClient) -> None:
    response = await void_label(client, "LBL-0000000000000000")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


async def test_a_pickup_is_cancelled_before_its_day_and_a_repeat_says_it_already_was(
    client: httpx.AsyncClient, pickup: dict[str, str]
) -> None:
    first = await cancel_pickup(client, pickup["pickup_id"])
    again = await cancel_pickup(client, pickup["pickup_id"])

    assert first.status_code == again.status_code == 200
    assert first.json() == {
        "pickup_id": pickup["pickup_id"],
        "cancelled_at": "2025-06-14T10:00:00+02:00",
        "already_cancelled": False,
    }
    assert again.json() == {**first.json(), "already_cancelled": True}


async def test_a_cancelled_pickup_frees_the_label_for_another_day(
    client: httpx.AsyncClient, label: dict[str, str], pickup: dict[str, str]
) -> None:
    await cancel_pickup(client, pickup["pickup_id"])

    rebooked = await book_pickup(client, "return-O1001-1:pickup:2", label["label_id"], TUESDAY)

    assert rebooked.status_code == 201
    assert rebooked.json()["pickup_date"] == TUESDAY.isoformat()


async def test_a_pickup_cannot_be_cancelled_once_its_day_has_begun(
    client: httpx.AsyncClient, pickup: dict[str, str], clock: SettableClock
) -> None:
    clock.now = dt.datetime(2025, 6, 15, 22, 30, tzinfo=dt.UTC)  # 00:30 on Monday in Paris

    response = await cancel_pickup(client, pickup["pickup_id"])

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "pickup_passed"
    assert "2025-06-16" in error["message"]


async def test_a_pickup_cannot_be_cancelled_once_the_parcel_was_collected(
    client: httpx.AsyncClient, label: dict[str, str], pickup: dict[str, str]
) -> None:
    await scan(client, label["tracking_number"])

    response = await cancel_pickup(client, pickup["pickup_id"])

    assert response.status_code == 422
    assert error_of(response)["code"] == "pickup_passed"


async def test_an_unknown_pickup_cannot_be_cancelled(client: httpx.AsyncClient) -> None:
    response = await cancel_pickup(client, "PU-0000000000000000")

    assert response.status_code == 404


async def test_voiding_and_cancelling_need_the_api_key(
    client: httpx.AsyncClient, pickup: dict[str, str], label: dict[str, str]
) -> None:
    anonymous = {"X-Api-Key": "not-the-key"}
    void = await client.post(f"{SANDBOX}/labels/{label['label_id']}/void", headers=anonymous)
    cancel = await client.post(f"{SANDBOX}/pickups/{pickup['pickup_id']}/cancel", headers=anonymous)

    assert void.status_code == cancel.status_code == 401
