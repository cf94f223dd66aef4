"""Ending a return before the parcel leaves: the customer cancels, operations close it. What
was booked is undone, both sides are told (a cancellation), and the return completes."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.notices import NoticeKind
    from domain.returns import AttentionReason, CancelRequest, ReturnStage
    from workflows.context import Intent, ReturnContext
    from workflows.stages import carrier
    from workflows.transitions import DISPATCHED, Moment

CLOSE_SETTLES_WHAT_IS_LISTED = "close-settles-what-is-listed"
"""Patch: operations closing a live return clear the reasons the close makes moot."""

CANCEL_SETTLES_THE_ADDRESS = "cancel-settles-the-address"
"""Patch: a cancelled return no longer needs the seller's address, nor operations' decision
on a refund without one: the reasons listed for them are moot."""

_ABOUT_THE_ADDRESS = (
    AttentionReason.SELLER_ADDRESS_MISSING,
    AttentionReason.REFUND_DUE_WITHOUT_ADDRESS,
)

OUTLIVE_A_CLOSE = frozenset(
    {
        AttentionReason.CARRIER_CANCELLATION_FAILED,
        AttentionReason.CARRIER_CALL_UNANSWERED,
        AttentionReason.REFUND_REQUEST_FAILED,
    }
)
"""Reasons about something left live at the carrier, or money owed: a close does not settle
them, and the return ends with them (`ended_with_problems`) for operations."""


async def cancel(ctx: ReturnContext, intent: Intent) -> None:
    request: CancelRequest = intent.argument
    said = f": {request.reason}" if request.reason else ""
    ctx.record("customer", f"cancelled the return{said}", intent)
    await _wind_down(ctx, ReturnStage.CANCELLED, intent)


async def close(ctx: ReturnContext, intent: Intent) -> None:
    """Operations end the return; once it has ended with a problem left, `close` says the
    problem was handled outside returnflow, and the return completes as it stands."""
    if ctx.phase is Moment.ENDED_WITH_PROBLEMS:
        ctx.record(intent.actor, "the problems left are handled: the return completes", intent)
        ctx.clear_all_attention()
        ctx.answer(intent)
        return
    if ctx.phase in DISPATCHED:
        # The parcel has left and the refund is asked for: nothing to undo at the carrier. Money
        # still owed stays listed (the return then ends with it, for operations).
        ctx.record(intent.actor, "no longer followed: the return completes as it stands", intent)
        carrier.stop_polling(ctx)
        ctx.upsert(ctx.clear_attention(*_moot_on_close(ctx)))
        ctx.answer(intent)
        ctx.finish()
        return
    await _wind_down(ctx, ReturnStage.CLOSED, intent)


async def _wind_down(ctx: ReturnContext, stage: ReturnStage, intent: Intent) -> None:
    state = ctx.state
    carrier.stop_polling(ctx)
    if stage is ReturnStage.CLOSED and workflow.patched(CLOSE_SETTLES_WHAT_IS_LISTED):
        # Operations end the return: what was about its going on is moot. What is left at the
        # carrier or owed stays listed until they settle it (a second close).
        moot = _moot_on_close(ctx)
    else:
        moot = [*ctx.choice_problems(), AttentionReason.UNKNOWN_ORDER_STATUS]
        about_the_address = [
            c for c in state.attention if AttentionReason.of(c) in _ABOUT_THE_ADDRESS
        ]
        cancelled = stage is ReturnStage.CANCELLED
        if cancelled and about_the_address and workflow.patched(CANCEL_SETTLES_THE_ADDRESS):
            moot += about_the_address
    ctx.set_stage(stage, *ctx.clear_attention(*moot))
    ctx.answer(intent)
    await carrier.undo_shipment(ctx)
    if stage is ReturnStage.CANCELLED:
        await ctx.notify_all(
            [
                state.notice(NoticeKind.RETURN_CANCELLED),
                state.notice(NoticeKind.SELLER_RETURN_CANCELLED),
            ]
        )
    ctx.finish()


def _moot_on_close(ctx: ReturnContext) -> list[str]:
    """The listed reasons operations' close settles: all but what is left at the carrier or
    owed."""
    return [c for c in ctx.state.attention if AttentionReason.of(c) not in OUTLIVE_A_CLOSE]
