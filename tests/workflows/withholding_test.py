"""Withholding the refund only as Art. 13(3) allows: a seller who never gives a return address
does not hold the refund past its deadline, and a collection the marketplace booked is no reason
to wait for the goods.

Time skipping on the dev server: `env.fast_forward(handle, duration)` moves one return's clock
to operations' decision and to the refund deadline.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.carriers import ReturnMethod
from domain.notices import NoticeKind
from domain.returns import (
    ActionResult,
    AttentionAction,
    AttentionReason,
    AttentionResolution,
    CancelRequest,
    RefundReason,
    ReturnAddressReply,
    ReturnMethodChoice,
    ReturnStage,
    ReturnStatus,
)
from domain.timings import ReturnTimings
from tests.factories import SELLER_ADDRESS, SELLER_WITHOUT_ADDRESS, eur, retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, DROP_OFF_ONLY, SANDBOX_OFFER, Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness, time_to
from tests.workflows.withheld import (
    cancelled_while_booking,
    change_taken_while_reminding,
    pickup_booked,
    priced_label_doubles,
    relay_refuses_reminders,
)
from workflows.return_workflow import ReturnWorkflow

MINUTE = dt.timedelta(minutes=1)


DECIDE = AttentionReason.REFUND_DUE_WITHOUT_ADDRESS
DROP_OFF = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")


def refund_due(status: ReturnStatus) -> dt.datetime:
    return status.refund_due_by


def ops(action: AttentionAction, **more: object) -> AttentionResolution:
    return AttentionResolution.model_validate(
        {"action": action, "by": "operations:agent-42", "reason": "seller unreachable", **more}
    )


async def without_an_address(harness: ReturnHarness) -> ReturnHandle:
    handle = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
    await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
    return handle


async def near_the_refund_deadline(
    env: WorkflowEnvironment, harness: ReturnHarness
) -> ReturnHandle:
    """A return whose seller never answered, once operations are asked to decide."""
    handle = await without_an_address(harness)
    before = ReturnTimings().refund_decision_before
    await env.fast_forward(handle, await time_to(handle, refund_due) - before + MINUTE)
    await harness.until_status(handle, lambda s: DECIDE in s.attention)
    return handle


async def test_operations_are_asked_to_decide_before_the_refund_deadline_and_give_a_fallback(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await near_the_refund_deadline(time_skipping_env, harness)
        asked = await handle.query(ReturnWorkflow.status)
        given = await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.GIVE_ADDRESS, address=SELLER_ADDRESS),
        )
        done = await harness.told(handle, NoticeKind.RETURN_ADDRESS)

    doubles = harness.doubles
    told = [n for n in doubles.notices if n.kind is NoticeKind.OPERATIONS_ATTENTION]
    assert told[-1].attention == DECIDE
    assert asked.stage is ReturnStage.AWAITING_RETURN_ADDRESS and asked.refund is None
    assert given.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE
    assert DECIDE not in given.attention
    assert doubles.notice_kinds[-1] is NoticeKind.RETURN_ADDRESS
    decided = [e for e in done.timeline if e.event == "decided: a fallback return address"]
    assert [e.actor for e in decided] == ["operations:agent-42"]
    assert doubles.refunds == [], "the goods can leave now: the refund waits for them"


async def test_operations_refund_without_a_return_and_the_customer_keeps_the_goods(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await near_the_refund_deadline(time_skipping_env, harness)
        await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.REFUND_WITHOUT_RETURN)
        )
        done = await handle.result()

    doubles = harness.doubles
    (refund,) = doubles.refunds
    assert refund.reason is RefundReason.WITHOUT_RETURN
    assert done.stage is ReturnStage.CLOSED and done.attention == []
    told = doubles.notices[-1]
    assert told.kind is NoticeKind.REFUND_BEFORE_RETURN and told.keeps_goods is True
    (decided,) = [e for e in done.timeline if e.event == "decided: a refund without a return"]
    assert decided.actor == "operations:agent-42"


async def test_nobody_deciding_the_refund_is_requested_at_its_deadline_and_the_return_goes_on(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await near_the_refund_deadline(time_skipping_env, harness)
        timings = ReturnTimings()
        await time_skipping_env.fast_forward(
            handle, timings.refund_decision_before - timings.refund_request_ahead + MINUTE
        )
        refunded = await harness.told(handle, NoticeKind.REFUND_BEFORE_RETURN)
        # The seller answers at last: the customer gets the address and sends the goods.
        await handle.execute_update(
            ReturnWorkflow.provide_return_address,
            ReturnAddressReply(address=SELLER_ADDRESS, given_by="seller"),
        )
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        await harness.scan(handle, ready.label.tracking_number)
        on_its_way = await harness.in_transit(handle)

    doubles = harness.doubles
    assert refunded.stage is ReturnStage.AWAITING_RETURN_ADDRESS
    assert refunded.refund is not None
    [asked] = [e for e in refunded.timeline if "refund deadline reached without" in e.event]
    assert asked.at < refunded.refund_due_by, "requested in time for it to be paid"
    assert len(doubles.refunds) == 1, "one refund"
    asked_again = [e for e in on_its_way.timeline if e.event.startswith("refund requested")]
    assert len(asked_again) == 1, "the dispatch does not ask for a refund already requested"
    assert on_its_way.refund is not None and refunded.refund is not None
    assert on_its_way.refund.refund_id == refunded.refund.refund_id
    told = next(n for n in doubles.notices if n.kind is NoticeKind.REFUND_BEFORE_RETURN)
    assert told.keeps_goods is False and told.return_address is None


QUIET = ReturnTimings(scan_overdue_after=dt.timedelta(days=30), late_parcel_watch=dt.timedelta(0))
"""No polling (time skipping waits while an activity is retried), no watch after expiry."""


async def refunded_before_its_collection(
    env: WorkflowEnvironment, harness: ReturnHarness
) -> tuple[ReturnHandle, ActionResult, ReturnStatus]:
    """A mailbox pickup booked whose scan never comes: the refund is requested ahead of its
    deadline, before the collection (the customer told so)."""
    handle, booked = await pickup_booked(harness)
    ahead = QUIET.refund_request_ahead
    await env.fast_forward(handle, await time_to(handle, refund_due) - ahead + MINUTE)
    return handle, booked, await harness.told(handle, NoticeKind.REFUND_BEFORE_RETURN)


async def test_a_booked_collection_still_to_come_does_not_hold_the_refund_past_its_deadline(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client, Doubles(timings=QUIET)) as harness:
        handle, booked, refunded = await refunded_before_its_collection(time_skipping_env, harness)
        with pytest.raises(WorkflowUpdateFailedError) as cancelling:
            await handle.execute_update(ReturnWorkflow.cancel, CancelRequest())
        # Nothing ever leaves: the return expires with the goods still at home.
        ahead = QUIET.refund_request_ahead
        await time_skipping_env.fast_forward(handle, ahead + QUIET.expiry_grace + MINUTE)
        expired = await harness.until_status(
            handle, lambda s: AttentionReason.REFUNDED_NOT_RETURNED in s.attention
        )

    doubles = harness.doubles
    assert refunded.stage is ReturnStage.AWAITING_PICKUP and refunded.refund is not None
    told = next(n for n in doubles.notices if n.kind is NoticeKind.REFUND_BEFORE_RETURN)
    assert told.pickup == booked.pickup
    cause = cancelling.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message.startswith("the refund is requested already")
    assert expired.stage is ReturnStage.EXPIRED
    assert doubles.notices_to("operations")[-1:] == [NoticeKind.OPERATIONS_ATTENTION]


async def test_a_customer_cancelling_while_the_seller_is_silent_ends_the_return_with_nothing_left(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Operations were told the seller gives no address; the customer cancels: the address is
    no longer needed, and nothing is left for operations."""
    timings = ReturnTimings()
    async with return_harness(time_skipping_env.client) as harness:
        handle = await without_an_address(harness)
        await time_skipping_env.fast_forward(
            handle, timings.seller_reminder_after + timings.escalate_after + MINUTE
        )
        await harness.until_status(
            handle, lambda s: AttentionReason.SELLER_ADDRESS_MISSING in s.attention
        )
        await handle.execute_update(ReturnWorkflow.cancel, CancelRequest(reason="changed my mind"))
        done = await handle.result()

    assert done.stage is ReturnStage.CANCELLED
    assert done.attention == []


