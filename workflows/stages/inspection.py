"""The parcel is back with the seller: the seller reports what came back within the inspection
period (silence means as sold). A deduction for goods handled beyond testing them, or missing
items (Art. 14(2)), waits for operations' approval; once approved the customer is told why, and
it is claimed from the refund, which Art. 13(3) does not let the trader hold back for the
inspection. A device still locked or another device is for operations to settle."""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.orders import OrderActivities
    from domain.ids import idempotency_key
    from domain.inspection import DEDUCTIBLE, ClaimRequest, InspectionOutcome, InspectionReport
    from domain.notices import NoticeKind
    from domain.returns import (
        AttentionAction,
        AttentionReason,
        AttentionResolution,
        RefundReason,
        ReturnStage,
    )
    from workflows import failures
    from workflows.context import Intent, ReturnContext
    from workflows.stages import carrier, refund

TO_APPROVE = AttentionReason.DEDUCTION_TO_APPROVE


def begin(ctx: ReturnContext) -> None:
    """The parcel reached the seller: the inspection period starts."""
    state = ctx.state
    state.delivered_at = ctx.now()
    state.inspection_due_by = state.delivered_at + state.timings.inspection_period


async def delivered(ctx: ReturnContext, seller_told: bool = True) -> None:
    """A return that follows its parcel learns it is delivered: the stage, the refund if it
    waited for the goods, and the seller asked to report what came back."""
    state = ctx.state
    carrier.stop_polling(ctx)
    exceptions = [
        c for c in state.attention if AttentionReason.of(c) is AttentionReason.CARRIER_EXCEPTION
    ]
    ctx.set_stage(ReturnStage.DELIVERED, *ctx.clear_attention(*exceptions))
    begin(ctx)
    told = [NoticeKind.SELLER_PARCEL_DELIVERED] if seller_told else []
    if state.refund_reason is None:
        await refund.request(ctx, RefundReason.WITHDRAWAL)
        told.insert(0, NoticeKind.REFUND_REQUESTED)
    if told:
        await ctx.notify_all([state.notice(kind) for kind in told])


async def act(ctx: ReturnContext) -> bool:
    """The inspection period ended without a report: the goods are taken as sold."""
    state = ctx.state
    due = state.inspection_due_by
    if state.finished or due is None or state.inspection_report is not None:
        return False
    if ctx.now() < due:
        return False
    ctx.record("system", "no inspection report within the inspection period: taken as sold")
    ctx.finish()
    return True


def wakes_at(ctx: ReturnContext) -> dt.datetime | None:
    state = ctx.state
    if state.finished or state.inspection_report is not None:
        return None
    return state.inspection_due_by


async def report(ctx: ReturnContext, intent: Intent) -> None:
    """The seller's report (or operations' for the seller)."""
    state = ctx.state
    given: InspectionReport = intent.argument
    if state.stage is ReturnStage.PICKED_UP:
        ctx.record(intent.actor, "the parcel is with the seller (no delivery scan)", intent)
        await delivered(ctx, seller_told=False)
    state.inspection_report = given
    ctx.record(intent.actor, f"inspection reported: {given.outcome}", intent)
    if given.outcome is InspectionOutcome.AS_SOLD:
        ctx.answer(intent)
        ctx.finish()
        return
    reason = TO_APPROVE if given.outcome in DEDUCTIBLE else AttentionReason.INSPECTION_DISPUTE
    ctx.attention(reason, True)
    ctx.answer(intent)
    await ctx.notify(NoticeKind.OPERATIONS_ATTENTION, attention=reason, detail=given.reason)
    if reason is AttentionReason.INSPECTION_DISPUTE:
        ctx.finish()  # settled by operations with both sides, then closed


async def decide(ctx: ReturnContext, intent: Intent) -> None:
    """Operations approve or decline the seller's deduction."""
    state = ctx.state
    resolution: AttentionResolution = intent.argument
    approved = resolution.action is AttentionAction.APPROVE_DEDUCTION
    state.deduction_decision = "approved" if approved else "declined"
    state.deduction_decided_by = resolution.by
    ctx.attention(TO_APPROVE, False)
    if not approved:
        ctx.record(intent.actor, "deduction declined: the refund stands whole", intent)
        ctx.answer(intent)
        ctx.finish()
        return
    ctx.record(intent.actor, "deduction approved", intent)
    await claim(ctx)
    ctx.answer(intent)
    await ctx.notify(NoticeKind.DEDUCTION_APPROVED)
    ctx.finish()


async def claim(ctx: ReturnContext) -> None:
    """Claim the approved deduction from the refund (idempotent by the return's key): a
    refusal for good is listed for operations, who retry it."""
    state = ctx.state
    given = state.inspection_report
    assert given is not None and given.deduction is not None and given.reason is not None
    assert state.deduction_decided_by is not None
    order = state.event.order
    request = ClaimRequest(
        idempotency_key=idempotency_key(state.return_id, "claim"),
        return_id=state.return_id,
        order_id=order.order_id,
        line_id=order.line_id,
        refund_id=state.refund.refund_id if state.refund else None,
        amount=given.deduction,
        outcome=given.outcome,
        reason=given.reason,
        evidence=given.evidence,
        approved_by=state.deduction_decided_by,
    )
    try:
        state.claim = await refund.order_service(OrderActivities.file_claim, request)
    except ActivityError as err:
        state.problem = f"claim not filed: {failures.message(err)}"
        ctx.record("system", "claim refused by the order service")
        ctx.attention(AttentionReason.CLAIM_FAILED, True)
        return
    ctx.attention(AttentionReason.CLAIM_FAILED, False)
    ctx.record("system", f"deduction claimed from the refund ({state.claim.claim_id})")
