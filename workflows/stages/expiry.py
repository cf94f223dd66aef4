"""The shipping deadline and its grace passed: a last look at the carrier, then the return
expires, undoing what it booked. A proof of dispatch found by the last look wins; one that comes
later, while the expired return listens for its parcel, brings it back to the refund."""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.carriers.activities import CarrierActivities
    from domain.carriers import TrackingQuery
    from domain.notices import NoticeKind
    from domain.returns import AttentionReason, ReturnStage
    from workflows import failures, policies
    from workflows.context import ReturnContext
    from workflows.stages import carrier, dispatched

LATE_PARCEL_WATCH = "late-parcel-watch"
"""Patch: an expired return whose parcel has a tracking number listens for it a while."""

LISTENING_AS_IT_EXPIRES = "late-parcel-watch-from-the-expiry"
"""Patch: the watch for a late parcel starts as the return expires, before what was booked is
undone and both sides are told, so that a proof of dispatch arriving meanwhile is taken."""


async def expire(ctx: ReturnContext) -> None:
    state = ctx.state
    state.expiring = True
    carrier.stop_polling(ctx)
    ctx.refresh()
    tracking = state.tracking_number
    if tracking is not None and state.choice is not None:
        ctx.record("system", "shipping deadline passed: asking the carrier a last time")
        query = TrackingQuery(carrier=state.choice.carrier, tracking_number=tracking)
        by = ctx.now() + policies.LAST_LOOK_WITHIN
        try:
            scans = await ctx.carrier(CarrierActivities.track_parcel, query, by=by)
        except ActivityError as err:
            ctx.record("system", f"last tracking check failed: {failures.message(err)}")
            scans = []
        for scan in scans:
            if state.take_scan(scan, hold=False):
                ctx.record(f"carrier:{scan.carrier}", f"scan {scan.status}")
    state.expiring = False
    if state.dispatch_scan is not None:
        await dispatched.enter(ctx)  # the carrier had the parcel after all
        return
    ctx.record("system", "not shipped by the deadline: the return has expired")
    parcel = state.tracking_number
    watch = state.timings.late_parcel_watch
    listening = (
        parcel is not None
        and bool(watch)
        and workflow.patched(LISTENING_AS_IT_EXPIRES)
        and workflow.patched(LATE_PARCEL_WATCH)
    )
    if listening:
        # Scans of the parcel are taken from now on (`ReturnWorkflow._take_scans`): one that
        # comes while the expiry undoes the booking brings the return back to the refund.
        state.late_parcel = parcel
        state.late_watch_ends = ctx.now() + watch
    ctx.set_stage(ReturnStage.EXPIRED, *ctx.clear_attention(*ctx.choice_problems()))
    if state.refund_reason is not None:
        # Refunded at the refund deadline, before the goods left: they are still with the
        # customer, which the seller may claim.
        kept = AttentionReason.REFUNDED_NOT_RETURNED
        ctx.attention(kept, True)
        await ctx.notify(NoticeKind.OPERATIONS_ATTENTION, attention=kept)
    await carrier.undo_shipment(ctx)
    await ctx.notify_all(
        [
            state.notice(NoticeKind.RETURN_EXPIRED),
            state.notice(NoticeKind.SELLER_RETURN_EXPIRED),
        ]
    )
    if not listening and parcel is not None and watch and workflow.patched(LATE_PARCEL_WATCH):
        # Histories from before the watch started at the expiry: it starts here.
        state.late_parcel = parcel
        state.late_watch_ends = ctx.now() + watch
        listening = True
    if listening:
        # Art. 14(1) breached does not cancel the withdrawal: a parcel sent late is refunded.
        ctx.record("system", "listening for a late parcel")
        ctx.refresh()
        return
    ctx.finish()


async def watch(ctx: ReturnContext) -> bool:
    """Expired, listening for a late parcel: its dispatch brings the return back to the refund
    path (operations told); the end of the watch ends the return."""
    state = ctx.state
    ends = state.late_watch_ends
    if ends is None or state.finished:
        return False
    if state.dispatch_scan is not None:
        state.late_watch_ends = None
        ctx.record("system", "the parcel was sent after the return expired: refunding")
        reason = AttentionReason.LATE_PARCEL
        ctx.attention(reason, True)
        await ctx.notify(NoticeKind.OPERATIONS_ATTENTION, attention=reason)
        await dispatched.enter(ctx)
        return True
    if ctx.now() >= ends:
        state.late_watch_ends = None
        ctx.record("system", "no late parcel: the return ends expired")
        ctx.finish()
        return True
    return False


def watch_ends_at(ctx: ReturnContext) -> dt.datetime | None:
    return None if ctx.state.finished else ctx.state.late_watch_ends
