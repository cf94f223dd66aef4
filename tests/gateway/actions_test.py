"""Sellers, customers and operations act on a return through the gateway: each action is an
update, answered with the return's status, its validator's words, or 202 while it runs."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from domain.calendar import next_pickup_date
from domain.returns import ReturnStage
from tests.factories import SELLER_ADDRESS, SELLER_WITHOUT_ADDRESS, retract_event
from tests.gateway.door import (
    CUSTOMER_TOKEN,
    OPERATIONS_TOKEN,
    PORTAL_TOKEN,
    SELLER_TOKEN,
    Door,
    gateway_settings,
    open_door,
)
from tests.workflows.doubles import Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness
from tests.workflows.return_workflow_test import ready_for_choice
from workflows.return_workflow import ReturnWorkflow


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[ReturnHarness]:
    async with return_harness(time_skipping_env.client) as harness:
        yield harness


@pytest.fixture
async def door(harness: ReturnHarness, tmp_path: Path) -> AsyncIterator[Door]:
    settings = gateway_settings(harness.settings.task_queue, tmp_path)
    async with open_door(harness.client, settings) as door:
        yield door


def pickup() -> dict[str, str]:
    day = next_pickup_date(dt.datetime.now(dt.UTC)).isoformat()
    return {"method": "mailbox_pickup", "carrier": "sandbox", "pickup_date": day}


DROP_OFF = {"method": "post_office_drop_off", "carrier": "sandbox"}


async def test_the_customer_chooses_a_pickup_and_gets_the_return_status_back(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness)
    answer = await door.act(handle.id, "method", pickup(), CUSTOMER_TOKEN)

    assert answer.status_code == 200
    status = answer.json()
    assert status["stage"] == ReturnStage.AWAITING_PICKUP
    assert status["label"]["tracking_number"] == status["tracking_number"]
    assert status["pickup"]["pickup_date"] == pickup()["pickup_date"]


@pytest.mark.parametrize(
    ("token", "code", "error"),
    [
        (None, 401, "bad_token"),
        ("a-token-nobody-was-ever-given", 401, "bad_token"),
        (SELLER_TOKEN, 403, "wrong_role"),
        (OPERATIONS_TOKEN, 403, "wrong_role"),
    ],
)
async def test_only_the_customer_app_may_choose_the_method(
    door: Door, harness: ReturnHarness, token: str | None, code: int, error: str
) -> None:
    handle = await ready_for_choice(harness)
    answer = await door.act(handle.id, "method", pickup(), token)
    status = await handle.query(ReturnWorkflow.status)

    assert answer.status_code == code
    assert answer.json()["error"]["code"] == error
    if code == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert status.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE and status.label is None


async def test_a_seller_gives_the_address_of_its_own_returns_only(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
    await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
    address = {"address": SELLER_ADDRESS.model_dump(mode="json", exclude_none=True)}

    # SELLER_TOKEN belongs to another seller; the portal's token acts for every seller.
    other = await door.act(handle.id, "return-address", address, SELLER_TOKEN)
    portal = await door.act(handle.id, "return-address", address, PORTAL_TOKEN)

    assert other.status_code == 403
    assert other.json()["error"]["code"] == "not_your_return"
    assert portal.status_code == 200
    entries = [(e.actor, e.event) for e in (await handle.query(ReturnWorkflow.status)).timeline]
    assert ("seller", "gave the return address") in entries


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"carrier": "pigeon"}, "carrier: unknown carrier 'pigeon'"),
        ({"pickup_date": "2001-01-01"}, "pickup_date: must be after today"),
        ({"pickup_date": "2099-12-31"}, "pickup_date: must be on or before the shipping deadline"),
    ],
    ids=["unknown-carrier", "pickup-day-gone", "pickup-day-past-the-deadline"],
)
async def test_a_choice_the_return_refuses_comes_back_422_naming_the_field(
    door: Door, harness: ReturnHarness, change: dict[str, str], problem: str
) -> None:
    handle = await ready_for_choice(harness)
    answer = await door.act(handle.id, "method", pickup() | change, CUSTOMER_TOKEN)

    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0].startswith(problem)


async def test_a_request_breaking_the_schema_is_422_naming_the_field(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness)
    answer = await door.act(handle.id, "method", {"carrier": "sandbox"}, CUSTOMER_TOKEN)
    garbage = await door.act(handle.id, "method", b"{not json", CUSTOMER_TOKEN)

    assert answer.status_code == garbage.status_code == 422
    assert answer.json()["error"]["problems"] == ["method: Field required"]
    assert garbage.json()["error"]["code"] == "invalid_request"


async def test_an_action_out_of_turn_is_409_with_the_returns_reason(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness)
    answer = await door.act(
        handle.id, "shipment", {"tracking_number": "SBX12345678FR"}, CUSTOMER_TOKEN
    )

    assert answer.status_code == 409
    assert "waiting for the customer's choice" in answer.json()["error"]["message"]


async def test_an_operations_action_the_returns_state_refuses_is_409_not_a_field_at_fault(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness)
    answer = await door.act(
        handle.id, "attention", {"action": "retry", "reason": "try again"}, OPERATIONS_TOKEN
    )

    assert answer.status_code == 409
    assert "nothing to retry" in answer.json()["error"]["message"]
    assert "problems" not in answer.json()["error"]


async def test_an_unknown_return_is_404_and_an_ended_one_409(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness)
    cancelled = await door.act(handle.id, "cancel", {"reason": "changed my mind"}, CUSTOMER_TOKEN)
    await handle.result()
    again = await door.act(handle.id, "cancel", {}, CUSTOMER_TOKEN)
    unknown = await door.act("return-NOPE-1", "cancel", {}, CUSTOMER_TOKEN)

    assert cancelled.status_code == 200
    assert cancelled.json()["stage"] == ReturnStage.CANCELLED
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "return_ended"
    assert unknown.status_code == 404


async def test_a_retried_request_with_the_same_idempotency_key_acts_once(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness)
    chosen = await door.act(handle.id, "method", DROP_OFF, CUSTOMER_TOKEN)
    number = {"tracking_number": chosen.json()["tracking_number"]}
    first = await door.act(handle.id, "shipment", number, CUSTOMER_TOKEN, idempotency_key="k-1")
    retry = await door.act(handle.id, "shipment", number, CUSTOMER_TOKEN, idempotency_key="k-1")
    timeline = (await handle.query(ReturnWorkflow.status)).timeline

    assert first.status_code == retry.status_code == 200
    assert [e.event for e in timeline].count("reported the parcel as sent") == 1


SECOND_APP_TOKEN = "customer-app-two-token-00005"


async def test_two_apps_sending_the_same_request_and_key_are_two_requests(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    """The same cancel with the same key, from the customer's web app and then its phone app:
    the second is not answered with the first one's result, but with its own."""
    apps = SecretStr(f"web={CUSTOMER_TOKEN},ios={SECOND_APP_TOKEN}")
    settings = gateway_settings(harness.settings.task_queue, tmp_path, gateway_customer_tokens=apps)
    cancel = {"reason": "changed my mind"}
    async with open_door(harness.client, settings) as door:
        handle = await ready_for_choice(harness)
        first = await door.act(handle.id, "cancel", cancel, CUSTOMER_TOKEN, idempotency_key="1")
        second = await door.act(handle.id, "cancel", cancel, SECOND_APP_TOKEN, idempotency_key="1")
        retried = await door.act(handle.id, "cancel", cancel, CUSTOMER_TOKEN, idempotency_key="1")

    assert first.status_code == retried.status_code == 200
    assert first.json()["stage"] == ReturnStage.CANCELLED
    # Its own answer, not the first one's: the return is cancelled already.
    assert second.status_code == 409
    assert second.json()["error"]["code"] in {"refused", "return_ended"}


