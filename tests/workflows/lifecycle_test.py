"""The whole life of a return beyond the happy path: every branch and every clock.

Time skipping on the dev server: `env.fast_forward(handle, duration)` moves one return's clock
on, so the seller's reminder, the polling fallback and the shipping deadline fire when the
test says, not after days.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateHandle, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.failures import carrier_rejected, carrier_unavailable
from domain import search_attributes as sa
from domain.calendar import collection_days, next_pickup_date
from domain.carriers import Label, ReturnMethod, TrackingStatus
from domain.events import OrderStatus, RetractEvent
from domain.notices import NoticeKind, SellerChatKind
from domain.periods import calendar_for, period_end
from domain.returns import (
    ActionResult,
    AttentionAction,
    AttentionResolution,
    CancelRequest,
    RefundReason,
    RejectionReason,
    ReturnAddressReply,
    ReturnMethodChoice,
    ReturnStage,
    ReturnStatus,
    ShipmentReport,
    ShippingReminder,
)
from domain.timings import RefundTrigger, ReturnTimings
from tests.factories import SELLER_ADDRESS, SELLER_WITHOUT_ADDRESS, retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, SANDBOX_OFFER, Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness, time_to
from workflows.return_workflow import ReturnWorkflow

DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)


def expiry_of(status: ReturnStatus) -> dt.datetime | None:
    return status.expires_at


def mailbox_pickup(carrier: str = "sandbox", day: dt.date | None = None) -> ReturnMethodChoice:
    return ReturnMethodChoice(
        method=ReturnMethod.MAILBOX_PICKUP,
        carrier=carrier,
        pickup_date=day or next_pickup_date(dt.datetime.now(dt.UTC)),
    )


DROP_OFF = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")


def ops(action: AttentionAction, reason: str = "checked with the seller", **more: object):  # type: ignore[no-untyped-def]
    return AttentionResolution(action=action, by="operations:agent-42", reason=reason, **more)  # type: ignore[arg-type]


async def refused(
    handle: ReturnHandle, update: object, arg: object, kind: str | None = None
) -> str:
    """The sentence an update is refused with (and, given `kind`, the refusal's type)."""
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(update, arg)  # type: ignore[call-overload]
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    if kind is not None:
        assert cause.type == kind, cause
    return cause.message


def said(status: ReturnStatus, actor: str, event: str) -> bool:
    """Whether the return's timeline, as operations read it, has this entry."""
    return any(entry.actor == actor and entry.event == event for entry in status.timeline)


async def choosing(harness: ReturnHarness, **event_args: object) -> ReturnHandle:
    handle = await harness.start(retract_event(**event_args))  # type: ignore[arg-type]
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    return handle


async def label_being_made(
    harness: ReturnHarness,
) -> tuple[ReturnHandle, WorkflowUpdateHandle[ActionResult]]:
    """A return whose customer chose a drop-off, its label in the carrier's hands: the doubles
    hold `create_return_label` (`Doubles(hold=...)`) until the test lets it answer."""
    handle = await choosing(harness)
    choice = await handle.start_update(
        ReturnWorkflow.choose_return_method, DROP_OFF, wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    async with asyncio.timeout(10):
        await harness.doubles.in_flight("create_return_label").wait()
    return handle, choice


# --- The happy path and its notices ---------------------------------------------------------


async def test_a_return_goes_from_withdrawal_to_refund_with_every_notice(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(
            ReturnWorkflow.choose_return_method, mailbox_pickup(), id="the-customers-choice"
        )
        assert booked.label is not None
        await harness.scan(handle, booked.label.tracking_number)
        done = await harness.in_transit(handle)

    doubles = harness.doubles
    assert done.stage is ReturnStage.PICKED_UP
    # The address was on file: one email is both the acknowledgement and the instructions.
    assert doubles.notice_kinds == [
        NoticeKind.RETURN_ADDRESS,
        NoticeKind.RETURN_LABEL,
        NoticeKind.PICKUP_CONFIRMED,
        NoticeKind.SELLER_PARCEL_INBOUND,
    ]
    assert doubles.notices[0].acknowledges is True
    assert doubles.notices[0].locator_carrier == "sandbox"
    assert said(done, "system", "seller's return address found on file")
    (refund,) = doubles.refunds
    assert refund.reason is RefundReason.WITHDRAWAL
    assert refund.idempotency_key == f"{handle.id}:refund:1"
    # The end of the 14 days after the notice, in the customer's days (Regulation 1182/71).
    lyon = calendar_for("FR", done.notice_at, done.notice_at)
    in_days = period_end(done.notice_at, 14, lyon)
    assert refund.due_by == done.refund_due_by == in_days
    assert done.refund is not None and doubles.notices[2].refund == done.refund
    assert done.expires_at is not None and done.expires_at >= done.ship_by
    actors = {entry.actor for entry in done.timeline}
    assert {"customer", "system", "carrier:sandbox"} <= actors
    # Operations find the update an entry answers: the choice's own entry names it.
    (choice,) = [e for e in done.timeline if e.update_id == "the-customers-choice"]
    assert (choice.actor, choice.event) == ("customer", "chose mailbox_pickup with sandbox")


async def test_refund_waits_for_delivery_when_so_configured(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(timings=ReturnTimings(refund_trigger=RefundTrigger.DELIVERY))
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        await harness.scan(handle, ready.label.tracking_number)
        in_transit = await harness.stage_reached(handle, ReturnStage.PICKED_UP)
        assert doubles.refunds == []
        await harness.scan(handle, ready.label.tracking_number, TrackingStatus.DELIVERED)
        done = await harness.to_the_end(time_skipping_env, handle)

    assert in_transit.refund is None
    assert done.stage is ReturnStage.DELIVERED and done.refund is not None
    assert doubles.notice_kinds[-4:] == [
        NoticeKind.PICKUP_CONFIRMED,
        NoticeKind.SELLER_PARCEL_INBOUND,
        NoticeKind.REFUND_REQUESTED,
        NoticeKind.SELLER_PARCEL_DELIVERED,
    ]


async def on_its_way_to_the_seller(harness: ReturnHarness) -> tuple[ReturnHandle, str]:
    """A drop-off the carrier has accepted (refund on delivery: the return stays open); the
    parcel's tracking number."""
    handle = await choosing(harness)
    ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
    assert ready.label is not None
    await harness.scan(handle, ready.label.tracking_number)
    await harness.stage_reached(handle, ReturnStage.PICKED_UP)
    return handle, ready.label.tracking_number


async def test_the_refund_asked_for_is_the_price_and_the_standard_delivery_part_by_part(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Express delivery paid €14.90 where the standard cost €4.90: the refund is the device's
    €429.00 and the standard €4.90 (Art. 13(1) and (2)), told to the customer part by part."""
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness, delivery_paid="14.90", standard_delivery="4.90")
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        await harness.scan(handle, ready.label.tracking_number)
        done = await harness.in_transit(handle)

    (refund,) = harness.doubles.refunds
    assert refund.amount.amount == Decimal("433.90")
    assert refund.breakdown is not None
    assert (refund.breakdown.goods.amount, refund.breakdown.delivery.amount) == (
        Decimal("429.00"),
        Decimal("4.90"),
    )
    assert done.refund is not None and done.refund.amount == refund.amount
    told = next(n for n in harness.doubles.notices if n.kind is NoticeKind.PICKUP_CONFIRMED)
    assert told.refund == done.refund and told.order.delivery_paid is not None


async def test_refund_on_delivery_is_requested_in_time_to_be_paid_by_the_legal_deadline(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    timings = ReturnTimings(refund_trigger=RefundTrigger.DELIVERY)
    doubles = Doubles(timings=timings)
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, _parcel = await on_its_way_to_the_seller(harness)
        refund_deadline = await time_to(handle, lambda s: s.refund_due_by)
        ahead = refund_deadline - timings.refund_request_ahead
        await time_skipping_env.fast_forward(handle, ahead + MINUTE)
        done = await harness.told(handle, NoticeKind.REFUND_REQUESTED)

    assert done.stage is ReturnStage.PICKED_UP, "dispatch proven, goods not back yet"
    assert done.refund is not None
    assert doubles.notice_kinds[-1] is NoticeKind.REFUND_REQUESTED
    [asked] = [e for e in done.timeline if "refund deadline" in e.event]
    assert asked.at <= done.refund_due_by - timings.refund_request_ahead + MINUTE
    assert doubles.refunds[-1].due_by == done.refund_due_by, "the order service knows the day"


# --- Eligibility ----------------------------------------------------------------------------


async def test_an_order_not_shipped_yet_is_cancelled_and_the_seller_told_to_stop_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(retract_event(status=OrderStatus.AWAITING_SHIPMENT))
        done = await handle.result()

    assert done.stage is ReturnStage.CANCELLED_BEFORE_SHIPMENT
    assert said(done, "system", "order not shipped yet: cancelled instead of returned")
    assert harness.doubles.notice_kinds == [
        NoticeKind.SELLER_STOP_SHIPMENT,
        NoticeKind.CANCELLATION_CONFIRMED,
    ]
    (refund,) = harness.doubles.refunds
    assert refund.reason is RefundReason.CANCELLED_BEFORE_SHIPMENT
    assert harness.doubles.labels == []


@pytest.mark.parametrize(
    ("event_args", "reason"),
    [
        ({"status": OrderStatus.RETURN_IN_PROGRESS}, RejectionReason.ALREADY_BEING_RETURNED),
        ({"status": OrderStatus.RETURNED}, RejectionReason.ALREADY_RETURNED),
        ({"returnable": False}, RejectionReason.NOT_RETURNABLE),
        ({"ordered_days_before_notice": 45}, RejectionReason.OUTSIDE_RETURN_WINDOW),
    ],
    ids=lambda v: getattr(v, "value", ""),
)
async def test_a_rejection_names_its_reason_and_closes_after_the_review_period(
    time_skipping_env: WorkflowEnvironment,
    event_args: dict[str, object],
    reason: RejectionReason,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(retract_event(**event_args))  # type: ignore[arg-type]
        await harness.stage_reached(handle, ReturnStage.REJECTED)
        still_open = await handle.describe()
        await time_skipping_env.fast_forward(handle, 14 * DAY + dt.timedelta(minutes=1))
        done = await handle.result()

    assert still_open.status is not None and still_open.status.name == "RUNNING"
    assert done.stage is ReturnStage.REJECTED
    assert done.eligibility is not None and done.eligibility.reason is reason
    assert done.eligibility.explanation
    assert said(done, "system", "review period over: the return ends rejected")
    assert harness.doubles.notice_kinds == [NoticeKind.REJECTION]
    assert harness.doubles.refunds == []


def with_unknown_status() -> RetractEvent:
    """A withdrawal from an order whose status the order service added after this version."""
    event = retract_event()
    return event.model_copy(
        update={"order": event.order.model_copy(update={"status": "lost_in_warehouse"})}
    )


async def test_an_unknown_order_status_waits_for_operations_reminding_them_never_rejected(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(with_unknown_status())
        waiting = await harness.stage_reached(handle, ReturnStage.AWAITING_REVIEW)
        flagged = (await handle.describe()).typed_search_attributes
        # Two review periods pass: nobody decided, so nothing is decided.
        await time_skipping_env.fast_forward(handle, 14 * DAY + MINUTE)
        await time_skipping_env.fast_forward(handle, 14 * DAY + MINUTE)
        later = await harness.until_status(
            handle,
            lambda s: said(
                s, "system", "order status still unknown: operations reminded (email 3)"
            ),
        )
        running = await handle.describe()
        closed = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.CLOSE, "order lost, refunded")
        )
        done = await handle.result()

    assert waiting.eligibility is not None
    assert waiting.eligibility.reason is RejectionReason.UNKNOWN_ORDER_STATUS
    assert waiting.attention == ["eligibility_unknown_order_status"]
    assert flagged.get(sa.NEEDS_ATTENTION) is True
    assert flagged.get(sa.ATTENTION_REASONS) == ["eligibility_unknown_order_status"]
    assert flagged.get(sa.RETURN_STAGE) == "awaiting_review"
    assert later.stage is ReturnStage.AWAITING_REVIEW, "no timer turns it into a rejection"
    assert running.status is not None and running.status.name == "RUNNING"
    assert harness.doubles.notice_kinds == [
        NoticeKind.REJECTION,  # "customer service looks into it", with the request's date
        NoticeKind.OPERATIONS_ATTENTION,
        NoticeKind.OPERATIONS_ATTENTION,
        NoticeKind.OPERATIONS_ATTENTION,
    ]
    reminders = [n for n in harness.doubles.notices if n.kind is NoticeKind.OPERATIONS_ATTENTION]
    assert {n.attention for n in reminders} == {"eligibility_unknown_order_status"}
    assert [n.revision for n in reminders] == [1, 2, 3], "three emails, three Message-IDs"
    assert closed.stage is ReturnStage.CLOSED
    assert done.stage is ReturnStage.CLOSED and done.attention == []


async def test_a_withdrawal_awaiting_review_is_accepted_by_operations_at_any_time(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(with_unknown_status())
        await harness.stage_reached(handle, ReturnStage.AWAITING_REVIEW)
        await time_skipping_env.fast_forward(handle, 20 * DAY)  # past a review period
        reason = "the order service's new status means delivered"
        accepted = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.OVERRIDE_ELIGIBILITY, reason)
        )
        choosing_now = await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)

    assert accepted.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE
    assert choosing_now.attention == []
    assert choosing_now.eligibility is not None
    assert choosing_now.eligibility.overridden_by == "operations:agent-42"
    # The customer has 14 days from the address email that went out on acceptance.
    assert choosing_now.ship_by > choosing_now.notice_at + 20 * DAY


async def test_operations_can_override_a_rejection_with_a_reason(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(retract_event(ordered_days_before_notice=45))
        await harness.stage_reached(handle, ReturnStage.REJECTED)
        reason = "customer reported the defect by phone within the window"
        status = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.OVERRIDE_ELIGIBILITY, reason)
        )
        waiting = await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        await harness.told(handle, NoticeKind.RETURN_ADDRESS)

    assert status.stage is not ReturnStage.REJECTED
    assert waiting.eligibility is not None and waiting.eligibility.accepted
    assert waiting.eligibility.overridden_by == "operations:agent-42"
    assert any(e.actor == "operations:agent-42" and reason in e.event for e in waiting.timeline)
    assert harness.doubles.notice_kinds == [NoticeKind.REJECTION, NoticeKind.RETURN_ADDRESS]


async def test_operations_close_a_rejected_return_in_its_review_period(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(retract_event(ordered_days_before_notice=45))
        await harness.stage_reached(handle, ReturnStage.REJECTED)
        closed = await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.CLOSE, "customer agreed to keep the phone"),
        )
        done = await handle.result()

    assert closed.stage is ReturnStage.CLOSED and done.stage is ReturnStage.CLOSED
    entry = next(e for e in done.timeline if "agreed to keep the phone" in e.event)
    assert entry.actor == "operations:agent-42"
    # The customer was told of the rejection; the close itself emails nobody.
    assert harness.doubles.notice_kinds == [NoticeKind.REJECTION]
    assert harness.doubles.refunds == []


# --- The seller's address -------------------------------------------------------------------


async def test_a_silent_seller_is_asked_reminded_then_escalated_to_operations(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    timings = ReturnTimings(seller_reminder_after=2 * DAY, escalate_after=2 * DAY)
    async with return_harness(time_skipping_env.client, Doubles(timings=timings)) as harness:
        handle = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
        asked = await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
        await until(harness, lambda d: len(d.chat) == 1)
        await time_skipping_env.fast_forward(handle, 2 * DAY + dt.timedelta(minutes=1))
        await until(harness, lambda d: len(d.chat) == 2)
        reminded = await handle.query(ReturnWorkflow.status)
        await time_skipping_env.fast_forward(handle, 2 * DAY + dt.timedelta(minutes=1))
        await until(harness, lambda d: NoticeKind.OPERATIONS_ATTENTION in d.notice_kinds)
        escalated = await handle.query(ReturnWorkflow.status)
        flagged = (await handle.describe()).typed_search_attributes
        await handle.execute_update(
            ReturnWorkflow.provide_return_address,
            ReturnAddressReply(address=SELLER_ADDRESS, given_by="seller"),
        )
        waiting = await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        await harness.told(handle, NoticeKind.RETURN_ADDRESS)

    doubles = harness.doubles
    assert [m.kind for m in doubles.chat] == [
        SellerChatKind.ADDRESS_REQUEST,
        SellerChatKind.ADDRESS_REMINDER,
    ]
    assert asked.attention == [] and reminded.attention == []
    assert escalated.attention == ["seller_return_address_missing"]
    assert said(escalated, "system", "the seller has not answered: escalated to operations")
    assert flagged.get(sa.NEEDS_ATTENTION) is True
    # Staff list the returns waiting on one reason: AttentionReasons = "...".
    assert flagged.get(sa.ATTENTION_REASONS) == ["seller_return_address_missing"]
    assert waiting.attention == []
    assert doubles.notice_kinds == [
        NoticeKind.ACKNOWLEDGEMENT,  # at once, whatever the seller does (Art. 11(3))
        NoticeKind.OPERATIONS_ATTENTION,
        NoticeKind.RETURN_ADDRESS,
    ]
    assert doubles.notices[-1].acknowledges is False
    # The customer gets the full shipping period from the moment they know where to send:
    # one ship-by, in the status, the search attribute and the emails.
    assert waiting.ship_by > waiting.notice_at + 14 * DAY
    assert waiting.expires_at == waiting.ship_by + timings.expiry_grace
    assert doubles.notices[-1].ship_by == waiting.ship_by
    shown = (await handle.describe()).typed_search_attributes.get(sa.SHIP_BY)
    assert shown == waiting.ship_by


async def test_operations_give_the_address_on_the_sellers_behalf(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
        await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
        await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.GIVE_ADDRESS, "seller sent it by email", address=SELLER_ADDRESS),
        )
        waiting = await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        await harness.told(handle, NoticeKind.RETURN_ADDRESS)

    assert harness.doubles.notices[-1].return_address == SELLER_ADDRESS
    assert any(e.actor == "operations:agent-42" for e in waiting.timeline)


async def test_a_seller_chat_refusing_the_request_is_on_the_timeline_and_operations_ask_again(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    chat_refuses = True

    def faults(activity_name: str, _key: str) -> ApplicationError | None:
        if activity_name == "message_seller" and chat_refuses:
            return ApplicationError("seller account suspended", non_retryable=True)
        return None

    timings = ReturnTimings(seller_reminder_after=2 * DAY, escalate_after=2 * DAY)
    doubles = Doubles(timings=timings, faults=faults)
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
        failed = await harness.until_status(
            handle, lambda s: said(s, "system", "seller chat failed: seller account suspended")
        )
        await time_skipping_env.fast_forward(handle, 4 * DAY + dt.timedelta(minutes=2))
        escalated = await harness.until_status(handle, lambda s: s.attention != [])
        posted_while_refusing = list(doubles.chat)
        chat_refuses = False
        await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "seller reinstated")
        )
        retried = await handle.query(ReturnWorkflow.status)

    assert failed.stage is ReturnStage.AWAITING_RETURN_ADDRESS and posted_while_refusing == []
    assert escalated.attention == ["seller_return_address_missing"]
    assert retried.stage is ReturnStage.AWAITING_RETURN_ADDRESS
    assert [m.kind for m in doubles.chat] == [SellerChatKind.ADDRESS_REQUEST]
    assert said(retried, "system", "seller chat: address_request")


async def test_operations_close_a_return_whose_seller_never_answered_and_it_ends_at_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    timings = ReturnTimings(seller_reminder_after=2 * DAY, escalate_after=2 * DAY)
    async with return_harness(time_skipping_env.client, Doubles(timings=timings)) as harness:
        handle = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
        await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
        await time_skipping_env.fast_forward(handle, 4 * DAY + dt.timedelta(minutes=2))
        await harness.until_status(handle, lambda s: s.attention != [])
        closed = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.CLOSE, "seller left")
        )
        async with asyncio.timeout(10):
            done = await handle.result()

    # What the return was waiting for is moot once it is closed: one close ends it.
    assert closed.stage is ReturnStage.CLOSED and closed.attention == []
    assert done.stage is ReturnStage.CLOSED and done.attention == []


async def test_an_override_for_a_seller_without_an_address_is_answered_before_the_chat(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    chat_answers = asyncio.Event()
    doubles = Doubles(hold={"message_seller": chat_answers})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await harness.start(
            retract_event(seller_id=SELLER_WITHOUT_ADDRESS, ordered_days_before_notice=45)
        )
        await harness.stage_reached(handle, ReturnStage.REJECTED)
        async with asyncio.timeout(10):
            overridden = await handle.execute_update(
                ReturnWorkflow.resolve_attention,
                ops(AttentionAction.OVERRIDE_ELIGIBILITY, "delivery was late"),
            )
        chat_was_held = doubles.chat == []
        chat_answers.set()
        await until(harness, lambda d: len(d.chat) == 1)

    # Operations are answered at once; the seller chat, however slow, comes after.
    assert overridden.stage is ReturnStage.AWAITING_RETURN_ADDRESS
    assert chat_was_held


async def test_an_invalid_address_is_refused_naming_the_field() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as bad:
        ReturnAddressReply.model_validate(
            {
                "address": {**SELLER_ADDRESS.model_dump(), "postal_code": "3370"},
                "given_by": "seller",
            }
        )
    assert "postal_code" in str(bad.value) and "3370" not in str(bad.value)


# --- Changing one's mind, cancelling --------------------------------------------------------


async def test_changing_from_pickup_to_drop_off_cancels_the_pickup_and_keeps_the_label(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        changed = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        # The answer comes first; the old pickup is cancelled right after.
        await until(harness, lambda d: d.cancelled_pickups)

    doubles = harness.doubles
    assert changed.stage is ReturnStage.AWAITING_DROP_OFF and changed.pickup is None
    assert changed.label == booked.label, "the same carrier's label still works"
    assert doubles.cancelled_pickups == [booked.pickup]
    assert doubles.voided == []
    label_notices = [n for n in doubles.notices if n.kind is NoticeKind.RETURN_LABEL]
    assert [n.revision for n in label_notices] == [1, 2]


async def test_changing_carrier_voids_the_old_label_and_follows_the_new_parcel(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(offers=[SANDBOX_OFFER, COUNTER_LABEL_POST])
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        moved = await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="colissimo"),
        )
        assert booked.label is not None and moved.label is not None
        await until(harness, lambda d: d.voided)
        await harness.scan(handle, booked.label.tracking_number)  # the old parcel: ignored
        still = await handle.query(ReturnWorkflow.status)
        attributes = (await handle.describe()).typed_search_attributes

    assert doubles.voided == [booked.label]
    assert doubles.cancelled_pickups == [booked.pickup]
    assert moved.label.carrier == "colissimo"
    assert still.stage is ReturnStage.AWAITING_DROP_OFF
    assert attributes.get(sa.CARRIER) == "colissimo"
    assert attributes.get(sa.TRACKING_NUMBER) == moved.label.tracking_number


@pytest.mark.parametrize(
    "choice",
    [DROP_OFF, mailbox_pickup()],
    ids=["drop-off", "pickup-same-day"],
)
async def test_the_same_choice_again_is_refused_and_changes_nothing(
    time_skipping_env: WorkflowEnvironment, choice: ReturnMethodChoice
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        first = await handle.execute_update(ReturnWorkflow.choose_return_method, choice)
        await harness.told(handle, NoticeKind.RETURN_LABEL)
        again = await refused(handle, ReturnWorkflow.choose_return_method, choice)
        after = await handle.query(ReturnWorkflow.status)

    doubles = harness.doubles
    assert again == "method: this is already the chosen way of sending the parcel"
    assert after.stage is first.stage and after.label == first.label
    assert after.pickup == first.pickup
    assert len(doubles.labels) == 1 and doubles.voided == [] and doubles.cancelled_pickups == []
    assert doubles.notice_kinds.count(NoticeKind.RETURN_LABEL) == 1


async def test_the_customer_cancels_before_sending_and_nothing_is_left_booked(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        cancelled = await handle.execute_update(
            ReturnWorkflow.cancel, CancelRequest(reason="I'll keep it after all")
        )
        done = await handle.result()

    doubles = harness.doubles
    assert cancelled.stage is ReturnStage.CANCELLED and done.stage is ReturnStage.CANCELLED
    assert said(done, "customer", "cancelled the return: I'll keep it after all")
    assert doubles.cancelled_pickups == [booked.pickup]
    assert doubles.voided == [booked.label]
    assert said(done, "carrier:sandbox", "pickup cancelled (done)")
    assert said(done, "carrier:sandbox", "label cancelled (done)")
    assert doubles.notice_kinds[-2:] == [
        NoticeKind.RETURN_CANCELLED,
        NoticeKind.SELLER_RETURN_CANCELLED,
    ]
    assert doubles.refunds == []


async def dropped_off(harness: ReturnHarness) -> tuple[ReturnHandle, Label]:
    """A return whose customer dropped the parcel off: the carrier has it (`picked_up`)."""
    handle = await choosing(harness)
    ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
    assert ready.label is not None
    await harness.scan(handle, ready.label.tracking_number)
    await harness.stage_reached(handle, ReturnStage.PICKED_UP)
    return handle, ready.label


async def test_a_parcel_already_with_the_carrier_cannot_be_cancelled(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(timings=ReturnTimings(refund_trigger=RefundTrigger.DELIVERY))
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, _ = await dropped_off(harness)
        message = await refused(handle, ReturnWorkflow.cancel, CancelRequest())

    assert message.startswith("the carrier has the parcel")
    assert doubles.voided == []


# --- The counter, tracking and polling ------------------------------------------------------


async def test_counter_without_a_code_takes_the_tracking_number_from_the_customer(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(offers=[COUNTER_LABEL_POST])
    timings = ReturnTimings(scan_overdue_after=dt.timedelta(hours=6))
    doubles.timings = timings
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        ready = await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo"),
        )
        mistyped = await refused(
            handle, ReturnWorkflow.report_shipment, ShipmentReport(tracking_number="6A123456")
        )
        reported = await handle.execute_update(
            ReturnWorkflow.report_shipment, ShipmentReport(tracking_number="6a12345678901")
        )
        attributes = (await handle.describe()).typed_search_attributes
        # The counter's scan never reaches us by webhook: polling finds it.
        doubles.carrier_scanned("6A12345678901")
        await time_skipping_env.fast_forward(handle, dt.timedelta(hours=7))
        done = await harness.in_transit(handle)

    assert ready.stage is ReturnStage.AWAITING_COUNTER_DROP_OFF
    assert ready.counter_code is None and ready.tracking_number is None
    assert NoticeKind.COUNTER_INSTRUCTIONS in doubles.notice_kinds
    assert mistyped.startswith("tracking_number")
    assert reported.tracking_number == "6A12345678901"
    assert attributes.get(sa.TRACKING_NUMBER) == "6A12345678901"
    assert done.stage is ReturnStage.PICKED_UP
    assert doubles.polls and doubles.polls[0].tracking_number == "6A12345678901"


async def test_a_missing_webhook_is_made_up_for_by_polling_after_the_pickup_day(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(timings=ReturnTimings(poll_interval=dt.timedelta(hours=6)))
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        assert booked.pickup is not None and booked.label is not None
        until_pickup = dt.datetime.combine(
            booked.pickup.pickup_date, dt.time(8), tzinfo=dt.UTC
        ) - dt.datetime.now(dt.UTC)
        # The scan happens, its webhook is lost; the carrier knows, we do not.
        await time_skipping_env.fast_forward(handle, until_pickup + dt.timedelta(hours=13))
        await until(harness, lambda d: len(d.polls) >= 1)
        doubles.carrier_scanned(booked.label.tracking_number)
        await time_skipping_env.fast_forward(handle, dt.timedelta(hours=7))
        done = await harness.in_transit(handle)

    assert done.stage is ReturnStage.PICKED_UP
    assert len(doubles.polls) >= 2, "a first poll found nothing, a later one the scan"
    assert any("polling the carrier" in e.event for e in done.timeline)


async def test_repeated_and_out_of_order_scans_are_harmless(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        number = ready.label.tracking_number
        now = dt.datetime.now(dt.UTC)
        await harness.scan(handle, number, TrackingStatus.IN_TRANSIT, scan_id="S2", at=now)
        await harness.scan(handle, number, TrackingStatus.IN_TRANSIT, scan_id="S2", at=now)
        done = await harness.in_transit(handle)

    assert [s.scan_id for s in done.scans] == ["S2"]
    assert harness.doubles.notice_kinds.count(NoticeKind.PICKUP_CONFIRMED) == 1


async def test_a_failed_pickup_tells_the_customer_and_operations_until_rebooked(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        assert booked.label is not None and booked.pickup is not None
        await harness.scan(handle, booked.label.tracking_number, TrackingStatus.EXCEPTION)
        await until(harness, lambda d: NoticeKind.SHIPMENT_PROBLEM in d.notice_kinds)
        problem = await handle.query(ReturnWorkflow.status)
        later = next_pickup_date(
            dt.datetime.combine(booked.pickup.pickup_date, dt.time(12), tzinfo=dt.UTC)
        )
        rebooked = await handle.execute_update(
            ReturnWorkflow.choose_return_method, mailbox_pickup(day=later)
        )

    assert problem.attention == ["carrier_exception"]
    assert NoticeKind.OPERATIONS_ATTENTION in harness.doubles.notice_kinds
    assert rebooked.attention == [] and rebooked.stage is ReturnStage.AWAITING_PICKUP


async def test_a_new_pickup_day_the_carrier_refuses_keeps_the_pickup_on_its_day(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The first pickup is called off to free the label; the carrier refuses the new day, so
    the first day is booked again and the customer told it stands."""
    doubles = Doubles()
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        assert booked.pickup is not None
        later = next_pickup_date(
            dt.datetime.combine(booked.pickup.pickup_date, dt.time(12), tzinfo=dt.UTC)
        )
        doubles.refused_pickup_dates.add(later)
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await handle.execute_update(
                ReturnWorkflow.choose_return_method, mailbox_pickup(day=later)
            )
        status = await handle.query(ReturnWorkflow.status)

    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message.endswith(f"; your pickup on {booked.pickup.pickup_date} stands")
    assert status.stage is ReturnStage.AWAITING_PICKUP
    assert status.pickup is not None and status.pickup.pickup_date == booked.pickup.pickup_date
    assert doubles.cancelled_pickups == [booked.pickup]
    assert status.label == booked.label


async def test_a_move_whose_new_day_and_first_day_are_both_refused_waits_for_a_choice_again(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The first pickup was called off; the carrier refuses the new day, then the first day
    again: the return waits for a choice, its label kept for the next one."""
    doubles = Doubles()
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        assert booked.pickup is not None and booked.label is not None
        later = next_pickup_date(
            dt.datetime.combine(booked.pickup.pickup_date, dt.time(12), tzinfo=dt.UTC)
        )
        doubles.refused_pickup_dates.update({later, booked.pickup.pickup_date})
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await handle.execute_update(
                ReturnWorkflow.choose_return_method, mailbox_pickup(day=later)
            )
        waiting = await handle.query(ReturnWorkflow.status)
        doubles.refused_pickup_dates.clear()
        again = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)

    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message.endswith("was called off: choose again, your label is kept")
    assert waiting.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE
    assert waiting.pickup is None and waiting.method is None
    assert again.label == booked.label, "the label kept is the next choice's"
    assert doubles.voided == []


async def test_a_pickup_booked_late_that_cannot_be_called_off_stays_in_doubt(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The carrier booked the first day after the choice's bound, and will not call it off: the
    new day is refused, and that pickup is not forgotten: the next try calls it off again."""
    refuse_cancel = {"on": True}

    def faults(activity_name: str, key: str) -> ApplicationError | None:
        if activity_name == "cancel_pickup" and refuse_cancel["on"]:
            return carrier_rejected(
                "The pickup day has begun: the round can no longer be called off."
            )
        return None

    doubles = Doubles(
        hold={"book_mailbox_pickup": asyncio.Event()},
        timings=ReturnTimings(carrier_answer_within=dt.timedelta(seconds=2)),
        faults=faults,
    )
    first, second = itertools.islice(collection_days(dt.datetime.now(dt.UTC)), 2)
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                ReturnWorkflow.choose_return_method, mailbox_pickup(day=first)
            )
        doubles.hold["book_mailbox_pickup"].set()
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                ReturnWorkflow.choose_return_method, mailbox_pickup(day=second)
            )
        refuse_cancel["on"] = False
        moved = await handle.execute_update(
            ReturnWorkflow.choose_return_method, mailbox_pickup(day=second)
        )

    late = [p for p in doubles.created.values() if getattr(p, "pickup_date", None) == first]
    assert moved.pickup is not None and moved.pickup.pickup_date == second
    assert doubles.cancelled_pickups == late, "the late pickup, called off at the second try"


# --- The shipping deadline ------------------------------------------------------------------


async def test_a_return_never_sent_expires_and_both_sides_are_told(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        await time_skipping_env.fast_forward(handle, await time_to(handle, expiry_of) + DAY)
        done = await harness.expired_result(time_skipping_env, handle)

    doubles = harness.doubles
    assert done.stage is ReturnStage.EXPIRED
    assert doubles.voided == [booked.label], "an unused label is voided"
    assert doubles.notice_kinds[-2:] == [
        NoticeKind.RETURN_EXPIRED,
        NoticeKind.SELLER_RETURN_EXPIRED,
    ]
    assert doubles.polls, "the carrier is asked a last time before giving up"


async def test_a_return_with_nothing_chosen_ends_at_its_expiry_listening_for_nothing(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        await time_skipping_env.fast_forward(handle, await time_to(handle, expiry_of) + DAY)
        async with asyncio.timeout(20):  # no late parcel to wait for: it ends at once
            done = await handle.result()

    assert done.stage is ReturnStage.EXPIRED and done.tracking_number is None
    assert "listening for a late parcel" not in [e.event for e in done.timeline]


async def test_a_parcel_sent_after_the_return_expired_is_refunded_and_operations_told(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Art. 14(1) breached does not cancel the withdrawal: the expired return listens for its
    parcel, and its late dispatch brings the refund after all."""
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert booked.label is not None
        await time_skipping_env.fast_forward(handle, await time_to(handle, expiry_of) + DAY)
        listening = await harness.until_status(
            handle, lambda s: said(s, "system", "listening for a late parcel")
        )
        running = await handle.describe()
        await time_skipping_env.fast_forward(handle, 10 * DAY)  # sent ten days late
        await harness.scan(handle, booked.label.tracking_number)
        late = await harness.until_status(handle, lambda s: s.refund is not None)
        closed = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.CLOSE, "seller told of the delay")
        )
        done = await handle.result()

    doubles = harness.doubles
    assert listening.stage is ReturnStage.EXPIRED
    assert running.status is not None and running.status.name == "RUNNING"
    assert doubles.voided == [booked.label], "the unused label was voided at the expiry"
    assert late.stage is ReturnStage.PICKED_UP
    assert late.attention == ["late_parcel"]
    assert said(late, "system", "the parcel was sent after the return expired: refunding")
    (refund,) = doubles.refunds
    assert late.refund is not None and late.refund.amount == refund.amount
    assert doubles.notice_kinds[-5:] == [
        NoticeKind.RETURN_EXPIRED,
        NoticeKind.SELLER_RETURN_EXPIRED,
        NoticeKind.OPERATIONS_ATTENTION,
        NoticeKind.PICKUP_CONFIRMED,  # with the refund
        NoticeKind.SELLER_PARCEL_INBOUND,
    ]
    told = next(n for n in doubles.notices if n.kind is NoticeKind.OPERATIONS_ATTENTION)
    assert told.attention == "late_parcel"
    assert closed.attention == [] and done.stage is ReturnStage.PICKED_UP


async def test_an_expired_return_stops_listening_for_its_parcel_after_the_watch(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        await time_skipping_env.fast_forward(handle, await time_to(handle, expiry_of) + DAY)
        done = await harness.expired_result(time_skipping_env, handle)

    events = [e.event for e in done.timeline]
    assert events.index("listening for a late parcel") < events.index(
        "no late parcel: the return ends expired"
    )
    assert done.stage is ReturnStage.EXPIRED and done.refund is None
    assert harness.doubles.refunds == []


async def test_a_carrier_down_at_the_last_look_does_not_hold_the_return_open(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    def carrier_down(activity_name: str, _key: str) -> ApplicationError | None:
        if activity_name == "track_parcel":
            return carrier_unavailable("503 Service Unavailable")
        return None

    doubles = Doubles(faults=carrier_down)
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        await time_skipping_env.fast_forward(handle, await time_to(handle, expiry_of) + DAY)
        done = await harness.expired_result(time_skipping_env, handle)

    assert done.stage is ReturnStage.EXPIRED
    assert doubles.voided == [booked.label]
    assert len(doubles.polls) > 3, "the last look is retried while the carrier is down"
    events = [e.event for e in done.timeline]
    looked = events.index("shipping deadline passed: asking the carrier a last time")
    gave_up = next(i for i, e in enumerate(events) if e.startswith("last tracking check failed"))
    expired = events.index("not shipped by the deadline: the return has expired")
    assert looked < gave_up < expired
    asked, ended = done.timeline[looked].at, done.timeline[expired].at
    # retried for most of the hour, never past it (no attempt starts that the bound would cut)
    assert dt.timedelta(minutes=30) < ended - asked <= dt.timedelta(hours=1)


async def test_a_return_waiting_for_the_sellers_address_does_not_expire(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
        await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
        await time_skipping_env.fast_forward(handle, 20 * DAY)  # past ship-by and grace
        # A message taken in after the forward comes after every timer due before it.
        later = (dt.datetime.now(dt.UTC) + 20 * DAY).date()
        await handle.signal(
            ReturnWorkflow.remind_to_ship, ShippingReminder(day=later, origin="sweep-test")
        )
        async with asyncio.timeout(10):
            while True:
                status = await handle.query(ReturnWorkflow.status)
                if any("shipping reminder skipped" in e.event for e in status.timeline):
                    break
                await asyncio.sleep(0.05)
        await handle.terminate("test over")

    assert status.stage is ReturnStage.AWAITING_RETURN_ADDRESS
    # The escalation fired, and operations were asked to decide before the refund deadline.
    assert status.attention == ["seller_return_address_missing", "refund_due_without_address"]
    assert NoticeKind.RETURN_EXPIRED not in harness.doubles.notice_kinds


async def test_a_first_scan_showing_the_delivery_ends_the_return_delivered(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        await harness.scan(handle, ready.label.tracking_number, TrackingStatus.DELIVERED)
        done = await harness.to_the_end(time_skipping_env, handle)

    assert done.stage is ReturnStage.DELIVERED and done.refund is not None
    assert harness.doubles.notice_kinds[-2:] == [
        NoticeKind.PICKUP_CONFIRMED,
        NoticeKind.SELLER_PARCEL_DELIVERED,
    ]


async def test_a_parcel_the_carrier_has_is_not_expired_for_a_lost_webhook(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        harness.doubles.carrier_scanned(ready.label.tracking_number)
        await time_skipping_env.fast_forward(handle, await time_to(handle, expiry_of) + DAY)
        done = await harness.in_transit(handle)

    assert done.stage is ReturnStage.PICKED_UP
    assert harness.doubles.voided == []
    moves = [e.event for e in done.timeline if " → " in e.event]
    assert moves[-2:] == ["awaiting_drop_off → expiring", "expiring → picked_up"]


# --- Operations -----------------------------------------------------------------------------


async def test_operations_retry_a_notice_once_the_address_is_fixed(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(undeliverable={NoticeKind.RETURN_ADDRESS})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        # The stage moves on before the relay's refusal comes back: wait for it to be recorded.
        stuck = await harness.until_status(
            handle, lambda s: s.attention == ["notice_undeliverable:return_address"]
        )
        doubles.undeliverable.clear()
        retried = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "relay fixed")
        )
        await harness.told(handle, NoticeKind.RETURN_ADDRESS)
        nothing_left = await refused(
            handle, ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY)
        )

    assert stuck.attention == ["notice_undeliverable:return_address"]
    assert retried.attention == []
    assert doubles.notice_kinds == [NoticeKind.RETURN_ADDRESS]
    assert nothing_left.startswith("action: nothing to retry")


async def test_operations_retry_a_choice_the_carrier_refused_our_credentials_for(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(
        time_skipping_env.client, Doubles(credentials_refused=True)
    ) as harness:
        handle = await choosing(harness)
        await refused(handle, ReturnWorkflow.choose_return_method, DROP_OFF)
        harness.doubles.credentials_refused = False
        retried = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "API key rotated")
        )
        status = await handle.query(ReturnWorkflow.status)

    assert retried.stage is ReturnStage.AWAITING_DROP_OFF
    assert retried.attention == []
    assert any(
        e.actor == "operations:agent-42" and "changed to" not in e.event and "chose" in e.event
        for e in status.timeline
    )


async def test_a_refused_refund_keeps_the_return_open_and_retry_asks_again_under_its_key(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles()
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        held = doubles.order_service_holds(handle.id)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        await harness.scan(handle, ready.label.tracking_number)
        await until(harness, lambda d: NoticeKind.SELLER_PARCEL_INBOUND in d.notice_kinds)
        stuck = await handle.query(ReturnWorkflow.status)
        open_ = await handle.describe()
        flagged = open_.typed_search_attributes.get(sa.NEEDS_ATTENTION)
        # While the order service holds the other request, asking again is refused again.
        again = await refused(
            handle, ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "try again")
        )
        # The order service's staff remove the request it held: the key is free.
        doubles.refunds_on_file.remove(held)
        await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "order service fixed")
        )
        done = await harness.until_status(handle, lambda s: s.refund is not None)

    assert stuck.stage is ReturnStage.PICKED_UP and stuck.refund is None
    assert stuck.attention == ["refund_request_failed"] and flagged is True
    assert open_.status is not None and open_.status.name == "RUNNING"
    assert again.startswith("refund not requested: Refund key")
    assert done.refund is not None and done.attention == []
    (refund,) = doubles.refunds
    assert refund.idempotency_key == held.idempotency_key, "the same key, asked again"


async def test_a_choice_failing_with_an_error_no_rule_knows_is_for_operations_to_retry(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    # A carrier adapter's own bug: a failure for good of a type the workflow does not tell
    # apart (every failure the real adapters raise is a carrier refusal or an outage).
    broken = [True]

    def unreadable(activity_name: str, _key: str) -> ApplicationError | None:
        if activity_name == "create_return_label" and broken[0]:
            return ApplicationError("label answer unreadable", type="Bug", non_retryable=True)
        return None

    doubles = Doubles(faults=unreadable)
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        why = await refused(handle, ReturnWorkflow.choose_return_method, DROP_OFF)
        stuck = await handle.query(ReturnWorkflow.status)
        broken[0] = False  # the adapter is fixed and deployed
        retried = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "adapter fixed")
        )

    assert why == "the shipment could not be prepared: operations will look into it"
    assert stuck.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE
    assert stuck.attention == ["shipment_preparation_failed"]
    assert retried.stage is ReturnStage.AWAITING_DROP_OFF and retried.attention == []
    assert len(doubles.labels) == 1


async def test_a_close_leaves_listed_what_is_left_at_the_carrier_until_closed_again(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        first = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert first.label is not None
        # The parcel left with the first label, but its scan never reached the return: the
        # change of mind cannot void that label any more.
        harness.doubles.carrier_scanned(first.label.tracking_number)
        other_carrier = ReturnMethodChoice(
            method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="dropoff-only"
        )
        changed = await handle.execute_update(ReturnWorkflow.choose_return_method, other_carrier)
        # The customer is answered first; then the void of the first label, which fails.
        refused_void = await harness.until_status(
            handle, lambda s: s.attention == ["carrier_cancellation_failed"]
        )
        closed = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.CLOSE, "customer called")
        )
        # Operations are answered first; then what was booked is undone, and the return ends
        # with what is left at the carrier: only then is a second close for that.
        left = await harness.until_status(
            handle, lambda s: any(e.event.endswith("→ ended_with_problems") for e in s.timeline)
        )
        running = (await handle.describe()).status
        await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.CLOSE, "label settled"),
            id="the-second-close",
        )
        done = await handle.result()

    assert changed.stage is ReturnStage.AWAITING_DROP_OFF
    assert any("label not cancelled" in e.event for e in refused_void.timeline)
    assert closed.stage is ReturnStage.CLOSED
    assert left.attention == ["carrier_cancellation_failed"], "still for operations"
    assert running is not None and running.name == "RUNNING"
    assert done.stage is ReturnStage.CLOSED and done.attention == []
    (second,) = [i for i, e in enumerate(done.timeline) if e.update_id == "the-second-close"]
    assert [(e.actor, e.event) for e in done.timeline[second : second + 2]] == [
        ("operations:agent-42", "close: label settled"),
        ("operations:agent-42", "the problems left are handled: the return completes"),
    ]


async def test_operations_close_a_return_with_a_reason_and_who_did_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        closed = await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.CLOSE, "customer returned it in store"),
        )
        done = await handle.result()

    assert closed.stage is ReturnStage.CLOSED and done.stage is ReturnStage.CLOSED
    assert harness.doubles.voided == [booked.label]
    entry = next(e for e in done.timeline if "returned it in store" in e.event)
    assert entry.actor == "operations:agent-42"


@pytest.mark.parametrize(
    ("resolution", "names"),
    [
        (ops(AttentionAction.OVERRIDE_ELIGIBILITY), "action"),
        (ops(AttentionAction.GIVE_ADDRESS, address=SELLER_ADDRESS), "the return is not waiting"),
        (ops(AttentionAction.RETRY), "action: nothing to retry"),
    ],
    ids=["override-accepted", "address-on-file", "nothing-failed"],
)
async def test_an_operations_action_that_does_not_apply_is_refused(
    time_skipping_env: WorkflowEnvironment, resolution: AttentionResolution, names: str
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        message = await refused(handle, ReturnWorkflow.resolve_attention, resolution)
    assert message.startswith(names)


MALFORMED = {"tracking_number": 42, "status": "teleported"}


@pytest.mark.parametrize(
    ("signal", "inputs"),
    [
        ("carrier_scan", [MALFORMED]),
        ("carrier_scan", []),
        ("carrier_scans", [[], []]),
        ("remind_to_ship", []),
    ],
    ids=["malformed", "no-input", "two-inputs", "reminder-without-input"],
)
async def test_a_malformed_signal_is_dropped_without_failing_the_return(
    time_skipping_env: WorkflowEnvironment, signal: str, inputs: list[object]
) -> None:
    """Sent by hand (the Web UI's Signal button, the Temporal CLI) with what its handler cannot
    take: dropped, and the return goes on."""
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        await handle.signal(signal, args=inputs)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        history = await handle.fetch_history()

    assert ready.stage is ReturnStage.AWAITING_DROP_OFF
    failed_tasks = [
        e for e in history.events if e.HasField("workflow_task_failed_event_attributes")
    ]
    assert failed_tasks == []


async def test_an_update_sent_without_its_input_is_refused_saying_what_it_takes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await handle.execute_update("choose_return_method", args=[])
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)

    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "WrongNumberOfInputs"
    assert cause.message == "update choose_return_method takes 1 input (choice): 0 given"
    assert ready.stage is ReturnStage.AWAITING_DROP_OFF


async def until(harness: ReturnHarness, check: object, within: float = 10) -> None:
    import asyncio

    async with asyncio.timeout(within):
        while not check(harness.doubles):  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_a_reported_number_another_running_return_holds_is_refused_naming_the_field(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(offers=[COUNTER_LABEL_POST])
    doubles.numbers_held["6A12345678901"] = ["return-ORD-OTHER-1"]
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo"),
        )
        taken = await refused(
            handle, ReturnWorkflow.report_shipment, ShipmentReport(tracking_number="6A12345678901")
        )
        own = await handle.execute_update(
            ReturnWorkflow.report_shipment, ShipmentReport(tracking_number="6A12345678902")
        )

    assert taken == "tracking_number: 6A12345678901 is another running return's parcel"
    assert own.tracking_number == "6A12345678902"


def polled_after_six_hours() -> Doubles:
    """Colissimo, which sends no webhooks, polled 6 hours after the label is handed over."""
    doubles = Doubles(offers=[COUNTER_LABEL_POST])
    doubles.timings = ReturnTimings(scan_overdue_after=dt.timedelta(hours=6))
    return doubles


async def dropping_off_with_colissimo(harness: ReturnHarness) -> tuple[ReturnHandle, ActionResult]:
    """A return whose customer chose to drop the parcel off with Colissimo: it and the answer."""
    handle = await choosing(harness)
    ready = await handle.execute_update(
        ReturnWorkflow.choose_return_method,
        ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="colissimo"),
    )
    return handle, ready


async def test_a_poll_bringing_only_another_parcels_scan_waits_for_the_next_one(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The carrier's answer for the return's parcel holds a scan of another parcel: the return
    does not keep it, and asks again after the polling interval, not at once and for ever."""
    doubles = polled_after_six_hours()
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, ready = await dropping_off_with_colissimo(harness)
        assert ready.label is not None
        other = doubles.carrier_scanned("6A99999999999")
        doubles.carrier_scans[ready.label.tracking_number] = [other]
        await time_skipping_env.fast_forward(handle, dt.timedelta(hours=7))
        async with asyncio.timeout(10):
            while len(doubles.polls) < 2:
                await asyncio.sleep(0.05)
        await asyncio.sleep(2)  # a poll brought back at once would be asked dozens of times
        status = await handle.query(ReturnWorkflow.status)

    assert len(doubles.polls) == 2
    assert doubles.polls[1].known_scan_ids == [other.scan_id]
    assert status.stage is ReturnStage.AWAITING_DROP_OFF
    assert not [e for e in status.timeline if "scan" in e.event and "polling" not in e.event]


async def test_a_drop_off_nobody_reports_on_a_carrier_without_webhooks_is_found_by_polling(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = polled_after_six_hours()
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, ready = await dropping_off_with_colissimo(harness)
        assert ready.label is not None
        # The customer drops the parcel off and tells nobody; the carrier scans it.
        doubles.carrier_scanned(ready.label.tracking_number)
        await time_skipping_env.fast_forward(handle, dt.timedelta(hours=7))
        done = await harness.in_transit(handle)

    assert done.stage is ReturnStage.PICKED_UP and done.refund is not None
    assert doubles.polls and doubles.polls[0].tracking_number == ready.label.tracking_number
