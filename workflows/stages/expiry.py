"""The shipping deadline and its grace passed: a last look at the carrier, then the return
expires, undoing what it booked. A proof of dispatch found by the last look wins."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.carriers.activities import CarrierActivities
    from domain.carriers import TrackingQuery
    from domain.notices import NoticeKind
    from domain.returns import ReturnStage
    from workflows import failures, policies
    from workflows.context import ReturnContext
    from workflows.stages import carrier, dispatched


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
    ctx.set_stage(ReturnStage.EXPIRED, *ctx.clear_attention(*ctx.choice_problems()))
    await carrier.undo_shipment(ctx)
    await ctx.notify_all(
        [
            state.notice(NoticeKind.RETURN_EXPIRED),
            state.notice(NoticeKind.SELLER_RETURN_EXPIRED),
        ]
    )
    ctx.finish()
