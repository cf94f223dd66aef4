"""The run loop of a return: the one writer.

It takes, in this order, a reminder asked for, what is due in the current phase (a fact to act
on, a clock that has passed: the phase's `act`), then the oldest message a person sent; and
sleeps until something arrives or the phase's next clock (`wakes_at`). So a proof of dispatch
or an expiry is acted on before a message that came meanwhile, and a message is judged again,
by the transition table, when its turn comes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.returns import ReturnStage
    from workflows import admission
    from workflows.context import Intent, ReturnContext
    from workflows.stages import (
        address,
        choice,
        dispatched,
        ending,
        expiry,
        inspection,
        intake,
        operations,
        reminders,
        shipping,
    )
    from workflows.transitions import Message, Phase

Act = Callable[[ReturnContext], Awaitable[bool]]
WakesAt = Callable[[ReturnContext], dt.datetime | None]

STEPS: dict[Phase, tuple[Act, WakesAt]] = {
    ReturnStage.REJECTED: (intake.act, intake.wakes_at),
    ReturnStage.AWAITING_REVIEW: (intake.remind_reviewers, intake.review_reminder_at),
    ReturnStage.AWAITING_RETURN_ADDRESS: (address.act, address.wakes_at),
    ReturnStage.AWAITING_CUSTOMER_CHOICE: (shipping.act, shipping.wakes_at),
    ReturnStage.AWAITING_PICKUP: (shipping.act, shipping.wakes_at),
    ReturnStage.AWAITING_DROP_OFF: (shipping.act, shipping.wakes_at),
    ReturnStage.AWAITING_COUNTER_DROP_OFF: (shipping.act, shipping.wakes_at),
    ReturnStage.PICKED_UP: (dispatched.act, dispatched.wakes_at),
    ReturnStage.DELIVERED: (inspection.act, inspection.wakes_at),
    ReturnStage.EXPIRED: (expiry.watch, expiry.watch_ends_at),
}
"""What each phase does by itself, and when it next wakes; the others only wait."""


async def _choose(ctx: ReturnContext, intent: Intent) -> None:
    await choice.choose(ctx, intent, intent.argument)


HANDLERS: dict[Message, Callable[[ReturnContext, Intent], Awaitable[None]]] = {
    Message.CHOOSE: _choose,
    Message.GIVE_ADDRESS: address.give,
    Message.REPORT_SHIPMENT: shipping.report,
    Message.CANCEL: ending.cancel,
    Message.CLOSE: ending.close,
    Message.RETRY: operations.retry,
    Message.OVERRIDE: intake.override,
    Message.REFUND_WITHOUT_RETURN: address.refund_without_return,
    Message.REPORT_INSPECTION: inspection.report,
    Message.APPROVE_DEDUCTION: inspection.decide,
    Message.DECLINE_DEDUCTION: inspection.decide,
}
"""What the loop does with each message a person sent, once the table accepts it."""


async def run(ctx: ReturnContext) -> None:
    """From the intake until the return has ended with no problem left."""
    await intake.take_in(ctx)
    while True:
        found = ctx.look()
        ctx.metrics.record(ctx, found)
        await ctx.feed.publish(ctx, found)
        if await reminders.act(ctx):
            continue
        step = STEPS.get(ctx.phase)
        if step is not None and await step[0](ctx):
            continue
        if ctx.inbox:
            await _process(ctx, ctx.inbox.pop(0))
            continue
        if ctx.state.finished and not ctx.state.attention:
            return
        await ctx.idle(step[1](ctx) if step is not None else None)


async def _process(ctx: ReturnContext, intent: Intent) -> None:
    if intent.said:
        ctx.record(intent.actor, intent.said, intent)
    why = admission.problem(ctx, intent.message, intent.argument, queued=False)
    why = why or admission.changed_meaning(intent.accepted_in, intent.message, ctx.phase)
    if why:
        ctx.refuse(intent, why)
        if intent.message in (Message.CANCEL, Message.CLOSE):
            await choice.send_held_email(ctx)
        return
    await HANDLERS[intent.message](ctx, intent)
    ctx.answer(intent)
