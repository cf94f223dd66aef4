"""The refund request to the order service: idempotent by the return's key, refused for good
only on a conflict under that key, which operations retry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.orders import OrderActivities
    from domain.ids import idempotency_key
    from domain.money import refund_breakdown
    from domain.notices import NoticeKind
    from domain.returns import AttentionReason, RefundReason, RefundRequest
    from workflows import failures, policies
    from workflows.context import ReturnContext

T = TypeVar("T")


async def request(ctx: ReturnContext, reason: RefundReason) -> None:
    state = ctx.state
    state.refund_reason = reason
    order = state.event.order
    # Art. 13(1): the price and the standard delivery; Art. 14(1): less the label they owe.
    breakdown = refund_breakdown(order, state.label_withheld)
    state.refund_asked = breakdown
    try:
        state.refund = await order_service(
            OrderActivities.request_refund,
            RefundRequest(
                idempotency_key=idempotency_key(state.return_id, "refund"),
                return_id=state.return_id,
                order_id=order.order_id,
                line_id=order.line_id,
                amount=breakdown.total,
                breakdown=breakdown,
                reason=reason,
                due_by=state.refund_due_by,
            ),
        )
    except ActivityError as err:
        state.problem = f"refund not requested: {failures.message(err)}"
        ctx.record("system", "refund request refused by the order service")
        ctx.attention(AttentionReason.REFUND_REQUEST_FAILED, True)
        return
    ctx.attention(AttentionReason.REFUND_REQUEST_FAILED, False)
    ctx.record("system", f"refund requested ({state.refund.refund_id})")


async def order_service(activity: Callable[..., Awaitable[T]], request: object) -> T:
    """One call to the order service, under its policy (a conflict under a key, and a request
    refused for what it is, are final)."""
    return await workflow.execute_activity_method(
        activity,
        request,
        **policies.ORDER_SERVICE.options(),
    )


async def request_and_end(ctx: ReturnContext, reason: RefundReason, *told: NoticeKind) -> None:
    """The last step of a return that refunds: the refund, then the notices that tell of it
    (one batch), then the end."""
    await request(ctx, reason)
    await ctx.notify_all([ctx.state.notice(kind) for kind in told])
    ctx.finish()
