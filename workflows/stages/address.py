"""The seller's return address: asked in the seller chat, reminded, escalated; then handed to
the customer, which starts their shipping deadline."""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.sellers.activities import SellerActivities
    from domain import search_attributes as sa
    from domain.addresses import PostalAddress
    from domain.ids import idempotency_key
    from domain.notices import NoticeKind, SellerChatKind, SellerChatMessage
    from domain.returns import (
        AttentionReason,
        AttentionResolution,
        ReturnAddressReply,
        ReturnStage,
    )
    from workflows import failures, policies
    from workflows.context import Intent, ReturnContext

MISSING = AttentionReason.SELLER_ADDRESS_MISSING


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
    """The seller's reminder, then the escalation to operations, when their time comes."""
    state = ctx.state
    now = ctx.now()
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
    if not state.seller_reminded:
        return state.seller_reminder_at
    return None if state.escalated else state.escalation_at


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
    ctx.record(intent.actor, "gave the return address", intent)
    await hand_over(ctx, intent)


async def hand_over(ctx: ReturnContext, intent: Intent | None = None) -> None:
    """Send the customer the address and the ways to send the parcel: their 14 days start."""
    state = ctx.state
    ship_by = state.ship_by
    state.address_sent_at = ctx.now()
    moved = [sa.SHIP_BY.value_set(state.ship_by)] if state.ship_by != ship_by else []
    ctx.set_stage(
        ReturnStage.AWAITING_CUSTOMER_CHOICE, *moved, *ctx.attention_updates(MISSING, False)
    )
    if intent is not None:
        ctx.answer(intent)
    await ctx.notify(
        NoticeKind.RETURN_ADDRESS,
        acknowledges=state.address_on_file,
        locator_carrier=state.locator_carrier(),
    )


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
            start_to_close_timeout=policies.SELLER_CHAT.start_to_close_timeout,
            retry_policy=policies.SELLER_CHAT.retry_policy,
        )
    except ActivityError as err:
        ctx.record("system", f"seller chat failed: {failures.message(err)}")
        return
    ctx.record("system", f"seller chat: {kind}")


def _passed(moment: dt.datetime | None, now: dt.datetime) -> bool:
    return moment is not None and now >= moment
