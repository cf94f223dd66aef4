"""Shipping reminders the sweep asks for: at most one email a day, none where the customer
cannot act. Sent or skipped, each is recorded with who asked."""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notices.activities import NoticeActivities
    from domain.notices import NoticeBatch, NoticeKind
    from domain.returns import REMINDABLE_STAGES, ReturnStage
    from workflows import failures, policies
    from workflows.context import ReturnContext
    from workflows.return_state import MAX_PENDING_REMINDERS, ReturnState

CANNOT_ACT: dict[ReturnStage, str] = {
    ReturnStage.CHECKING_ELIGIBILITY: "the withdrawal is being checked",
    ReturnStage.REJECTED: "the withdrawal was not accepted",
    ReturnStage.AWAITING_REVIEW: "the withdrawal awaits operations' review",
    ReturnStage.AWAITING_RETURN_ADDRESS: "the customer has no return address yet",
    ReturnStage.PREPARING_SHIPMENT: "the shipment is being prepared",
    ReturnStage.PICKED_UP: "the carrier has the parcel",
    ReturnStage.DELIVERED: "the parcel is back with the seller",
}
"""Why a reminder is not sent in a stage where the customer cannot act (the others ended)."""


REMINDER_SKIPPED_WHILE_PREPARING = "reminder-skipped-while-preparing"
"""Patch: a reminder that came while the shipment was being prepared is skipped, as one that
came then is documented to be; before, it was taken once the label was out, and the customer
got the reminder seconds after the label email."""

REMINDERS_A_DAY_APART = "reminders-a-day-apart"
"""Patch: a reminder that comes less than `REMINDERS_APART` after the last one sent is skipped,
whatever day it names; before, one naming tomorrow (signalled by hand) was sent the same day as
today's, and the next day's sweep then found that day taken."""

REMINDERS_APART = dt.timedelta(hours=20)
"""The least time between two reminders sent: a day, less what the daily sweep may run late or
a change of clocks may take from it."""

REMINDER_GIVES_UP_AFTER = dt.timedelta(minutes=10)
"""How long a shipping reminder is tried: past it, it is recorded as not delivered, and the next
day's sweep sends the next one."""


async def act(ctx: ReturnContext) -> bool:
    """Take one reminder request; True if there was one."""
    state = ctx.state
    if not state.reminder_requests:
        return False
    for dropped in state.reminders_not_taken:
        ctx.record(
            "system",
            f"shipping reminder not taken (for {dropped.day}, asked by {dropped.origin}): "
            f"{MAX_PENDING_REMINDERS} were already waiting",
        )
    state.reminders_not_taken.clear()
    reminder, while_preparing = state.reminder_requests.pop(0)
    asked = f"for {reminder.day}, asked by {reminder.origin}"
    if while_preparing and ctx.patched(REMINDER_SKIPPED_WHILE_PREPARING):
        refusal: str | None = CANNOT_ACT[ReturnStage.PREPARING_SHIPMENT]
    else:
        refusal = _refusal(ctx, reminder.day, ctx.now())
    if refusal:
        ctx.record("system", f"shipping reminder skipped ({asked}): {refusal}")
        return True
    state.reminded_on = reminder.day
    notice = state.notice(
        NoticeKind.SHIPPING_REMINDER,
        chosen_carrier=state.choice.carrier if state.choice else None,
        reminder_day=reminder.day,
    )
    ctx.record("system", f"shipping reminder {notice.revision} {asked}")
    try:
        await workflow.execute_activity_method(
            NoticeActivities.send_notices,
            NoticeBatch(notices=[notice]),
            # A courtesy: the loop waits for it, so a relay that is down must not hold the
            # customer's and operations' requests queued behind it for hours.
            **policies.NOTICE.options(schedule_to_close_timeout=REMINDER_GIVES_UP_AFTER),
        )
    except ActivityError as err:
        # A courtesy, not a step of the return: no attention raised, nothing for operations
        # to retry; the next day's sweep sends the next one.
        why = failures.message(err)
        ctx.record("system", f"shipping reminder {notice.revision} not delivered: {why}")
        return True
    state.reminders_sent += 1
    state.last_reminder_at = ctx.now()
    ctx.record("system", f"shipping reminder {notice.revision} sent")
    ctx.refresh()
    return True


def _refusal(ctx: ReturnContext, day: dt.date, now: dt.datetime) -> str | None:
    """Why a reminder for `day` is not sent now; None when it is to be sent.

    `day` is the reminder's calendar day in the reminder time zone, worked out by the sweep
    (outside the workflow, where the time zone database is). The workflow only checks that it
    is a real day for now (every zone's today is within a day of UTC's), later than the last
    reminder's, and that the last reminder sent is most of a day old.
    """
    state: ReturnState = ctx.state
    if state.finished:
        return f"the return has ended (stage: {state.stage})"
    if state.expiring:
        return "the shipping deadline has passed: the return is expiring"
    if state.stage not in REMINDABLE_STAGES:
        return CANNOT_ACT.get(state.stage, f"the return has ended ({state.stage})")
    if state.dispatch_scan is not None:
        return "the carrier has the parcel"
    if now >= state.expires_at:
        return "the shipping deadline has passed: the return is expiring"
    if state.reported_at is not None:
        return "the customer reported the parcel as sent"
    if abs((day - now.date()).days) > 1:
        return f"{day} is not today"
    if state.reminded_on is not None and day <= state.reminded_on:
        return f"already reminded on {state.reminded_on}"
    last = state.last_reminder_at
    if last is not None and now - last < REMINDERS_APART and ctx.patched(REMINDERS_A_DAY_APART):
        return f"reminded less than a day ago ({last:%Y-%m-%d %H:%M} UTC)"
    return None
