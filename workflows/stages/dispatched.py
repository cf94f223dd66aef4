"""The carrier has the parcel: the refund, on proof of dispatch or once the goods are back
(never past the refund deadline), the notices to both sides, and the parcel followed to the
seller (lost, or sent back to the customer: operations and the customer are told)."""

from __future__ import annotations

import datetime as dt

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.carriers import TrackingStatus
    from domain.notices import NoticeKind
    from domain.returns import AttentionReason, RefundReason, ReturnStage
    from domain.timings import RefundTrigger
    from workflows.context import ReturnContext
    from workflows.stages import carrier, inspection, problems, refund

FOLLOW_PARCEL_TO_SELLER = "follow-parcel-to-seller"
"""Patch: after the proof of dispatch, the return follows the parcel to the seller and the
seller's inspection, instead of ending at the refund."""

DISPATCH_SETTLES_FIRST = "dispatch-settles-first"
"""Patch: at the proof of dispatch, the refund and both notices come before an unused label is
voided (a carrier's outage no longer holds them), and a refund already requested (at its
deadline) is not requested again."""


async def enter(ctx: ReturnContext) -> None:
    """The proof of dispatch: the return is `picked_up` (or `delivered` if the scans show it)."""
    state = ctx.state
    scan = state.dispatch_scan
    assert scan is not None
    carrier.stop_polling(ctx)
    ctx.record(f"carrier:{scan.carrier}", f"parcel in the carrier's hands ({scan.status})")
    delivered = state.delivery_scan is not None
    state.refused_choice = None
    ctx.set_stage(
        ReturnStage.DELIVERED if delivered else ReturnStage.PICKED_UP,
        *ctx.clear_attention(*ctx.choice_problems()),
    )
    # Asked only where it changes something: a spare label to void, a refund already asked.
    settles_first = (
        state.spare_label is not None or state.refund_reason is not None
    ) and workflow.patched(DISPATCH_SETTLES_FIRST)
    if not settles_first:
        await carrier.void_spare_label(ctx)
    seller = NoticeKind.SELLER_PARCEL_DELIVERED if delivered else NoticeKind.SELLER_PARCEL_INBOUND
    on_dispatch = delivered or state.timings.refund_trigger is RefundTrigger.DISPATCH_PROOF
    if workflow.patched(FOLLOW_PARCEL_TO_SELLER):
        state.following = True
        state.dispatched_at = ctx.now()
        if delivered:
            inspection.begin(ctx)
        if on_dispatch and not (settles_first and state.refund_reason is not None):
            # Art. 13(3): proof of dispatch is all the trader may wait for.
            await refund.request(ctx, RefundReason.WITHDRAWAL)
        await ctx.notify_all([state.notice(NoticeKind.PICKUP_CONFIRMED), state.notice(seller)])
        if settles_first:
            await carrier.void_spare_label(ctx)
        return
    if on_dispatch:
        await refund.request_and_end(
            ctx, RefundReason.WITHDRAWAL, NoticeKind.PICKUP_CONFIRMED, seller
        )
        return
    await ctx.notify_all([state.notice(NoticeKind.PICKUP_CONFIRMED), state.notice(seller)])


async def act(ctx: ReturnContext) -> bool:
    """On the way to the seller: the delivery scan, a problem to tell, the refund deadline
    (refund on delivery), or the parcel taken as lost."""
    state = ctx.state
    if state.finished:
        return False
    if ctx.poll_outcome is not None:
        carrier.take_poll(ctx)
        return True
    if state.delivery_scan is not None:
        ctx.record("system", "parcel delivered to the seller")
        if state.following:
            await inspection.delivered(ctx)
            return True
        ctx.set_stage(ReturnStage.DELIVERED)
        await refund.request_and_end(
            ctx,
            RefundReason.WITHDRAWAL,
            NoticeKind.REFUND_REQUESTED,
            NoticeKind.SELLER_PARCEL_DELIVERED,
        )
        return True
    if state.problem_scans:
        if state.following and state.problem_scans[0].status is TrackingStatus.RETURNED_TO_SENDER:
            scan = state.problem_scans.pop(0)
            ctx.record(f"carrier:{scan.carrier}", "the parcel is going back to the customer")
            await not_delivered(ctx, AttentionReason.PARCEL_RETURNED)
            return True
        await problems.tell(ctx)
        return True
    now = ctx.now()
    if state.refund_reason is None and now >= state.refund_request_at:
        ctx.record("system", "refund deadline reached before delivery: refunding")
        if state.following:
            await refund.request(ctx, RefundReason.WITHDRAWAL)
            await ctx.notify(NoticeKind.REFUND_REQUESTED)
            return True
        await refund.request_and_end(ctx, RefundReason.WITHDRAWAL, NoticeKind.REFUND_REQUESTED)
        return True
    overdue = state.delivery_overdue_at
    if overdue is not None and now >= overdue:
        carrier.stop_polling(ctx)
        ctx.record("system", "no delivery scan within the delivery period: the parcel is lost")
        await not_delivered(ctx, AttentionReason.PARCEL_LOST)
        return True
    poll_at = state.delivery_poll_at()
    if poll_at is not None and ctx.polled_number is None and now >= poll_at:
        # The carrier sends no webhooks: its delivery scan is asked for.
        carrier.start_polling(ctx, carrier.tracking_query(state, ctx.polled_past))
        return True
    return False


async def not_delivered(ctx: ReturnContext, reason: AttentionReason) -> None:
    """The parcel will not reach the seller: operations take it up with the carrier or the
    customer, and the customer is told what happens."""
    state = ctx.state
    carrier.stop_polling(ctx)
    ctx.attention(reason, True)
    await ctx.notify_all(
        [
            state.notice(NoticeKind.PARCEL_NOT_DELIVERED, attention=reason),
            state.notice(NoticeKind.OPERATIONS_ATTENTION, attention=reason),
        ]
    )
    ctx.finish()


def wakes_at(ctx: ReturnContext) -> dt.datetime | None:
    state = ctx.state
    if state.finished:
        return None
    clocks = [state.delivery_overdue_at]
    if state.refund_reason is None:
        clocks.append(state.refund_request_at)
    if ctx.polled_number is None:
        clocks.append(state.delivery_poll_at())
    return min((c for c in clocks if c is not None), default=None)
