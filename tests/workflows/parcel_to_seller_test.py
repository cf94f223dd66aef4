"""After the proof of dispatch: the parcel followed to the seller, the seller told on delivery,
what came back reported and settled (Art. 14(2)), and a parcel that never arrives.

Time skipping on the dev server: `env.fast_forward(handle, duration)` moves one return's clock
past the inspection period or the delivery period when the test says.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.base import Money
from domain.carriers import ReturnMethod, TrackingStatus
from domain.inspection import InspectionOutcome, InspectionReport
from domain.notices import NoticeKind
from domain.returns import (
    AttentionAction,
    AttentionReason,
    AttentionResolution,
    ReturnMethodChoice,
    ReturnStage,
)
from domain.timings import RefundTrigger, ReturnTimings
from tests.factories import retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness
from workflows.return_workflow import ReturnWorkflow

DROP_OFF = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")
DAY = dt.timedelta(days=1)
EVIDENCE = ["https://sellers.example/evidence/EV-77", "DOC-2291"]


def damaged(amount: str = "60.00", currency: str = "EUR") -> InspectionReport:
    return InspectionReport(
        outcome=InspectionOutcome.DAMAGED,
        reported_by="seller",
        deduction=Money(amount=Decimal(amount), currency=currency),
        reason="Deep scratch across the screen, not there at sale",
        evidence=EVIDENCE,
    )


AS_SOLD = InspectionReport(outcome=InspectionOutcome.AS_SOLD, reported_by="seller")


def ops(action: AttentionAction, reason: str = "photos checked") -> AttentionResolution:
    return AttentionResolution(action=action, by="operations:agent-42", reason=reason)


async def picked_up(harness: ReturnHarness) -> tuple[ReturnHandle, str]:
    """A drop-off the carrier has accepted: the refund requested, the parcel on its way."""
    handle = await harness.start(retract_event())
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
    assert ready.label is not None
    await harness.scan(handle, ready.label.tracking_number)
    await harness.until_status(handle, lambda s: s.refund is not None)
    return handle, ready.label.tracking_number


async def delivered(harness: ReturnHarness) -> ReturnHandle:
    handle, parcel = await picked_up(harness)
    await harness.scan(handle, parcel, TrackingStatus.DELIVERED)
    await harness.until_status(handle, lambda s: s.inspection is not None)
    return handle


async def refused(handle: ReturnHandle, update: object, arg: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(update, arg)  # type: ignore[call-overload]
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.message


async def test_a_parcel_delivered_and_reported_as_sold_completes_the_return(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle, parcel = await picked_up(harness)
        on_its_way = await handle.query(ReturnWorkflow.status)
        await harness.scan(handle, parcel, TrackingStatus.DELIVERED)
        back = await harness.stage_reached(handle, ReturnStage.DELIVERED)
        answer = await handle.execute_update(ReturnWorkflow.report_inspection, AS_SOLD)
        done = await handle.result()

    doubles = harness.doubles
    # The refund went at the proof of dispatch (Art. 13(3)); the return went on to the seller.
    assert on_its_way.stage is ReturnStage.PICKED_UP and on_its_way.refund is not None
    assert len(doubles.refunds) == 1
    assert doubles.notice_kinds[-3:] == [
        NoticeKind.PICKUP_CONFIRMED,
        NoticeKind.SELLER_PARCEL_INBOUND,
        NoticeKind.SELLER_PARCEL_DELIVERED,
    ]
    told = doubles.notices[-1]
    assert back.inspection is not None
    assert told.inspection_due_by == back.inspection.due_by
    assert answer.stage is ReturnStage.DELIVERED
    assert done.stage is ReturnStage.DELIVERED and done.attention == []
    assert done.inspection is not None and done.inspection.report == AS_SOLD
    assert doubles.claims == []


async def test_a_seller_silent_through_the_inspection_period_means_as_sold(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await delivered(harness)
        await time_skipping_env.fast_forward(handle, ReturnTimings().inspection_period + DAY)
        done = await handle.result()

    assert done.stage is ReturnStage.DELIVERED and done.attention == []
    assert done.inspection is not None and done.inspection.report is None
    assert any("taken as sold" in e.event for e in done.timeline)


async def test_a_deduction_approved_after_the_refund_is_claimed_and_told_with_its_reason(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await delivered(harness)
        reported = await handle.execute_update(ReturnWorkflow.report_inspection, damaged())
        waiting = await handle.query(ReturnWorkflow.status)
        # Past the inspection period, the report stands and waits for operations.
        await time_skipping_env.fast_forward(handle, ReturnTimings().inspection_period + DAY)
        still = await handle.query(ReturnWorkflow.status)
        await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.APPROVE_DEDUCTION)
        )
        done = await handle.result()

    doubles = harness.doubles
    assert reported.attention == [AttentionReason.DEDUCTION_TO_APPROVE]
    assert waiting.stage is still.stage is ReturnStage.DELIVERED
    assert still.attention == [AttentionReason.DEDUCTION_TO_APPROVE]
    assert doubles.notices_to("operations")[-1:] == [NoticeKind.OPERATIONS_ATTENTION]
    (claim,) = doubles.claims
    (refund,) = doubles.refunds
    assert claim.amount == Money(amount=Decimal("60.00"), currency="EUR")
    assert claim.outcome is InspectionOutcome.DAMAGED
    assert claim.evidence == EVIDENCE and claim.approved_by == "operations:agent-42"
    assert claim.idempotency_key == f"{handle.id}:claim:1"
    assert done.refund is not None and claim.refund_id == done.refund.refund_id
    assert refund.amount.amount > claim.amount.amount
    told = doubles.notices[-1]
    assert told.kind is NoticeKind.DEDUCTION_APPROVED
    assert told.inspection == damaged() and told.refund == done.refund
    assert done.inspection is not None and done.inspection.deduction_decision == "approved"
    assert done.inspection.claim is not None and done.attention == []


async def test_a_deduction_declined_leaves_the_refund_whole_and_the_customer_untold(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await delivered(harness)
        await handle.execute_update(ReturnWorkflow.report_inspection, damaged())
        await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.DECLINE_DEDUCTION)
        )
        done = await handle.result()

    assert harness.doubles.claims == []
    assert NoticeKind.DEDUCTION_APPROVED not in harness.doubles.notice_kinds
    assert done.inspection is not None and done.inspection.deduction_decision == "declined"
    assert done.attention == []


async def test_a_report_that_does_not_fit_the_refund_or_comes_twice_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle, _parcel = await picked_up(harness)
        approve = ops(AttentionAction.APPROVE_DEDUCTION)
        no_deduction = await refused(handle, ReturnWorkflow.resolve_attention, approve)
        too_much = await refused(handle, ReturnWorkflow.report_inspection, damaged("5000.00"))
        other_money = await refused(
            handle, ReturnWorkflow.report_inspection, damaged("10.00", "GBP")
        )
        await handle.execute_update(ReturnWorkflow.report_inspection, damaged())
        twice = await refused(handle, ReturnWorkflow.report_inspection, AS_SOLD)
        await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.DECLINE_DEDUCTION)
        )
        done = await handle.result()

    assert "no deduction awaits approval" in no_deduction
    assert too_much.startswith("deduction.amount: at most the refund, 429.00 EUR")
    assert other_money.startswith("deduction.currency: the refund is in EUR")
    assert "the inspection was already reported (damaged)" in twice
    # A report with no delivery scan yet: the seller has the parcel.
    assert done.stage is ReturnStage.DELIVERED
    assert any("no delivery scan" in e.event for e in done.timeline)


async def test_a_device_still_locked_is_left_to_operations_with_both_sides(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    locked = InspectionReport(
        outcome=InspectionOutcome.STILL_LOCKED,
        reported_by="operations:agent-7",
        reason="Activation lock on at reception",
    )
    async with return_harness(time_skipping_env.client) as harness:
        handle = await delivered(harness)
        answer = await handle.execute_update(ReturnWorkflow.report_inspection, locked)
        # The return has ended, with the dispute left for operations to settle.
        left = await harness.until_status(
            handle, lambda s: any(e.event.endswith("→ ended_with_problems") for e in s.timeline)
        )
        await handle.execute_update(ReturnWorkflow.resolve_attention, ops(AttentionAction.CLOSE))
        done = await handle.result()

    assert answer.attention == [AttentionReason.INSPECTION_DISPUTE]
    assert left.attention == [AttentionReason.INSPECTION_DISPUTE]
    assert harness.doubles.notices[-1].attention == AttentionReason.INSPECTION_DISPUTE
    assert harness.doubles.notices[-1].detail == "Activation lock on at reception"
    assert done.stage is ReturnStage.DELIVERED and done.attention == []


async def test_a_parcel_never_delivered_is_taken_as_lost_and_both_are_told(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle, _parcel = await picked_up(harness)
        await time_skipping_env.fast_forward(handle, ReturnTimings().delivery_overdue + DAY)
        lost = await harness.until_status(handle, lambda s: bool(s.attention))
        await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.CLOSE, "carrier paid the claim")
        )
        done = await handle.result()

    doubles = harness.doubles
    assert lost.stage is ReturnStage.PICKED_UP
    assert lost.attention == [AttentionReason.PARCEL_LOST]
    customer, operations = doubles.notices[-2:]
    assert customer.kind is NoticeKind.PARCEL_NOT_DELIVERED
    assert customer.attention == AttentionReason.PARCEL_LOST and customer.refund is not None
    assert operations.attention == AttentionReason.PARCEL_LOST
    assert done.stage is ReturnStage.PICKED_UP and done.attention == []


async def test_a_parcel_sent_back_to_the_customer_after_leaving_raises_attention(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle, parcel = await picked_up(harness)
        await harness.scan(handle, parcel, TrackingStatus.RETURNED_TO_SENDER)
        # Attention is raised as the emails are handed on: wait for them to go out.
        back = await harness.told(handle, NoticeKind.PARCEL_NOT_DELIVERED)

    assert back.attention == [AttentionReason.PARCEL_RETURNED]
    customer = harness.doubles.notices[-2]
    assert customer.kind is NoticeKind.PARCEL_NOT_DELIVERED
    assert customer.attention == AttentionReason.PARCEL_RETURNED


async def test_refund_on_delivery_is_requested_on_delivery_then_the_seller_inspects(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(timings=ReturnTimings(refund_trigger=RefundTrigger.DELIVERY))
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await harness.start(retract_event())
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        await harness.scan(handle, ready.label.tracking_number)
        await harness.stage_reached(handle, ReturnStage.PICKED_UP)
        assert doubles.refunds == []
        await harness.scan(handle, ready.label.tracking_number, TrackingStatus.DELIVERED)
        back = await harness.until_status(handle, lambda s: s.refund is not None)
        await handle.execute_update(ReturnWorkflow.report_inspection, AS_SOLD)
        done = await handle.result()

    assert back.stage is ReturnStage.DELIVERED and len(doubles.refunds) == 1
    assert doubles.notice_kinds[-2:] == [
        NoticeKind.REFUND_REQUESTED,
        NoticeKind.SELLER_PARCEL_DELIVERED,
    ]
    assert done.stage is ReturnStage.DELIVERED


async def test_on_a_carrier_without_webhooks_the_delivery_is_found_by_polling(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    timings = ReturnTimings(scan_overdue_after=dt.timedelta(hours=6))
    doubles = Doubles(offers=[COUNTER_LABEL_POST], timings=timings)  # polled, no webhooks
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await harness.start(retract_event())
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        ready = await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="colissimo"),
        )
        assert ready.label is not None
        parcel = ready.label.tracking_number
        await harness.scan(handle, parcel)  # the customer's counter receipt, say
        await harness.until_status(handle, lambda s: s.refund is not None)
        # The carrier delivers; nothing tells the return but the carrier's own tracking.
        doubles.carrier_scanned(parcel, TrackingStatus.DELIVERED)
        await time_skipping_env.fast_forward(handle, dt.timedelta(hours=7))
        back = await harness.until_status(handle, lambda s: s.inspection is not None)

    assert back.stage is ReturnStage.DELIVERED
    assert [p.tracking_number for p in doubles.polls][-1:] == [parcel]
    assert doubles.notice_kinds[-1] is NoticeKind.SELLER_PARCEL_DELIVERED
