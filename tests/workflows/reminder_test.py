"""A return reminded to ship: one email a day at most, none where the customer cannot act, and
the Web UI's details saying what the return waits for and until when.

Time skipping on the dev server: `env.fast_forward(handle, DAY)` makes the next day come.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.carriers import Label, ReturnMethod
from domain.notices import NoticeKind
from domain.returns import (
    ENDED_STAGES,
    REMINDABLE_STAGES,
    ReturnMethodChoice,
    ReturnStage,
    ReturnStatus,
    ShipmentReport,
    ShippingReminder,
)
from domain.timings import RefundTrigger, ReturnTimings
from tests.factories import (
    CUSTOMER_EMAIL,
    CUSTOMER_NAME,
    CUSTOMER_STREET,
    SELLER_WITHOUT_ADDRESS,
    retract_event,
)
from tests.workflows.doubles import COUNTER_LABEL_POST, Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness
from tests.workflows.lifecycle_test import DROP_OFF, choosing, label_being_made, mailbox_pickup
from workflows.return_workflow import ReturnWorkflow
from workflows.stages.reminders import CANNOT_ACT

DAY = dt.timedelta(days=1)
SWEEP = "unshipped-returns-reminder-2026-11-25T08:00:00Z/0b9d3c1e"


def paris_today() -> dt.date:
    """The sweep's day: today in the reminder time zone."""
    return dt.datetime.now(ZoneInfo("Europe/Paris")).date()


async def remind(handle: ReturnHandle, day: dt.date, origin: str = SWEEP) -> None:
    await handle.signal(ReturnWorkflow.remind_to_ship, ShippingReminder(day=day, origin=origin))


async def reminder_entries(handle: ReturnHandle, count: int) -> list[str]:
    """The timeline's reminder entries, once there are `count` of them."""
    async with asyncio.timeout(10):
        while True:
            status = await handle.query(ReturnWorkflow.status)
            entries = [e.event for e in status.timeline if "shipping reminder" in e.event]
            if len(entries) >= count:
                return entries
            await asyncio.sleep(0.05)


def reminders_sent(doubles: Doubles) -> list[tuple[int, dt.date | None]]:
    return [
        (n.revision, n.reminder_day)
        for n in doubles.notices
        if n.kind is NoticeKind.SHIPPING_REMINDER
    ]


async def details(handle: ReturnHandle) -> str:
    """The current details the Web UI shows for the return."""
    metadata: WorkflowMetadata = await handle.query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    return metadata.current_details


