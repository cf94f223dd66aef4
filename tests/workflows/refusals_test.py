"""The refusals the message table of docs/contracts.md promises, in its words: what the customer,
the seller or operations read when a message does not apply (the rest of the table is checked
beside each path in `lifecycle_test.py` and `return_workflow_test.py`)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from domain.calendar import next_pickup_date
from domain.carriers import ReturnMethod
from domain.returns import (
    AttentionAction,
    AttentionResolution,
    ReturnMethodChoice,
    ReturnStage,
    ShipmentReport,
)
from tests.factories import SELLER_ADDRESS, retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, SANDBOX_OFFER, Doubles
from tests.workflows.harness import return_harness
from tests.workflows.lifecycle_test import DROP_OFF, choosing, ops, refused
from workflows.return_workflow import ReturnWorkflow

DAY = dt.timedelta(days=1)


async def test_operations_cannot_accept_a_return_that_is_not_rejected_even_one_they_accepted(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    override = ops(AttentionAction.OVERRIDE_ELIGIBILITY, "defect reported by phone")
    async with return_harness(time_skipping_env.client) as harness:
        accepted = await choosing(harness)
        never_rejected = await refused(accepted, ReturnWorkflow.resolve_attention, override)
        rejected = await harness.start(retract_event(ordered_days_before_notice=45))
        await harness.stage_reached(rejected, ReturnStage.REJECTED)
        await rejected.execute_update(ReturnWorkflow.resolve_attention, override)
        await harness.stage_reached(rejected, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        twice = await refused(rejected, ReturnWorkflow.resolve_attention, override)

    assert (
        never_rejected
        == twice
        == (
            "action: only a rejected return in its review period, or one awaiting review, can "
            "be accepted (stage: awaiting_customer_choice)"
        )
    )


async def test_a_pickup_after_the_shipping_deadline_is_refused_naming_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        status = await handle.query(ReturnWorkflow.status)
        after = next_pickup_date(status.ship_by + DAY)  # a carrier's working day, too late
        late = await refused(
            handle,
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(
                method=ReturnMethod.MAILBOX_PICKUP, carrier="sandbox", pickup_date=after
            ),
        )

    assert late.startswith("pickup_date: must be on or before the shipping deadline")


async def test_a_reported_number_that_is_not_the_returns_parcel_is_refused_naming_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        other = await refused(
            handle, ReturnWorkflow.report_shipment, ShipmentReport(tracking_number="SB999999999FR")
        )

    assert ready.label is not None
    assert other == f"tracking_number: this return's parcel is {ready.label.tracking_number}"


async def test_a_counter_number_in_another_carriers_format_is_refused_saying_what_it_expects(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(offers=[SANDBOX_OFFER, COUNTER_LABEL_POST])
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo"),
        )
        mistyped = await refused(
            handle, ReturnWorkflow.report_shipment, ShipmentReport(tracking_number="SB12345678")
        )

    assert mistyped == (
        "tracking_number: is not a colissimo tracking number: expected 13 characters like "
        "6A12345678901 or CB123456789FR"
    )


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda: ReturnMethodChoice(method=ReturnMethod.MAILBOX_PICKUP, carrier="sandbox"),
            "pickup_date is required for a mailbox_pickup",
        ),
        (
            lambda: ReturnMethodChoice(
                method=ReturnMethod.POST_OFFICE_DROP_OFF,
                carrier="sandbox",
                pickup_date=dt.date(2026, 12, 1),
            ),
            "pickup_date and pickup_address are only for a mailbox_pickup",
        ),
        (
            lambda: AttentionResolution(
                action=AttentionAction.GIVE_ADDRESS, by="operations:agent-42", reason="by phone"
            ),
            "address is required for give_address",
        ),
        (
            lambda: AttentionResolution(
                action=AttentionAction.RETRY,
                by="operations:agent-42",
                reason="by phone",
                address=SELLER_ADDRESS,
            ),
            "address is only for give_address",
        ),
    ],
    ids=["pickup-without-date", "drop-off-with-date", "address-missing", "address-not-for-retry"],
)
def test_a_message_that_does_not_fit_its_model_is_refused_before_it_is_sent(
    make: object, words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        make()  # type: ignore[operator]