async def test_a_key_sent_again_with_another_action_or_body_is_another_request(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness)
    chosen = await door.act(handle.id, "method", DROP_OFF, CUSTOMER_TOKEN, idempotency_key="k-7")
    changed = await door.act(handle.id, "method", pickup(), CUSTOMER_TOKEN, idempotency_key="k-7")
    cancelled = await door.act(handle.id, "cancel", {}, CUSTOMER_TOKEN, idempotency_key="k-7")

    assert chosen.json()["stage"] == ReturnStage.AWAITING_DROP_OFF
    # The customer changed their mind: their own answer, not the drop-off's.
    assert changed.status_code == 200
    assert changed.json()["stage"] == ReturnStage.AWAITING_PICKUP
    assert cancelled.status_code == 200
    assert cancelled.json()["stage"] == ReturnStage.CANCELLED


async def test_a_reason_holding_control_characters_is_refused_naming_it(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness)
    reordered = {"reason": "changed my mind \u202e dnim ym degnahc"}
    cancel = await door.act(handle.id, "cancel", reordered, CUSTOMER_TOKEN)
    close = await door.act(
        handle.id, "attention", {"action": "close", "reason": "by phone\x00"}, OPERATIONS_TOKEN
    )

    assert (cancel.status_code, close.status_code) == (422, 422)
    (cancel_problem,) = cancel.json()["error"]["problems"]
    (close_problem,) = close.json()["error"]["problems"]
    assert cancel_problem.startswith("reason: Value error, holds U+202E at position 17")
    assert close_problem.startswith("reason: Value error, holds U+0000 at position 9")
    assert (await handle.query(ReturnWorkflow.status)).stage == ReturnStage.AWAITING_CUSTOMER_CHOICE