async def test_a_customer_gets_at_most_one_shipping_reminder_a_day(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    today = paris_today()
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        await remind(handle, today)
        await remind(handle, today)  # the sweep triggered again the same day
        await reminder_entries(handle, 3)
        await time_skipping_env.fast_forward(handle, DAY)
        await remind(handle, today + DAY)
        entries = await reminder_entries(handle, 5)
        shown = await details(handle)

    assert reminders_sent(harness.doubles) == [(1, today), (2, today + DAY)]
    assert sorted(entries) == sorted(
        [
            f"shipping reminder 1 for {today}, asked by {SWEEP}",
            f"shipping reminder skipped (for {today}, asked by {SWEEP}): "
            f"already reminded on {today}",
            "shipping reminder 1 sent",
            f"shipping reminder 2 for {today + DAY}, asked by {SWEEP}",
            "shipping reminder 2 sent",
        ]
    )
    assert "**Last reminder:**" in shown and "(2 sent)" in shown
    (first, _) = [n for n in harness.doubles.notices if n.kind is NoticeKind.SHIPPING_REMINDER]
    assert first.method is None and first.expires_at is not None  # "choose how to send it"


async def test_a_reminder_for_another_day_than_today_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        await remind(handle, paris_today() + 3 * DAY, origin="operations:agent-42")
        (entry,) = await reminder_entries(handle, 1)

    assert entry.endswith(f"{paris_today() + 3 * DAY} is not today")
    assert "operations:agent-42" in entry
    assert reminders_sent(harness.doubles) == []


async def test_a_reminder_naming_tomorrow_is_not_a_second_email_today(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Signalled by hand for tomorrow's date after today's sweep: skipped, and tomorrow's sweep
    reminds the customer as it would have."""
    today = paris_today()
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        await remind(handle, today)
        await reminder_entries(handle, 2)
        await remind(handle, today + DAY, origin="operations:agent-42")
        (*_, skipped) = await reminder_entries(handle, 3)
        await time_skipping_env.fast_forward(handle, DAY)
        await remind(handle, today + DAY)
        await reminder_entries(handle, 5)

    assert "reminded less than a day ago" in skipped and "operations:agent-42" in skipped
    assert reminders_sent(harness.doubles) == [(1, today), (2, today + DAY)]


Setup = Callable[[ReturnHarness], Awaitable[ReturnHandle]]


async def _awaiting_address(harness: ReturnHarness) -> ReturnHandle:
    handle = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
    await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
    return handle


async def _rejected(harness: ReturnHarness) -> ReturnHandle:
    handle = await harness.start(retract_event(ordered_days_before_notice=45))
    await harness.stage_reached(handle, ReturnStage.REJECTED)
    return handle


async def _picked_up(harness: ReturnHarness) -> ReturnHandle:
    # Refund on delivery: the return stays open once the carrier has the parcel.
    handle = await choosing(harness)
    ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
    assert ready.label is not None
    await harness.scan(handle, ready.label.tracking_number)
    await harness.stage_reached(handle, ReturnStage.PICKED_UP)
    return handle


async def _reported_sent(harness: ReturnHarness) -> ReturnHandle:
    handle = await choosing(harness)
    counter = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo")
    await handle.execute_update(ReturnWorkflow.choose_return_method, counter)
    await handle.execute_update(
        ReturnWorkflow.report_shipment, ShipmentReport(tracking_number="6A12345678901")
    )
    return handle


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        (_awaiting_address, "the customer has no return address yet"),
        (_rejected, "the withdrawal was not accepted"),
        (_picked_up, "the carrier has the parcel"),
        (_reported_sent, "the customer reported the parcel as sent"),
    ],
    ids=lambda v: getattr(v, "__name__", "").strip("_"),
)
async def test_a_reminder_where_the_customer_cannot_act_is_recorded_and_ignored(
    time_skipping_env: WorkflowEnvironment, setup: Setup, why: str
) -> None:
    doubles = Doubles(
        offers=[*Doubles().offers, COUNTER_LABEL_POST],
        timings=ReturnTimings(refund_trigger=RefundTrigger.DELIVERY),
    )
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await setup(harness)
        await remind(handle, paris_today())
        (entry,) = await reminder_entries(handle, 1)
        for held in doubles.held.values():
            held.set()
        history = await handle.fetch_history()

    assert entry == f"shipping reminder skipped (for {paris_today()}, asked by {SWEEP}): {why}"
    assert reminders_sent(doubles) == []
    failed = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    assert failed == []


async def test_a_reminder_that_came_while_the_label_was_made_is_not_sent_after_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The sweep still lists the return as choosing while its label is being made: the
    customer is not reminded seconds after the label email."""
    label_made = asyncio.Event()
    doubles = Doubles(hold={"create_return_label": label_made})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, choice = await label_being_made(harness)
        await remind(handle, paris_today())
        label_made.set()
        await choice.result()
        (entry,) = await reminder_entries(handle, 1)

    assert entry == (
        f"shipping reminder skipped (for {paris_today()}, asked by {SWEEP}): "
        "the shipment is being prepared"
    )
    assert NoticeKind.RETURN_LABEL in doubles.notice_kinds
    assert reminders_sent(doubles) == []


async def test_a_scan_during_a_slow_reminder_is_acted_on_once_the_reminder_is_out(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(held={NoticeKind.SHIPPING_REMINDER: asyncio.Event()})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, label = await dropping_off_while_reminded(harness)
        # The carrier scans the parcel meanwhile: recorded at once, acted on in turn.
        await harness.scan(handle, label.tracking_number)
        async with asyncio.timeout(10):
            while not (while_sending := await handle.query(ReturnWorkflow.status)).scans:
                await asyncio.sleep(0.05)
        doubles.held[NoticeKind.SHIPPING_REMINDER].set()
        done: ReturnStatus = await harness.in_transit(handle)

    assert while_sending.stage is ReturnStage.AWAITING_DROP_OFF and while_sending.scans
    assert done.stage is ReturnStage.PICKED_UP and done.refund is not None
    assert reminders_sent(doubles) == [(1, paris_today())]
    assert any(e.event.startswith("shipping reminder 1 sent") for e in done.timeline)


async def dropping_off_while_reminded(harness: ReturnHarness) -> tuple[ReturnHandle, Label]:
    """A customer who chose a drop-off, and today's shipping reminder on its way to them."""
    handle = await choosing(harness)
    ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
    assert ready.label is not None
    # The choice is answered as the label email goes out: a reminder then would be skipped
    # ("the shipment is being prepared").
    await harness.stage_reached(handle, ReturnStage.AWAITING_DROP_OFF)
    await remind(handle, paris_today())
    await _reminder_email_in_flight(handle)
    return handle, ready.label


async def _reminder_email_in_flight(handle: ReturnHandle) -> None:
    # Recorded as the loop takes it, before it is sent (not skipped).
    (taken,) = await reminder_entries(handle, 1)
    assert taken.startswith("shipping reminder 1 for"), taken
    async with asyncio.timeout(10):
        while not (await handle.describe()).raw_description.pending_activities:
            await asyncio.sleep(0.05)


async def test_the_details_say_what_a_return_waits_for_and_until_when(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        asking = await _awaiting_address(harness)
        rejected = await _rejected(harness)
        choosing_one = await choosing(harness)
        pickup = mailbox_pickup()
        booked = await choosing(harness)
        await booked.execute_update(ReturnWorkflow.choose_return_method, pickup)
        statuses = {h.id: await h.query(ReturnWorkflow.status) for h in (asking, rejected)}
        shown = {
            "asking": await details(asking),
            "rejected": await details(rejected),
            "choosing": await details(choosing_one),
            "booked": await details(booked),
        }
        choosing_status = await choosing_one.query(ReturnWorkflow.status)

    def at(moment: dt.datetime) -> str:
        return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"

    def when(status: ReturnStatus, entry: str) -> dt.datetime:
        # The workflow's own clock, not the test's: the two can straddle a minute.
        return next(e.at for e in status.timeline if e.event.startswith(entry))

    asked_at = when(statuses[asking.id], "no return address on file: asking the seller")
    assert (
        f"the seller is reminded {at(asked_at + 2 * DAY)}, operations are called in "
        f"{at(asked_at + 4 * DAY)}"
    ) in shown["asking"]
    review_ends = when(statuses[rejected.id], "not accepted: ") + 14 * DAY
    assert f"open for operations to override until {at(review_ends)}" in shown["rejected"]
    assert choosing_status.expires_at is not None
    assert f"the return expires {at(choosing_status.expires_at)}" in shown["choosing"]
    assert f"pickup on {pickup.pickup_date} before 08:00" in shown["booked"]
    assert "the carrier is polled from" in shown["booked"]
    for text in shown.values():
        assert "**Until when:**" in text
        for personal in (CUSTOMER_NAME, CUSTOMER_EMAIL, CUSTOMER_STREET):
            assert personal not in text


def test_every_stage_a_reminder_cannot_act_in_says_why_in_its_own_words() -> None:
    """A stage neither remindable nor one a return ends in names its own reason, never "the
    return has ended" (docs/operations.md, The reminder schedule)."""
    live = set(ReturnStage) - REMINDABLE_STAGES - ENDED_STAGES
    assert live <= set(CANNOT_ACT)


async def test_a_reminder_the_relay_cannot_take_gives_up_and_holds_nothing_up(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The relay is down for the shipping reminder: the courtesy gives up after ten minutes of
    retries, recorded, and the customer's report queued behind it is then taken, not held for
    as long as the relay stays down."""
    env = time_skipping_env

    def relay_down(activity_name: str, key: str) -> ApplicationError | None:
        if (activity_name, key) != ("send_notices", NoticeKind.SHIPPING_REMINDER):
            return None
        return ApplicationError("The mail relay is unavailable", type="MailRelayUnavailable")

    doubles = Doubles(faults=relay_down)
    async with return_harness(env.client, doubles) as harness:
        handle, label = await dropping_off_while_reminded(harness)
        report = asyncio.create_task(
            handle.execute_update(
                ReturnWorkflow.report_shipment,
                ShipmentReport(tracking_number=label.tracking_number),
            )
        )
        await env.fast_forward(handle, dt.timedelta(minutes=11))
        async with asyncio.timeout(30):
            reported = await report
        status = await handle.query(ReturnWorkflow.status)

    assert reported.tracking_number == label.tracking_number
    assert any(e.event.startswith("shipping reminder 1 not delivered") for e in status.timeline), [
        e.event for e in status.timeline
    ]


async def test_reminders_beyond_those_waiting_are_said_in_the_timeline_not_sent(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """A sweep started again and again while the relay is slow: three requests wait behind the
    reminder being sent; the others are recorded as not taken."""
    today = paris_today()
    held = asyncio.Event()
    doubles = Doubles(held={NoticeKind.SHIPPING_REMINDER: held})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        await remind(handle, today, origin="sweep-1")
        await _reminder_email_in_flight(handle)
        for n in range(2, 7):
            await remind(handle, today, origin=f"sweep-{n}")
        held.set()
        entries = await reminder_entries(handle, 7)

    assert reminders_sent(doubles) == [(1, today)]
    assert [e for e in entries if "not taken" in e] == [
        f"shipping reminder not taken (for {today}, asked by sweep-{n}): 3 were already waiting"
        for n in (5, 6)
    ]
    assert [e for e in entries if "skipped" in e] == [
        f"shipping reminder skipped (for {today}, asked by sweep-{n}): already reminded on {today}"
        for n in (2, 3, 4)
    ]
