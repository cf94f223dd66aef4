"""The start of a return: the intake, then a cancellation, a rejection under review, or an
accepted return that gets its address."""

from __future__ import annotations

import datetime as dt

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.intake import IntakeActivities
    from domain import search_attributes as sa
    from domain.addresses import PostalAddress
    from domain.carriers import CarrierOffer
    from domain.notices import NoticeKind
    from domain.returns import (
        AcceptanceLookups,
        AttentionReason,
        AttentionResolution,
        RefundReason,
        ReturnIntake,
        ReturnStage,
    )
    from workflows.context import Intent, ReturnContext
    from workflows.stages import address, refund

INTAKE_RULES = "review-refund-deadline-silent-carriers"
"""Patch, taken as the return starts, before its intake's local activity (one marker, one
upsert of `TemporalChangeVersion` per return; taken after it, a replay that resolves the local
activity early would not see the marker yet): a withdrawal whose order status is unknown awaits
operations' review instead of being rejected when a review period ends; the refund deadline
runs while the seller's address is missing (operations decide before it) and while a
collection the marketplace booked is still to come; a parcel on a carrier without tracking
webhooks is polled though nobody reported it sent, and a carrier that cannot be polled never
is."""

REFUND_REQUESTED_AHEAD = "refund-requested-ahead-of-deadline"
"""Patch: a refund the deadline calls for is requested `refund_request_ahead` before it
(`ReturnState.refund_request_at`)."""

LABEL_PRICES = "label-prices"
"""Patch, taken beside `INTAKE_RULES`: the offered carriers quote their label's price once the
seller's address is known, the address email shows each, and a label the customer pays for
(`RETURNFLOW_RETURN_LABEL_PAID_BY`) is withheld from their refund at the price shown."""


async def take_in(ctx: ReturnContext) -> None:
    """One local activity for the lookups of the start (one billable action), then decide."""
    state = ctx.state
    ctx.record("customer", "withdrawal notice received")
    state.intake_patched = workflow.patched(INTAKE_RULES)
    state.label_prices_patched = workflow.patched(LABEL_PRICES)
    state.refund_ahead_patched = workflow.patched(REFUND_REQUESTED_AHEAD)
    intake: ReturnIntake = await ctx.local(IntakeActivities.take_in, state.event)
    state.timings = intake.timings
    state.calendar = intake.calendar
    state.decision = intake.decision
    ctx.feed.plan = intake.feed
    if state.calendar is not None:
        # Counted in the customer's days now: a starter that could not count them set another.
        ctx.upsert([sa.SHIP_BY.value_set(state.ship_by)])
    if intake.decision.cancellation:
        await _cancel_before_shipment(ctx)
    elif intake.decision.accepted:
        state.address_at_intake = intake.return_address is not None
        await accept(ctx, intake.return_address, intake.offers)
    else:
        await _reject(ctx)


async def accept(
    ctx: ReturnContext,
    return_address: PostalAddress | None,
    offers: list[CarrierOffer],
    intent: Intent | None = None,
) -> None:
    state = ctx.state
    state.offers = offers
    ctx.record("system", "accepted as a return")
    if return_address is None:
        await address.ask(ctx, intent)
        return
    state.return_address = return_address
    state.address_on_file = True
    ctx.record("system", "seller's return address found on file")
    await address.hand_over(ctx, intent)


async def _cancel_before_shipment(ctx: ReturnContext) -> None:
    ctx.record("system", "order not shipped yet: cancelled instead of returned")
    ctx.set_stage(ReturnStage.CANCELLED_BEFORE_SHIPMENT)
    # The seller first: the sooner they know, the likelier the parcel never leaves.
    await refund.request_and_end(
        ctx,
        RefundReason.CANCELLED_BEFORE_SHIPMENT,
        NoticeKind.SELLER_STOP_SHIPMENT,
        NoticeKind.CANCELLATION_CONFIRMED,
    )


async def _reject(ctx: ReturnContext) -> None:
    """Tell the customer why; the return stays open for operations to override it. An order
    status this version does not know decides nothing: the return awaits operations' review."""
    state = ctx.state
    decision = state.decision
    assert decision is not None and decision.reason is not None
    unknown = decision.awaits_review
    state.rejected_at = ctx.now()
    reason = AttentionReason.UNKNOWN_ORDER_STATUS
    if unknown and state.intake_patched:
        ctx.record("system", "order status unknown: awaiting operations' review")
        ctx.set_stage(ReturnStage.AWAITING_REVIEW, *ctx.attention_updates(reason, True))
        state.reviews_asked = 1
        await ctx.notify_all(
            [
                state.notice(NoticeKind.REJECTION),
                state.notice(NoticeKind.OPERATIONS_ATTENTION, attention=reason),
            ]
        )
        return
    ctx.record("system", f"not accepted: {decision.reason}")
    ctx.set_stage(ReturnStage.REJECTED, *ctx.attention_updates(reason, unknown))
    notices = [state.notice(NoticeKind.REJECTION)]
    if unknown:
        notices.append(state.notice(NoticeKind.OPERATIONS_ATTENTION, attention=reason))
    await ctx.notify_all(notices)


async def act(ctx: ReturnContext) -> bool:
    """Rejected: at the end of the review period, the return ends as rejected."""
    state = ctx.state
    ends = state.rejection_review_ends
    if state.finished or ends is None or ctx.now() < ends:
        return False
    ctx.record("system", "review period over: the return ends rejected")
    ctx.attention(AttentionReason.UNKNOWN_ORDER_STATUS, False)
    ctx.finish()
    return True


def wakes_at(ctx: ReturnContext) -> dt.datetime | None:
    return None if ctx.state.finished else ctx.state.rejection_review_ends


async def remind_reviewers(ctx: ReturnContext) -> bool:
    """Awaiting review: every review period, operations are reminded; nothing else happens."""
    state = ctx.state
    due = state.review_reminder_at
    if due is None or ctx.now() < due:
        return False
    state.reviews_asked += 1
    ctx.record(
        "system",
        f"order status still unknown: operations reminded (email {state.reviews_asked})",
    )
    reason = AttentionReason.UNKNOWN_ORDER_STATUS
    await ctx.notify(NoticeKind.OPERATIONS_ATTENTION, attention=reason)
    return True


def review_reminder_at(ctx: ReturnContext) -> dt.datetime | None:
    return ctx.state.review_reminder_at


async def override(ctx: ReturnContext, intent: Intent) -> None:
    """Operations accept the rejected withdrawal: read what an accepted return needs, go on."""
    state = ctx.state
    resolution: AttentionResolution = intent.argument
    decision = state.decision
    assert decision is not None
    state.decision = decision.model_copy(
        update={"accepted": True, "reason": None, "overridden_by": resolution.by}
    )
    ctx.attention(AttentionReason.UNKNOWN_ORDER_STATUS, False)
    ctx.forget_failed(NoticeKind.REJECTION)  # accepted now: the rejection is moot
    found: AcceptanceLookups = await ctx.local(
        IntakeActivities.lookups_for_acceptance, state.event.order.seller_id
    )
    await accept(ctx, found.return_address, found.offers, intent)
