"""Two things at once: a person's message meets a clock or a carrier's scan while a carrier call
is in flight. The run loop acts on one at a time, by the precedence the docs state: proof of
dispatch beats everything, expiry waits for a choice in flight and then undoes it, and a return
that is ending takes no new message. Each race ends in one consistent stage, with nothing left
booked at the carrier for an ended return, and no workflow task failed.

A carrier double holds its answer until the test releases it (`Doubles.hold`). Time skipping
does not move a return's clock while one of its activities runs: to have a clock pass during a
carrier call, the test brings the clock close with `fast_forward`, then lets a few real
seconds pass while the call is held.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateHandle, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.calendar import next_pickup_date
from domain.carriers import TrackingStatus
from domain.notices import NoticeKind
from domain.returns import ActionResult, AttentionAction, CancelRequest, ReturnStage
from domain.timings import RefundTrigger, ReturnTimings
from tests.workflows.doubles import Doubles
from tests.workflows.harness import ReturnHandle, failed_tasks, return_harness, time_to
from tests.workflows.lifecycle_test import (
    DROP_OFF,
    choosing,
    label_being_made,
    mailbox_pickup,
    on_its_way_to_the_seller,
    ops,
    refused,
)
from workflows.return_workflow import ReturnWorkflow

DAY = dt.timedelta(days=1)


async def to_expiry(handle: ReturnHandle) -> dt.timedelta:
    """From the withdrawal to the expiry instant: the shipping deadline (the end of the 14th
    day, moved past weekends and holidays) and the grace."""
    return await time_to(handle, lambda status: status.expires_at)


async def in_flight(doubles: Doubles, activity: str) -> None:
    async with asyncio.timeout(10):
        await doubles.in_flight(activity).wait()


async def failure_of(update: WorkflowUpdateHandle[ActionResult], kind: str | None = None) -> str:
    """The sentence the update was refused with (and, given `kind`, the refusal's type)."""
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await update.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    if kind is not None:
        assert cause.type == kind, cause
    return cause.message


async def test_expiry_reached_while_a_choice_is_in_flight_undoes_the_new_label_and_expires_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    label_made = asyncio.Event()
    doubles = Doubles(hold={"create_return_label": label_made})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        # Seconds before the expiry instant, the customer chooses; the carrier takes longer.
        await time_skipping_env.fast_forward(
            handle, await to_expiry(handle) - dt.timedelta(seconds=6)
        )
        choice = await handle.start_update(
            ReturnWorkflow.choose_return_method,
            DROP_OFF,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        await in_flight(doubles, "create_return_label")
        await asyncio.sleep(8)
        label_made.set()
        why = await failure_of(choice, "ChoiceRefused")
        done = await harness.expired_result(time_skipping_env, handle)
        assert await failed_tasks(handle) == []

    assert why == "the shipping deadline passed while the carrier prepared the shipment"
    assert done.stage is ReturnStage.EXPIRED
    assert doubles.live_labels() == [] and len(doubles.voided) == 1
    assert NoticeKind.RETURN_LABEL not in doubles.notice_kinds
    assert doubles.notice_kinds.count(NoticeKind.RETURN_EXPIRED) == 1
    assert doubles.notice_kinds.count(NoticeKind.SELLER_RETURN_EXPIRED) == 1


async def test_a_dispatch_scan_during_a_rebooking_wins_and_the_new_pickup_is_cancelled(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    rebooked = asyncio.Event()
    doubles = Doubles()
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        first = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        assert first.label is not None and first.pickup is not None
        doubles.hold["book_mailbox_pickup"] = rebooked
        doubles.entered.pop("book_mailbox_pickup", None)
        later = next_pickup_date(
            dt.datetime.combine(first.pickup.pickup_date, dt.time(12), tzinfo=dt.UTC)
        )
        rebooking = await handle.start_update(
            ReturnWorkflow.choose_return_method,
            mailbox_pickup(day=later),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        await in_flight(doubles, "book_mailbox_pickup")
        # The carrier collects the parcel with the first booking meanwhile.
        await harness.scan(handle, first.label.tracking_number)
        rebooked.set()
        why = await failure_of(rebooking, "ChoiceRefused")
        done = await harness.in_transit(handle)
        assert await failed_tasks(handle) == []

    assert why == "the carrier already has the parcel sent with the previous choice"
    assert done.stage is ReturnStage.PICKED_UP and done.refund is not None
    # The first pickup was called off to free the label for the new one; the courier had the
    # parcel already.
    assert done.pickup is None and done.label == first.label
    second = [p for p in doubles.created.values() if p not in (first.pickup, first.label)]
    assert doubles.cancelled_pickups == [first.pickup, *second], "the booking that lost too"
    assert doubles.live_labels() == [first.label], "only the label that carries the parcel"
    assert doubles.notice_kinds.count(NoticeKind.RETURN_LABEL) == 1


async def test_a_proof_of_dispatch_while_the_expiry_tells_both_sides_brings_the_refund(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The return has expired and is undoing its booking and sending its expiry emails when the
    carrier scans the parcel: the scan is the late parcel the return listens for, not a scan
    after the end, and the return goes on to the refund."""
    emails_sent = asyncio.Event()
    doubles = Doubles(held={NoticeKind.RETURN_EXPIRED: emails_sent})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert booked.label is not None
        await time_skipping_env.fast_forward(
            handle, await to_expiry(handle) - dt.timedelta(seconds=3)
        )
        # Expired, its emails held: the return has not finished expiring.
        expired = await harness.until_status(handle, lambda s: s.stage is ReturnStage.EXPIRED)
        await harness.scan(handle, booked.label.tracking_number)
        taken = await harness.until_status(
            handle, lambda s: any(e.event.startswith("scan accepted") for e in s.timeline)
        )
        assert [e.event for e in taken.timeline if e.event.startswith("scan")] == [
            "scan accepted"
        ], "the scan was taken as a proof of dispatch, not kept apart as after the end"
        emails_sent.set()
        refunded = await harness.until_status(handle, lambda s: s.refund is not None)

    events = [e.event for e in refunded.timeline]
    assert expired.stage is ReturnStage.EXPIRED
    assert taken.stage is ReturnStage.EXPIRED
    assert events.index("listening for a late parcel") < events.index(
        "the parcel was sent after the return expired: refunding"
    )
    assert refunded.stage is ReturnStage.PICKED_UP
    assert refunded.attention == ["late_parcel"]
    assert len(doubles.refunds) == 1
    assert await failed_tasks(handle) == []


async def test_cancel_and_close_are_refused_once_an_expiry_has_begun(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    last_look = asyncio.Event()
    doubles = Doubles(hold={"track_parcel": last_look})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        # The fast-forward completes only once the last look has answered: it runs meanwhile.
        past_expiry = await to_expiry(handle) + dt.timedelta(minutes=1)
        forward = asyncio.create_task(time_skipping_env.fast_forward(handle, past_expiry))
        await in_flight(doubles, "track_parcel")  # the last look at the carrier
        cancel = await refused(handle, ReturnWorkflow.cancel, CancelRequest())
        close = await refused(
            handle, ReturnWorkflow.resolve_attention, ops(AttentionAction.CLOSE, "by phone")
        )
        last_look.set()
        await forward
        done = await harness.expired_result(time_skipping_env, handle)
        assert await failed_tasks(handle) == []

    expiring = "the shipping deadline has passed: the return is expiring (stage: expiring)"
    assert cancel == close == expiring
    assert done.stage is ReturnStage.EXPIRED
    assert doubles.live_labels() == []
    assert NoticeKind.RETURN_CANCELLED not in doubles.notice_kinds
    assert doubles.notice_kinds[-2:] == [
        NoticeKind.RETURN_EXPIRED,
        NoticeKind.SELLER_RETURN_EXPIRED,
    ]


async def test_a_cancel_during_a_choice_waits_for_the_carrier_then_undoes_the_new_label(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    label_made = asyncio.Event()
    doubles = Doubles(hold={"create_return_label": label_made})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, choice = await label_being_made(harness)
        cancel = await handle.start_update(
            ReturnWorkflow.cancel, CancelRequest(), wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        label_made.set()
        chosen = await choice.result()
        cancelled = await cancel.result()
        done = await handle.result()
        assert await failed_tasks(handle) == []

    assert chosen.stage is ReturnStage.AWAITING_DROP_OFF and chosen.label is not None
    assert cancelled.stage is ReturnStage.CANCELLED and done.stage is ReturnStage.CANCELLED
    assert doubles.live_labels() == []
    # The label is void before the customer would have used it: no label email.
    assert NoticeKind.RETURN_LABEL not in doubles.notice_kinds
    assert doubles.notice_kinds[-2:] == [
        NoticeKind.RETURN_CANCELLED,
        NoticeKind.SELLER_RETURN_CANCELLED,
    ]


async def test_close_after_proof_of_dispatch_is_refused_with_the_reason(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(timings=ReturnTimings(refund_trigger=RefundTrigger.DELIVERY))
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, parcel = await on_its_way_to_the_seller(harness)
        close = await refused(
            handle, ReturnWorkflow.resolve_attention, ops(AttentionAction.CLOSE, "by phone")
        )
        cancel = await refused(handle, ReturnWorkflow.cancel, CancelRequest())
        await harness.scan(handle, parcel, TrackingStatus.DELIVERED)
        done = await harness.to_the_end(time_skipping_env, handle)
        assert await failed_tasks(handle) == []

    assert close == "action: the refund is not requested yet (stage: picked_up)"
    assert cancel == "the carrier has the parcel: it is on its way to the seller (stage: picked_up)"
    assert done.stage is ReturnStage.DELIVERED and done.refund is not None
    assert doubles.voided == []


async def test_close_while_the_withdrawal_is_being_checked_is_refused_not_half_done(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    checked = asyncio.Event()
    doubles = Doubles(hold={"take_in": checked})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        from tests.factories import retract_event

        handle = await harness.start(retract_event())
        await in_flight(doubles, "take_in")
        close = await refused(
            handle, ReturnWorkflow.resolve_attention, ops(AttentionAction.CLOSE, "duplicate")
        )
        checked.set()
        waiting = await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        assert await failed_tasks(handle) == []

    assert close == (
        "the withdrawal is being checked: try again in a moment (stage: checking_eligibility)"
    )
    assert waiting.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE


async def test_a_choice_after_the_expiry_instant_is_refused_though_expiry_has_not_begun(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    relay = asyncio.Event()  # the label email is slow: the loop is busy as the instant passes
    doubles = Doubles(held={NoticeKind.RETURN_LABEL: relay})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        await time_skipping_env.fast_forward(
            handle, await to_expiry(handle) - dt.timedelta(seconds=6)
        )
        await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        await asyncio.sleep(8)
        late = await refused(handle, ReturnWorkflow.choose_return_method, mailbox_pickup())
        cancel = await refused(handle, ReturnWorkflow.cancel, CancelRequest())
        close = await refused(
            handle, ReturnWorkflow.resolve_attention, ops(AttentionAction.CLOSE, "by phone")
        )
        relay.set()
        done = await harness.expired_result(time_skipping_env, handle)
        assert await failed_tasks(handle) == []

    assert late == cancel == close == "the shipping deadline has passed (stage: awaiting_drop_off)"
    assert done.stage is ReturnStage.EXPIRED
    assert doubles.live_labels() == []


async def test_a_close_sent_to_a_live_return_does_not_settle_the_problems_it_ended_with(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    relay = asyncio.Event()  # the label email is slow: the close waits behind it
    doubles = Doubles(held={NoticeKind.RETURN_LABEL: relay})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        doubles.order_service_holds(handle.id)  # the refund will be refused
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        close = await handle.start_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.CLOSE, "customer came to the shop"),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        # Meanwhile the carrier takes the parcel, and the refund is then refused.
        await harness.scan(handle, ready.label.tracking_number)
        relay.set()
        why = await failure_of(close)
        status = await handle.query(ReturnWorkflow.status)
        assert await failed_tasks(handle) == []

    assert why.startswith("the carrier took the parcel meanwhile (stage: picked_up)")
    assert status.stage is ReturnStage.PICKED_UP
    assert status.attention == ["refund_request_failed"], "still there for operations"


async def test_an_override_after_the_review_period_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    relay = asyncio.Event()  # the rejection email is slow: the review period ends meanwhile
    doubles = Doubles(
        held={NoticeKind.REJECTION: relay},
        timings=ReturnTimings(rejection_review=dt.timedelta(seconds=1)),
    )
    async with return_harness(time_skipping_env.client, doubles) as harness:
        from tests.factories import retract_event

        handle = await harness.start(retract_event(ordered_days_before_notice=45))
        await harness.stage_reached(handle, ReturnStage.REJECTED)
        await asyncio.sleep(2)
        late = await refused(
            handle,
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.OVERRIDE_ELIGIBILITY, "defect reported by phone"),
        )
        relay.set()
        done = await handle.result()

    assert late == "action: the review period is over: the return ends rejected"
    assert done.stage is ReturnStage.REJECTED
