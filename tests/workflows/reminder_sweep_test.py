"""The reminder sweep on the dev server: it finds, through visibility, the unshipped returns
whose ShipBy is near, and each of them reminds its customer once that day."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.reminders.query import unshipped_returns_query
from domain.carriers import ReturnMethod
from domain.notices import NoticeKind
from domain.periods import calendar_for, period_end
from domain.returns import SHIPPING_DAYS, ReturnMethodChoice, ReturnStage
from domain.timings import ReturnTimings
from reminders.models import SweepRequest, SweepResult
from tests.factories import SELLER_WITHOUT_ADDRESS, reminded_notice_at, retract_event
from tests.workflows.doubles import Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness
from workflows.reminder_sweep import UnshippedReturnsSweep
from workflows.return_workflow import ReturnWorkflow

DAY = dt.timedelta(days=1)
HORIZON = 3 * DAY
DROP_OFF = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")


MARGIN = dt.timedelta(minutes=10)
"""Longer than the test takes."""

LONG_GRACE = ReturnTimings(expiry_grace=7 * DAY)
"""A grace longer than a weekend and a day: whatever the hour, some withdrawal of the last
three weeks is late and not expiring (with the 3 days' default, none is in the minutes about
midnight after a Monday deadline)."""


def late_notice_at() -> dt.datetime:
    """A withdrawal whose ShipBy has passed and whose expiry has not, now: its 14 days end on a
    working day (Regulation 1182/71), so how long ago depends on today's weekday and holidays."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for hours_ago in range(15 * 24, 21 * 24):
        notice_at = now - dt.timedelta(hours=hours_ago)
        calendar = calendar_for("FR", notice_at - 30 * DAY, notice_at)
        ship_by = period_end(notice_at, SHIPPING_DAYS, calendar)
        expires_at = ship_by + LONG_GRACE.expiry_grace
        if ship_by < now - MARGIN and now + MARGIN < expires_at:
            return notice_at
    raise AssertionError("no withdrawal in the last three weeks is late without expiring now")


async def withdrawn(
    harness: ReturnHarness,
    days_ago: int,
    stage: ReturnStage,
    notice_at: dt.datetime | None = None,
    **event_args: Any,
) -> ReturnHandle:
    """A return whose customer withdrew `days_ago` days ago (or at `notice_at`; ShipBy: 14 days
    after), in `stage`."""
    notice_at = notice_at or dt.datetime.now(dt.UTC).replace(microsecond=0) - days_ago * DAY
    handle = await harness.start(retract_event(notice_at=notice_at, **event_args))
    if stage is ReturnStage.AWAITING_DROP_OFF:
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
    await harness.stage_reached(handle, stage)
    return handle


async def visible(client: Client, task_queue: str, count: int) -> None:
    """Wait until visibility lists `count` unshipped returns of the queue (it lags a little)."""
    query = unshipped_returns_query(task_queue, dt.datetime.now(dt.UTC) + HORIZON)
    async with asyncio.timeout(15):
        while (await client.count_workflows(query)).count != count:
            await asyncio.sleep(0.1)


async def sweep(harness: ReturnHarness) -> SweepResult:
    """One run of the sweep, as the schedule starts it."""
    result: SweepResult = await harness.client.execute_workflow(
        UnshippedReturnsSweep.__name__,
        SweepRequest(),
        result_type=SweepResult,
        id=f"unshipped-returns-reminder-test-{uuid.uuid4().hex[:8]}",
        task_queue=harness.settings.task_queue,
    )
    return result


def reminded(harness: ReturnHarness) -> list[str]:
    """The returns whose customer got a shipping reminder email, one entry per email."""
    return sorted(
        n.return_id for n in harness.doubles.notices if n.kind is NoticeKind.SHIPPING_REMINDER
    )