async def test_a_label_whose_price_the_refund_withheld_is_not_voided_by_another_choice(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The refund was asked less the price of the label the customer has: another way of
    sending would void that label, and have them pay again at the counter."""
    doubles = Doubles(
        offers=[SANDBOX_OFFER, DROP_OFF_ONLY, COUNTER_LABEL_POST],
        label_prices={"sandbox": eur("6.25")},
        timings=QUIET,
    )
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, booked, _ = await refunded_before_its_collection(time_skipping_env, harness)
        with pytest.raises(WorkflowUpdateFailedError) as changing:
            await handle.execute_update(
                ReturnWorkflow.choose_return_method,
                ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo"),
            )
        # With the same label, at a post office: taken, the label kept.
        dropped_off = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)

    cause = changing.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message == (
        "method: your refund was requested less the price of the label you have: send the "
        "parcel with that label (a pickup or a drop-off with sandbox)"
    )
    assert dropped_off.label is not None and dropped_off.label == booked.label
    assert doubles.voided == []
    (refund,) = doubles.refunds
    assert refund.breakdown is not None and refund.breakdown.label == eur("6.25")


async def test_a_change_taken_before_the_refund_but_acted_on_after_it_keeps_the_label(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The validator takes the customer's change while no refund is asked; the loop, busy with
    a reminder the relay holds up, reaches the refund deadline first and asks the refund less
    the label. In its turn the change is refused, as the validator would now refuse it."""
    env = time_skipping_env
    doubles = priced_label_doubles(QUIET, relay_refuses_reminders)
    async with return_harness(env.client, doubles) as harness:
        handle, booked = await pickup_booked(harness)
        change = await change_taken_while_reminding(env, handle, QUIET.refund_request_ahead)
        await env.fast_forward(handle, 11 * MINUTE)  # the reminder gives up after 10
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await asyncio.wait_for(change.result(), timeout=30)
        after = await handle.query(ReturnWorkflow.status)

    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message.startswith("method: your refund was requested less the price")
    (refund,) = doubles.refunds
    assert refund.breakdown is not None and refund.breakdown.label == eur("6.25")
    assert doubles.voided == [] and after.label == booked.label
    assert after.stage is ReturnStage.AWAITING_PICKUP


async def test_a_cancel_refused_once_the_refund_was_asked_lets_the_held_label_email_go(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The customer books a pickup, then cancels while it is being booked: the label email is
    held for the cancel. The refund deadline comes meanwhile and the refund is asked, so the
    cancel is refused ("the goods are to be sent back"): the customer gets the label email."""
    env = time_skipping_env
    booking = asyncio.Event()
    doubles = Doubles(timings=QUIET, hold={"book_mailbox_pickup": booking})
    async with return_harness(env.client, doubles) as harness:
        handle = await harness.start(retract_event())
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        ahead = QUIET.refund_request_ahead
        await env.fast_forward(
            handle, await time_to(handle, refund_due) - ahead - dt.timedelta(seconds=15)
        )
        status = await handle.query(ReturnWorkflow.status)
        pickup_day = status.ship_by.astimezone(ZoneInfo("Europe/Paris")).date()
        choose, cancel = await cancelled_while_booking(handle, doubles, pickup_day)
        # The refund's moment passes while the pickup is booked: the workflow's clock does
        # not move while its activity runs, so real seconds pass.
        await asyncio.sleep(16)
        booking.set()
        booked = await asyncio.wait_for(choose.result(), timeout=30)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await asyncio.wait_for(cancel.result(), timeout=30)
        emailed = await harness.told(handle, NoticeKind.RETURN_LABEL)

    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message.startswith("the refund is requested already")
    assert emailed.stage is ReturnStage.AWAITING_PICKUP and emailed.label == booked.label
    sent = next(n for n in doubles.notices if n.kind is NoticeKind.RETURN_LABEL)
    assert sent.label == booked.label


async def test_operations_retrying_a_refused_change_once_the_label_was_withheld_are_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """A change the carrier refused waits for operations' retry; meanwhile the refund is asked
    less the price of the label the customer has: the retry would void that label, and is
    refused, as the customer's own change would be."""
    env = time_skipping_env
    failing = {"on": False}

    def faults(activity_name: str, key: str) -> ApplicationError | None:
        if failing["on"] and activity_name == "create_return_label":
            return ApplicationError("address refused", type="CarrierRejected", non_retryable=True)
        return None

    doubles = priced_label_doubles(QUIET, faults)
    async with return_harness(env.client, doubles) as harness:
        handle, booked = await pickup_booked(harness)
        await harness.told(handle, NoticeKind.RETURN_LABEL)
        failing["on"] = True
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                ReturnWorkflow.choose_return_method,
                ReturnMethodChoice(
                    method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="dropoff-only"
                ),
            )
        await harness.until_status(handle, lambda s: bool(s.attention))
        failing["on"] = False
        ahead = QUIET.refund_request_ahead
        await env.fast_forward(handle, await time_to(handle, refund_due) - ahead + MINUTE)
        await harness.told(handle, NoticeKind.REFUND_BEFORE_RETURN)
        with pytest.raises(WorkflowUpdateFailedError) as retried:
            await handle.execute_update(
                ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, reason="carrier fixed")
            )
        after = await handle.query(ReturnWorkflow.status)

    cause = retried.value.cause
    assert isinstance(cause, ApplicationError)
    assert "your refund was requested less the price of the label you have" in cause.message
    assert doubles.voided == [] and after.label == booked.label
