"""The carrier has the parcel: the refund, on proof of dispatch or once the goods are back
(never past the refund deadline), and the notices to both sides."""

from __future__ import annotations

import datetime as dt

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.notices import NoticeKind
    from domain.returns import RefundReason, RefundTrigger, ReturnStage
    from workflows.context import ReturnContext
    from workflows.stages import carrier, problems, refund


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
    await carrier.void_spare_label(ctx)
    seller = NoticeKind.SELLER_PARCEL_DELIVERED if delivered else NoticeKind.SELLER_PARCEL_INBOUND
    if delivered or state.timings.refund_trigger is RefundTrigger.DISPATCH_PROOF:
        # Art. 13(3): proof of dispatch is all the trader may wait for.
        await refund.request_and_end(
            ctx, RefundReason.WITHDRAWAL, NoticeKind.PICKUP_CONFIRMED, seller
        )
        return
    await ctx.notify_all([state.notice(NoticeKind.PICKUP_CONFIRMED), state.notice(seller)])


async def act(ctx: ReturnContext) -> bool:
    """Refund on delivery: the delivery scan, a problem to tell, or the refund deadline."""
    state = ctx.state
    if state.finished:
        return False
    if state.delivery_scan is not None:
        ctx.record("system", "parcel delivered to the seller")
        ctx.set_stage(ReturnStage.DELIVERED)
        await refund.request_and_end(
            ctx,
            RefundReason.WITHDRAWAL,
            NoticeKind.REFUND_REQUESTED,
            NoticeKind.SELLER_PARCEL_DELIVERED,
        )
        return True
    if state.problem_scans:
        await problems.tell(ctx)
        return True
    if ctx.now() >= state.refund_due_by:
        ctx.record("system", "refund deadline reached before delivery: refunding")
        await refund.request_and_end(ctx, RefundReason.WITHDRAWAL, NoticeKind.REFUND_REQUESTED)
        return True
    return False


def wakes_at(ctx: ReturnContext) -> dt.datetime | None:
    return None if ctx.state.finished else ctx.state.refund_due_by
