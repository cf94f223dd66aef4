"""With the customer binding required, the customer app says which customer it acts for, in a
signed assertion, and acts on that customer's returns only."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from temporalio.testing import WorkflowEnvironment

from domain.returns import ReturnStage
from gateway.customers import HEADER, customer_assertion
from plumbing.settings import Settings
from tests.factories import retract_event
from tests.gateway.door import CUSTOMER_TOKEN, OPERATIONS_TOKEN, Door, gateway_settings, open_door
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness
from workflows.return_workflow import ReturnWorkflow

APP_SECRET = "customer-app-assertion-secret-1"
OLD_APP_SECRET = "customer-app-assertion-secret-0"


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[ReturnHarness]:
    async with return_harness(time_skipping_env.client) as harness:
        yield harness


@pytest.fixture
async def door(harness: ReturnHarness, tmp_path: Path) -> AsyncIterator[Door]:
    settings = gateway_settings(
        harness.settings.task_queue,
        tmp_path,
        gateway_customer_binding="required",
        gateway_customer_assertion_secrets=SecretStr(f"{APP_SECRET},{OLD_APP_SECRET}"),
    )
    async with open_door(harness.client, settings) as door:
        yield door


async def customers_return(harness: ReturnHarness) -> tuple[ReturnHandle, str]:
    """A return waiting for its customer's choice, and that customer's ID."""
    event = retract_event()
    handle = await harness.start(event)
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    return handle, event.customer.customer_id


def drop_off() -> dict[str, Any]:
    return {"method": "post_office_drop_off", "carrier": "sandbox"}


async def choose(
    door: Door, return_id: str, assertion: dict[str, str] | None, token: str = CUSTOMER_TOKEN
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return await door.http.post(
        f"/v1/returns/{return_id}/method",
        content=json.dumps(drop_off()).encode(),
        headers=headers | (assertion or {}),
    )


async def read_status(door: Door, return_id: str, assertion: dict[str, str]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {CUSTOMER_TOKEN}"} | assertion
    return await door.http.get(f"/v1/returns/{return_id}", headers=headers)


async def test_the_app_acting_for_the_return_s_customer_chooses_and_reads_its_status(
    door: Door, harness: ReturnHarness
) -> None:
    handle, customer = await customers_return(harness)
    chosen = await choose(door, handle.id, customer_assertion(APP_SECRET, handle.id, customer))
    status = await read_status(door, handle.id, customer_assertion(APP_SECRET, handle.id, customer))
    under_old_secret = await read_status(
        door, handle.id, customer_assertion(OLD_APP_SECRET, handle.id, customer)
    )

    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["stage"] == ReturnStage.AWAITING_DROP_OFF
    assert status.status_code == under_old_secret.status_code == 200
    assert status.json()["return_id"] == handle.id


async def test_the_app_acting_for_another_customer_is_refused_and_nothing_changes(
    door: Door, harness: ReturnHarness
) -> None:
    handle, _customer = await customers_return(harness)
    stranger = customer_assertion(APP_SECRET, handle.id, "CUST-00001")
    chosen = await choose(door, handle.id, stranger)
    status = await read_status(door, handle.id, stranger)
    state = await handle.query(ReturnWorkflow.status)

    assert chosen.status_code == status.status_code == 403
    assert chosen.json()["error"]["code"] == status.json()["error"]["code"] == "not_your_return"
    assert chosen.json()["error"]["message"] == "This return is another customer's."
    assert "CUST-00001" not in chosen.text
    assert state.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE


def forged(return_id: str, customer: str) -> dict[str, str] | None:
    return customer_assertion("a-secret-the-gateway-never-had", return_id, customer)


def expired(return_id: str, customer: str) -> dict[str, str] | None:
    return customer_assertion(APP_SECRET, return_id, customer, lifetime_seconds=-1)


def for_ever(return_id: str, customer: str) -> dict[str, str] | None:
    return customer_assertion(APP_SECRET, return_id, customer, lifetime_seconds=365 * 86400)


def for_another_return(return_id: str, customer: str) -> dict[str, str] | None:
    return customer_assertion(APP_SECRET, f"{return_id}0", customer)


def tampered(return_id: str, customer: str) -> dict[str, str] | None:
    good = customer_assertion(APP_SECRET, return_id, customer)[HEADER]
    later = int(time.time()) + 600
    return {HEADER: good.replace(good.split(",")[1], f"expires={later}")}


def missing(return_id: str, customer: str) -> dict[str, str] | None:
    return None


@pytest.mark.parametrize(
    ("assertion", "why"),
    [
        (missing, "header is missing"),
        (forged, "signature does not match"),
        (tampered, "signature does not match"),
        (for_another_return, "signature does not match"),
        (expired, "has expired"),
        (for_ever, "expires more than 900 s ahead"),
    ],
    ids=["missing", "forged", "tampered", "another-return", "expired", "for-ever"],
)
async def test_an_assertion_the_gateway_cannot_believe_is_refused(
    door: Door, harness: ReturnHarness, assertion: Any, why: str
) -> None:
    handle, customer = await customers_return(harness)
    chosen = await choose(door, handle.id, assertion(handle.id, customer))

    assert chosen.status_code == 403
    assert chosen.json()["error"]["code"] == "not_your_return"
    assert why in chosen.json()["error"]["message"]


async def test_operations_and_an_unknown_return_are_answered_as_before(
    door: Door, harness: ReturnHarness
) -> None:
    handle, _customer = await customers_return(harness)
    staff = await door.status(handle.id, OPERATIONS_TOKEN)
    nowhere = "return-ORD-NOWHERE-1"
    unknown = await read_status(door, nowhere, customer_assertion(APP_SECRET, nowhere, "CUST-1"))

    assert staff.status_code == 200
    assert unknown.status_code == 404


def test_the_binding_cannot_be_required_without_a_secret_to_check_it() -> None:
    with pytest.raises(ValidationError, match="RETURNFLOW_GATEWAY_CUSTOMER_ASSERTION_SECRETS"):
        Settings(_env_file=None, gateway_customer_binding="required")