async def test_the_sweep_reminds_only_unshipped_returns_whose_ship_by_is_near(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(timings=LONG_GRACE)
    async with return_harness(time_skipping_env.client, doubles, sweep=True) as harness:
        due = reminded_notice_at(HORIZON, LONG_GRACE.expiry_grace)
        choosing = await withdrawn(harness, 12, ReturnStage.AWAITING_CUSTOMER_CHOICE, due)
        dropping_off = await withdrawn(harness, 12, ReturnStage.AWAITING_DROP_OFF, due)
        late = await withdrawn(
            harness, 0, ReturnStage.AWAITING_CUSTOMER_CHOICE, notice_at=late_notice_at()
        )
        # Not reminded: ShipBy two weeks ahead; no address to send to; already sent.
        await withdrawn(harness, 0, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        await withdrawn(
            harness, 12, ReturnStage.AWAITING_RETURN_ADDRESS, due, seller_id=SELLER_WITHOUT_ADDRESS
        )
        shipped = await withdrawn(harness, 12, ReturnStage.AWAITING_DROP_OFF, due)
        ready = await shipped.query(ReturnWorkflow.status)
        assert ready.label is not None
        await harness.scan(shipped, ready.label.tracking_number)
        await harness.in_transit(shipped)
        await visible(harness.client, harness.settings.task_queue, 3)

        first = await sweep(harness)
        again = await sweep(harness)  # triggered by hand the same day
        # Each return has taken the second sweep's signal in by the time it says so.
        timelines = {
            h.id: await said(h, f"already reminded on {first.day}")
            for h in (choosing, dropping_off, late)
        }

    expected = sorted(h.id for h in (choosing, dropping_off, late))
    assert reminded(harness) == expected, "one email each, the second sweep sent none"
    assert (first.found, first.signalled, first.already_ended) == (3, 3, 0)
    assert (again.found, again.signalled) == (3, 3)
    assert first.day == again.day
    entries = timelines[late.id]
    assert entries[0].startswith(f"shipping reminder 1 for {first.day}, asked by ")
    assert entries[-1].endswith(f"already reminded on {first.day}")
    assert sum("skipped" in e for e in entries) == 1
    late_notice = next(n for n in harness.doubles.notices if n.return_id == late.id)
    assert (
        late_notice.ship_by
        < dt.datetime.now(dt.UTC)
        < (late_notice.expires_at or late_notice.ship_by)
    )


async def reminders_signalled(handle: ReturnHandle) -> int:
    """How many `remind_to_ship` signals the return has been sent."""
    history = await handle.fetch_history()
    return sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        and e.workflow_execution_signaled_event_attributes.signal_name == "remind_to_ship"
    )


async def said(handle: ReturnHandle, ending: str) -> list[str]:
    """The return's shipping-reminder entries, once one ends with `ending`."""
    async with asyncio.timeout(10):
        while True:
            timeline = (await handle.query(ReturnWorkflow.status)).timeline
            entries = [e.event for e in timeline if "shipping reminder" in e.event]
            if any(e.endswith(ending) for e in entries):
                return entries
            await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    ("request_body", "workflow_id", "said"),
    [
        ([{"horizon": "-P1D"}], "unshipped-returns-reminder-by-hand", "horizon: "),
        ([{"horizon": "soon"}], "unshipped-returns-reminder-by-hand", "horizon: "),
        ([{"horizon": "P1D", "by": "me"}], "unshipped-returns-reminder-by-hand", "by: "),
        ([{}], "a sweep by hand", "cannot name the sweep in a return's timeline"),
        ([], "unshipped-returns-reminder-by-hand", "the workflow takes 1 input (request): 0 given"),
    ],
    ids=["negative", "not-a-duration", "unknown-field", "id-with-spaces", "no-request"],
)
async def test_a_sweep_started_by_hand_with_what_it_cannot_take_fails_naming_it(
    time_skipping_env: WorkflowEnvironment,
    request_body: list[dict[str, str]],
    workflow_id: str,
    said: str,
) -> None:
    async with return_harness(time_skipping_env.client, sweep=True) as harness:
        with pytest.raises(WorkflowFailureError) as failed:
            await harness.client.execute_workflow(
                "UnshippedReturnsSweep",
                args=request_body,
                id=f"{workflow_id}-{uuid.uuid4().hex[:8]}",
                task_queue=harness.settings.task_queue,
            )

    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.non_retryable
    assert said in cause.message


@pytest.mark.parametrize(
    "now",
    [
        dt.datetime(2026, 12, 10, 8, 0, tzinfo=dt.UTC),  # a Thursday: 12 days ago is too early
        dt.datetime(2026, 12, 11, 22, 30, tzinfo=dt.UTC),  # a Friday night in Paris
        dt.datetime(2026, 12, 25, 2, 30, tzinfo=dt.UTC),  # Christmas Day
        dt.datetime(2027, 1, 1, 12, 0, tzinfo=dt.UTC),  # New Year's Day
    ],
)
def test_the_tests_find_a_withdrawal_the_sweep_reminds_whatever_the_day(now: dt.datetime) -> None:
    notice_at = reminded_notice_at(HORIZON, LONG_GRACE.expiry_grace, now=now)
    ship_by = period_end(notice_at, SHIPPING_DAYS, calendar_for("FR", notice_at - 30 * DAY, now))

    assert now - LONG_GRACE.expiry_grace < ship_by <= now + HORIZON
