"""A label whose price the refund withholds, and a loop held up by a reminder the relay does
not take: the set-up of the races between a change of way and the refund's deadline, shared by
their tests and their recorded paths."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from temporalio.client import WorkflowUpdateHandle, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.base import Money
from domain.calendar import next_pickup_date
from domain.carriers import ReturnMethod
from domain.notices import NoticeKind
from domain.returns import (
    ActionResult,
    CancelRequest,
    ReturnMethodChoice,
    ReturnStage,
    ShippingReminder,
)
from domain.timings import ReturnTimings
from tests.factories import retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, DROP_OFF_ONLY, SANDBOX_OFFER, Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, time_to
from workflows.return_workflow import ReturnWorkflow

LABEL_PRICE = Money(amount=Decimal("6.25"), currency="EUR")
Faults = Callable[[str, str], ApplicationError | None]

COUNTER = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo")


def relay_refuses_reminders(activity_name: str, key: str) -> ApplicationError | None:
    """The relay takes every email but the shipping reminders."""
    if (activity_name, key) != ("send_notices", NoticeKind.SHIPPING_REMINDER):
        return None
    return ApplicationError("The mail relay is unavailable", type="MailRelayUnavailable")


def priced_label_doubles(timings: ReturnTimings, faults: Faults) -> Doubles:
    """Three carriers, the sandbox's label priced 6.25 (withheld from a refund asked first)."""
    return Doubles(
        offers=[SANDBOX_OFFER, DROP_OFF_ONLY, COUNTER_LABEL_POST],
        label_prices={"sandbox": LABEL_PRICE},
        timings=timings,
        faults=faults,
    )


async def change_taken_while_reminding(
    env: WorkflowEnvironment, handle: ReturnHandle, ahead: dt.timedelta
) -> WorkflowUpdateHandle[ActionResult]:
    """Five minutes before the refund is to be asked, a reminder the relay holds up keeps the
    loop busy (10 minutes); a change to the counter is taken by the validator meanwhile."""
    before = dt.timedelta(minutes=5)
    await env.fast_forward(
        handle, await time_to(handle, lambda s: s.refund_due_by) - ahead - before
    )
    status = await handle.query(ReturnWorkflow.status)
    today = (status.refund_due_by - ahead - before).astimezone(dt.UTC).date()
    await handle.signal(
        ReturnWorkflow.remind_to_ship, ShippingReminder(day=today, origin="operations:ana")
    )
    async with asyncio.timeout(10):  # the loop is busy sending the reminder
        while not (await handle.describe()).raw_description.pending_activities:
            await asyncio.sleep(0.05)
    return await handle.start_update(
        ReturnWorkflow.choose_return_method, COUNTER, wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )


async def pickup_booked(harness: ReturnHarness) -> tuple[ReturnHandle, ActionResult]:
    """A return whose customer booked a sandbox pickup on the first collection day."""
    handle = await harness.start(retract_event())
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    booked = await handle.execute_update(
        ReturnWorkflow.choose_return_method,
        ReturnMethodChoice(
            method=ReturnMethod.MAILBOX_PICKUP,
            carrier="sandbox",
            pickup_date=next_pickup_date(dt.datetime.now(dt.UTC)),
        ),
    )
    return handle, booked


async def cancelled_while_booking(
    handle: ReturnHandle, doubles: Doubles, pickup_day: dt.date
) -> tuple[WorkflowUpdateHandle[ActionResult], WorkflowUpdateHandle[ActionResult]]:
    """The customer books a pickup on `pickup_day` and cancels while the carrier books it (held
    by `doubles`): both taken by their validators, the choice's and the cancel's handles."""
    choose = await handle.start_update(
        ReturnWorkflow.choose_return_method,
        ReturnMethodChoice(
            method=ReturnMethod.MAILBOX_PICKUP, carrier="sandbox", pickup_date=pickup_day
        ),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    async with asyncio.timeout(10):
        await doubles.in_flight("book_mailbox_pickup").wait()
    cancel = await handle.start_update(
        ReturnWorkflow.cancel,
        CancelRequest(reason="changed my mind"),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    return choose, cancel
