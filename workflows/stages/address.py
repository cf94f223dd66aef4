"""The seller's return address: asked in the seller chat, reminded, escalated; then handed to
the customer, which starts their shipping deadline. The refund deadline runs meanwhile: before
it, operations decide (a fallback address, or a refund without a return); at it, the refund is
requested anyway (Art. 13(1): no parcel could leave, so nothing justifies withholding it)."""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.carriers.activities import CarrierActivities
    from activities.sellers.activities import SellerActivities
    from domain import search_attributes as sa
    from domain.addresses import PostalAddress
    from domain.carriers import LabelCostBearer, LabelPricesRequest
    from domain.ids import idempotency_key
    from domain.notices import NoticeKind, SellerChatKind, SellerChatMessage
    from domain.returns import (
        AttentionReason,
        AttentionResolution,
        RefundReason,
        ReturnAddressReply,
        ReturnStage,
    )
    from workflows import failures, policies
    from workflows.context import Intent, ReturnContext
    from workflows.stages import refund

MISSING = AttentionReason.SELLER_ADDRESS_MISSING
DECIDE = AttentionReason.REFUND_DUE_WITHOUT_ADDRESS


async def ask(ctx: ReturnContext, intent: Intent | None = None) -> None:
    """No address on file: acknowledge at once, ask the seller in the chat."""
    state = ctx.state
    state.address_requested_at = ctx.now()
    ctx.set_stage(ReturnStage.AWAITING_RETURN_ADDRESS)
    if intent is not None:
        ctx.answer(intent)
    ctx.record("system", "no return address on file: asking the seller in the chat")
    # The acknowledgement cannot wait for the seller (Art. 11(3)).
    await ctx.notify(NoticeKind.ACKNOWLEDGEMENT)
    await ask_seller(ctx, SellerChatKind.ADDRESS_REQUEST, state.escalation_at)


async def act(ctx: ReturnContext) -> bool:
    """The seller's reminder, then the escalation to operations, when their time comes; the
    refund deadline, and operations' decision before it."""
    state = ctx.state
    now = ctx.now()
    if state.intake_patched and state.refund_reason is None:
        if now >= state.refund_request_at:
            ctx.record(
                "system",
                "refund deadline reached without the seller's return address: refunding",
            )
            await refund.request(ctx, RefundReason.WITHDRAWAL)
            await ctx.notify(NoticeKind.REFUND_BEFORE_RETURN)
            return True
        if not state.refund_decision_asked and now >= state.refund_decision_at:
            state.refund_decision_asked = True
            ctx.record("system", "refund deadline near without an address: operations to decide")
            ctx.attention(DECIDE, True)
            await ctx.notify(NoticeKind.OPERATIONS_ATTENTION, attention=DECIDE)
            return True
    if not state.seller_reminded and _passed(state.seller_reminder_at, now):
        state.seller_reminded = True
        await ask_seller(ctx, SellerChatKind.ADDRESS_REMINDER, state.escalation_at)
        return True
    if state.seller_reminded and not state.escalated and _passed(state.escalation_at, now):
        state.escalated = True
        ctx.record("system", "the seller has not answered: escalated to operations")
        ctx.attention(MISSING, True)
        await ctx.notify(NoticeKind.OPERATIONS_ATTENTION, attention=MISSING)
        return True
    return False


def wakes_at(ctx: ReturnContext) -> dt.datetime | None:
    state = ctx.state
    clocks: list[dt.datetime | None] = []
    if not state.seller_reminded:
        clocks.append(state.seller_reminder_at)
    elif not state.escalated:
        clocks.append(state.escalation_at)
    if state.intake_patched and state.refund_reason is None:
        decided = state.refund_decision_asked
        clocks.append(state.refund_request_at if decided else state.refund_decision_at)
    return min((c for c in clocks if c is not None), default=None)