async def test_a_body_that_is_not_an_object_is_refused_as_the_body(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness)

    null = await door.act(handle.id, "cancel", b"null", CUSTOMER_TOKEN)
    not_json = await door.act(handle.id, "cancel", b"{not json", CUSTOMER_TOKEN)

    assert (null.status_code, not_json.status_code) == (422, 422)
    assert null.json()["error"]["problems"] == ["(body): Input should be an object"]
    assert not_json.json()["error"]["problems"][0].startswith("(body): Invalid JSON")


async def test_operations_close_a_return_and_the_timeline_names_them(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness)
    answer = await door.act(
        handle.id,
        "attention",
        {"action": "close", "reason": "customer withdrew by phone"},
        OPERATIONS_TOKEN,
    )
    customer_tries = await door.act(
        handle.id, "attention", {"action": "close", "reason": "let me"}, CUSTOMER_TOKEN
    )
    status = await door.status(handle.id, OPERATIONS_TOKEN)

    assert answer.status_code == 200
    assert answer.json()["stage"] == ReturnStage.CLOSED
    actors = [entry["actor"] for entry in status.json()["timeline"]]
    assert "operations:alice" in actors
    assert customer_tries.status_code == 403


async def test_an_action_still_running_after_the_wait_is_answered_202_and_carries_on(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    held = asyncio.Event()  # the carrier is slow to make the label
    doubles = Doubles(hold={"create_return_label": held})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        settings = gateway_settings(
            harness.settings.task_queue, tmp_path, gateway_update_wait_seconds=0.5
        )
        async with open_door(harness.client, settings) as door:
            handle: ReturnHandle = await ready_for_choice(harness)
            answer = await door.act(handle.id, "method", DROP_OFF, CUSTOMER_TOKEN)
            held.set()
            status = await harness.stage_reached(handle, ReturnStage.AWAITING_DROP_OFF)

    assert answer.status_code == 202
    assert answer.json()["update_id"]
    assert status.label is not None


async def test_the_status_is_read_by_the_apps_and_staff_but_not_by_other_sellers(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness)
    customer = await door.status(handle.id, CUSTOMER_TOKEN)
    seller = await door.status(handle.id, SELLER_TOKEN)  # this return is the token's seller's
    staff = await door.status(handle.id, OPERATIONS_TOKEN)
    anonymous = await door.status(handle.id, None)
    unknown = await door.status("return-NOPE-2", OPERATIONS_TOKEN)

    other = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
    not_theirs = await door.status(other.id, SELLER_TOKEN)

    assert customer.status_code == seller.status_code == staff.status_code == 200
    assert customer.json()["stage"] == ReturnStage.AWAITING_CUSTOMER_CHOICE
    assert customer.json()["return_id"] == handle.id
    assert anonymous.status_code == 401
    assert unknown.status_code == 404
    assert not_theirs.status_code == 403