async def give(ctx: ReturnContext, intent: Intent) -> None:
    """The seller, or operations on their behalf, gave the address: the first one is used."""
    given: PostalAddress
    if isinstance(intent.argument, ReturnAddressReply):
        given = intent.argument.address
    else:
        resolution: AttentionResolution = intent.argument
        assert resolution.address is not None
        given = resolution.address
    ctx.state.return_address = given
    if DECIDE in ctx.state.attention and intent.actor != "seller":
        ctx.record(intent.actor, "decided: a fallback return address", intent)
    ctx.record(intent.actor, "gave the return address", intent)
    await hand_over(ctx, intent)


async def refund_without_return(ctx: ReturnContext, intent: Intent) -> None:
    """Operations refund the customer, who keeps the goods: the seller gave no address."""
    state = ctx.state
    ctx.record(intent.actor, "decided: a refund without a return", intent)
    ctx.set_stage(ReturnStage.CLOSED, *ctx.clear_attention(MISSING, DECIDE))
    ctx.answer(intent)
    if state.refund_reason is None:
        await refund.request(ctx, RefundReason.WITHOUT_RETURN)
    await ctx.notify(NoticeKind.REFUND_BEFORE_RETURN, keeps_goods=True)
    ctx.finish()


async def hand_over(ctx: ReturnContext, intent: Intent | None = None) -> None:
    """Send the customer the address and the ways to send the parcel: their 14 days start."""
    state = ctx.state
    customer_pays = state.timings.label_paid_by is LabelCostBearer.CUSTOMER
    if state.label_prices_patched and customer_pays and state.refund_reason is None:
        await price_labels(ctx)  # before the choice opens, so it is never offered unpriced
    ship_by = state.ship_by
    state.address_sent_at = ctx.now()
    moved = [sa.SHIP_BY.value_set(state.ship_by)] if state.ship_by != ship_by else []
    ctx.set_stage(
        ReturnStage.AWAITING_CUSTOMER_CHOICE, *moved, *ctx.clear_attention(MISSING, DECIDE)
    )
    if intent is not None:
        ctx.answer(intent)
    await ctx.notify(
        NoticeKind.RETURN_ADDRESS,
        acknowledges=state.address_on_file,
        locator_carrier=state.locator_carrier(),
    )


async def price_labels(ctx: ReturnContext) -> None:
    """Each offered carrier's price for this return's label, before the customer chooses
    (Art. 6(1)(i), 14(1)); without a price nothing is shown and nothing withheld."""
    state = ctx.state
    assert state.return_address is not None
    order = state.event.order
    request = LabelPricesRequest(
        offers=state.offers,
        sender=state.event.customer.address,
        recipient=state.return_address,
        parcel=state.parcel,
        currency=order.product.price.currency,
    )
    try:
        state.offers = await workflow.execute_activity_method(
            CarrierActivities.price_return_labels,
            request,
            **policies.LABEL_PRICES.options(),
        )
    except ActivityError as err:
        ctx.record("system", f"label prices not quoted: {failures.message(err)}")
        return
    quoted = [
        f"{o.code} {o.label_price.amount} {o.label_price.currency}"
        for o in state.offers
        if o.label_price is not None
    ]
    ctx.record("system", f"label prices: {', '.join(quoted) or 'none quoted'}")


async def ask_seller(
    ctx: ReturnContext, kind: SellerChatKind, reply_by: dt.datetime | None
) -> None:
    """A message in the seller chat, posted at most once (its ID is derived from the ask)."""
    state = ctx.state
    state.seller_asks += 1
    order = state.event.order
    message = SellerChatMessage(
        message_id=idempotency_key(state.return_id, f"chat-{kind}", state.seller_asks),
        kind=kind,
        return_id=state.return_id,
        seller_id=order.seller_id,
        order_id=order.order_id,
        line_id=order.line_id,
        reply_by=reply_by,
    )
    try:
        await workflow.execute_activity_method(
            SellerActivities.message_seller,
            message,
            **policies.SELLER_CHAT.options(),
        )
    except ActivityError as err:
        ctx.record("system", f"seller chat failed: {failures.message(err)}")
        return
    ctx.record("system", f"seller chat: {kind}")


def _passed(moment: dt.datetime | None, now: dt.datetime) -> bool:
    return moment is not None and now >= moment
