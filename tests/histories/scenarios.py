"""One scenario per path of `ReturnWorkflow`, each driving one return to its end.

A scenario takes a `ReturnHarness` (a worker with the doubles `@scenario` names) and the
time-skipping `WorkflowEnvironment`, plays the customer, the seller, the carrier and operations,
waits for the result and returns the handle, whose history `record.py` saves. Every public
async function here must be registered with `@scenario` (the replay test checks it, and that
each has a recorded history).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.failures import carrier_auth_failed, carrier_rejected
from domain.base import Money
from domain.calendar import collection_days, next_pickup_date
from domain.carriers import ParcelDestination, ReturnMethod, TrackingStatus
from domain.events import OrderStatus
from domain.failures import FailureType
from domain.feed import FeedView, ReplayRequest
from domain.feed_plan import FeedPlan
from domain.inspection import InspectionOutcome, InspectionReport
from domain.notices import NoticeKind
from domain.returns import (
    ActionResult,
    AttentionAction,
    AttentionResolution,
    CancelRequest,
    ReturnAddressReply,
    ReturnMethodChoice,
    ReturnStage,
    ReturnStatus,
    ShipmentReport,
    ShippingReminder,
)
from domain.timings import RefundTrigger, ReturnTimings
from tests.factories import SELLER_ADDRESS, SELLER_WITHOUT_ADDRESS, charger_missing, retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, time_to
from tests.workflows.withheld import (
    cancelled_while_booking,
    change_taken_while_reminding,
    priced_label_doubles,
    relay_refuses_reminders,
)
from workflows.event_feed import EventFeedWorkflow, feed_id
from workflows.return_workflow import ReturnWorkflow

Drive = Callable[[ReturnHarness, WorkflowEnvironment], Awaitable[ReturnHandle]]

DAY = dt.timedelta(days=1)
PARIS = ZoneInfo("Europe/Paris")


def _expiry(status: ReturnStatus) -> dt.datetime | None:
    return status.expires_at


DROP_OFF = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")


@dataclass(frozen=True)
class Scenario:
    name: str
    drive: Drive
    doubles: Callable[[], Doubles]


SCENARIOS: dict[str, Scenario] = {}
"""Every path, by name, in the order they are defined."""


def scenario(doubles: Callable[[], Doubles] = Doubles) -> Callable[[Drive], Drive]:
    """Register a path, played with the activity doubles `doubles()` makes."""

    def register(drive: Drive) -> Drive:
        name = drive.__name__
        SCENARIOS[name] = Scenario(name, drive, doubles)
        return drive

    return register


# --- Helpers ----------------------------------------------------------------------------------


def _pickup(day: dt.date | None = None) -> ReturnMethodChoice:
    return ReturnMethodChoice(
        method=ReturnMethod.MAILBOX_PICKUP,
        carrier="sandbox",
        pickup_date=day or next_pickup_date(dt.datetime.now(dt.UTC)),
    )


def _ops(action: AttentionAction, reason: str, **more: object) -> AttentionResolution:
    return AttentionResolution.model_validate(
        {"action": action, "by": "operations:agent-42", "reason": reason, **more}
    )


async def _started(harness: ReturnHarness, **event_args: object) -> ReturnHandle:
    """A new return, once its first steps are done.

    No query reaches it before then: a query while the lookups run makes the worker complete
    the workflow task early, splitting the local activities over two tasks (two actions where
    the path costs one). Its description, answered by the server, is watched instead.
    """
    handle = await harness.start(retract_event(**event_args))  # type: ignore[arg-type]

    async def idle() -> bool:
        described = (await handle.describe()).raw_description
        return not described.HasField("pending_workflow_task") and not len(
            described.pending_activities
        )

    await _until(idle)
    return handle


async def _choosing(harness: ReturnHarness, **event_args: object) -> ReturnHandle:
    handle = await _started(harness, **event_args)
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    return handle


async def _choose(handle: ReturnHandle, choice: ReturnMethodChoice) -> ActionResult:
    return await handle.execute_update(ReturnWorkflow.choose_return_method, choice)


def _parcel(status: ActionResult) -> str:
    if status.label is not None:
        return status.label.tracking_number
    assert status.counter_code is not None, "neither a label nor a counter code"
    return status.counter_code.tracking_number


async def _until(
    check: Callable[[], bool] | Callable[[], Awaitable[bool]], within: float = 10
) -> None:
    async with asyncio.timeout(within):
        while True:
            met = check()
            if not isinstance(met, bool):
                met = await met
            if met:
                return
            await asyncio.sleep(0.05)


async def _counter_reported(harness: ReturnHarness, refused: str, accepted: str) -> ReturnHandle:
    """A counter label without a code: the customer reports a number that is refused, then
    one that is accepted."""
    handle = await _choosing(harness)
    await _choose(
        handle, ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo")
    )
    with contextlib.suppress(WorkflowUpdateFailedError):
        await handle.execute_update(
            ReturnWorkflow.report_shipment, ShipmentReport(tracking_number=refused)
        )
    await handle.execute_update(
        ReturnWorkflow.report_shipment, ShipmentReport(tracking_number=accepted)
    )
    return handle


async def _scanned_to_the_end(
    harness: ReturnHarness, env: WorkflowEnvironment, handle: ReturnHandle, ready: ActionResult
) -> ReturnHandle:
    """The carrier accepts the parcel (webhook): the refund; then the delivery, and the
    seller's silence through the inspection period (as sold)."""
    await harness.scan(handle, _parcel(ready))
    await harness.to_the_end(env, handle)
    return handle


def _answered_late(activity: str) -> Callable[[], Doubles]:
    """Doubles whose carrier call `activity` is held past the choice's bound (2 s) until the
    path lets it go."""
    return lambda: Doubles(
        hold={activity: asyncio.Event()},
        timings=ReturnTimings(carrier_answer_within=dt.timedelta(seconds=2)),
    )


# --- The ways of sending the parcel -----------------------------------------------------------


@scenario()
async def happy_mailbox_pickup(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """Address on file, mailbox pickup, acceptance scan: refund on proof of dispatch."""
    handle = await _choosing(harness)
    booked = await _choose(handle, _pickup())
    return await _scanned_to_the_end(harness, env, handle, booked)


@scenario()
async def post_office_drop_off(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    handle = await _choosing(harness)
    ready = await _choose(handle, DROP_OFF)
    return await _scanned_to_the_end(harness, env, handle, ready)


def _priced() -> Doubles:
    return Doubles(label_prices={"sandbox": Money(amount=Decimal("6.25"), currency="EUR")})


@scenario(_priced)
async def label_price_withheld(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """The carriers quote their label's price before the choice; the customer's drop-off
    label comes off the refund at the price shown."""
    handle = await _choosing(harness)
    ready = await _choose(handle, DROP_OFF)
    return await _scanned_to_the_end(harness, env, handle, ready)


@scenario()
async def counter_code(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """The sandbox carrier's counter return code: no label at home."""
    handle = await _choosing(harness)
    ready = await _choose(
        handle, ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="sandbox")
    )
    return await _scanned_to_the_end(harness, env, handle, ready)


@scenario(
    lambda: Doubles(
        offers=[COUNTER_LABEL_POST],
        timings=ReturnTimings(scan_overdue_after=dt.timedelta(hours=6)),
        destinations={"6A99999999999": ParcelDestination(country_code="BE", postal_code="1000")},
    )
)
async def reported_parcel_going_elsewhere(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """A counter label without a code: the first number the customer reports goes elsewhere
    than the seller's address by the carrier's data and is refused; the right one is checked,
    accepted, and polling finds its scan."""
    handle = await _counter_reported(harness, "6A99999999999", "6A12345678901")
    harness.doubles.carrier_scanned("6A12345678901")
    await env.fast_forward(handle, dt.timedelta(hours=7))
    await harness.to_the_end(env, handle)
    return handle


@scenario(
    lambda: Doubles(
        offers=[COUNTER_LABEL_POST],
        timings=ReturnTimings(scan_overdue_after=dt.timedelta(hours=6)),
    )
)
async def counter_reported_and_polled(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """A counter label without a code: the customer reports the receipt's number, no webhook
    comes, polling finds the scan."""
    handle = await _choosing(harness)
    await _choose(
        handle, ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo")
    )
    await handle.execute_update(
        ReturnWorkflow.report_shipment, ShipmentReport(tracking_number="6A12345678901")
    )
    harness.doubles.carrier_scanned("6A12345678901")
    await env.fast_forward(handle, dt.timedelta(hours=7))
    await harness.to_the_end(env, handle)
    return handle


@scenario(
    lambda: Doubles(
        offers=[COUNTER_LABEL_POST],
        timings=ReturnTimings(scan_overdue_after=dt.timedelta(hours=6)),
    )
)
async def unreported_drop_off_polled(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """A drop-off on a carrier without webhooks, never reported: polling finds its scan."""
    handle = await _choosing(harness)
    ready = await _choose(
        handle, ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="colissimo")
    )
    harness.doubles.carrier_scanned(_parcel(ready))
    await env.fast_forward(handle, dt.timedelta(hours=7))
    await harness.to_the_end(env, handle)
    return handle


@scenario(lambda: Doubles(timings=ReturnTimings(poll_interval=dt.timedelta(hours=6))))
async def polling_after_pickup_day(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The pickup's webhook is lost: a first poll finds nothing, a retry finds the scan."""
    doubles = harness.doubles
    handle = await _choosing(harness)
    booked = await _choose(handle, _pickup())
    assert booked.pickup is not None
    deposit = dt.datetime.combine(booked.pickup.pickup_date, dt.time(8), tzinfo=PARIS)
    until_pickup = deposit - dt.datetime.now(dt.UTC)
    await env.fast_forward(handle, until_pickup + dt.timedelta(hours=13))
    await _until(lambda: len(doubles.polls) >= 1)
    doubles.carrier_scanned(_parcel(booked))
    await env.fast_forward(handle, dt.timedelta(hours=7))
    await harness.to_the_end(env, handle)
    return handle


@scenario(lambda: Doubles(timings=ReturnTimings(refund_trigger=RefundTrigger.DELIVERY)))
async def refund_on_delivery(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """The refund waits for the parcel to be back with the seller."""
    handle = await _choosing(harness)
    ready = await _choose(handle, DROP_OFF)
    await harness.scan(handle, _parcel(ready))
    await harness.stage_reached(handle, ReturnStage.PICKED_UP)
    await harness.scan(handle, _parcel(ready), TrackingStatus.DELIVERED)
    await harness.to_the_end(env, handle)
    return handle


# --- The parcel to the seller -----------------------------------------------------------------


@scenario()
async def delivered_inspected_as_sold(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """Refunded on proof of dispatch, followed to the seller: delivered, the seller told, and
    the seller reports the device came back as sold."""
    handle = await _choosing(harness)
    ready = await _choose(handle, DROP_OFF)
    await harness.scan(handle, _parcel(ready))
    await harness.until_status(handle, lambda s: s.refund is not None)
    await harness.scan(handle, _parcel(ready), TrackingStatus.DELIVERED)
    await harness.until_status(handle, lambda s: s.inspection is not None)
    report = InspectionReport(outcome=InspectionOutcome.AS_SOLD, reported_by="seller")
    await handle.execute_update(ReturnWorkflow.report_inspection, report)
    await handle.result()
    return handle


@scenario()
async def deduction_claimed_after_refund(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The seller finds the charger missing and asks a deduction; operations approve it: the
    refund was requested already, so the deduction is claimed, and the customer told why."""
    handle = await _choosing(harness)
    ready = await _choose(handle, DROP_OFF)
    await harness.scan(handle, _parcel(ready))
    await harness.scan(handle, _parcel(ready), TrackingStatus.DELIVERED)
    await harness.until_status(handle, lambda s: s.inspection is not None)
    report = charger_missing()
    await handle.execute_update(ReturnWorkflow.report_inspection, report)
    await handle.execute_update(
        ReturnWorkflow.resolve_attention,
        _ops(AttentionAction.APPROVE_DEDUCTION, "photo of the open box checked"),
    )
    await handle.result()
    return handle


@scenario()
async def parcel_lost(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """The parcel leaves and is never delivered: taken as lost after the delivery period,
    operations and the customer told; operations close it once the carrier has paid."""
    handle = await _choosing(harness)
    ready = await _choose(handle, DROP_OFF)
    await harness.scan(handle, _parcel(ready))
    await harness.until_status(handle, lambda s: s.refund is not None)
    await env.fast_forward(handle, harness.doubles.timings.delivery_overdue + DAY)
    await harness.until_status(handle, lambda s: "parcel_lost" in s.attention)
    await handle.execute_update(
        ReturnWorkflow.resolve_attention, _ops(AttentionAction.CLOSE, "carrier paid the claim")
    )
    await handle.result()
    return handle


@scenario()
async def attention_reasons_shown(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """A parcel lost, its reason shown in the `AttentionReasons` search attribute while
    operations look into it, and cleared when they close it."""
    return await parcel_lost(harness, env)


# --- Eligibility ------------------------------------------------------------------------------


@scenario()
async def cancelled_before_shipment(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The order has not left the seller: cancelled and refunded, nothing to send back."""
    handle = await _started(harness, status=OrderStatus.AWAITING_SHIPMENT)
    await handle.result()
    return handle


@scenario()
async def rejected(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """Outside the return window; nobody overrides it during the review period."""
    handle = await _started(harness, ordered_days_before_notice=45)
    await harness.stage_reached(handle, ReturnStage.REJECTED)
    await env.fast_forward(handle, 15 * DAY)
    await handle.result()
    return handle


@scenario()
async def rejection_overridden(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    handle = await _started(harness, ordered_days_before_notice=45)
    await harness.stage_reached(handle, ReturnStage.REJECTED)
    await handle.execute_update(
        ReturnWorkflow.resolve_attention,
        _ops(AttentionAction.OVERRIDE_ELIGIBILITY, "defect reported by phone in the window"),
    )
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    ready = await _choose(handle, DROP_OFF)
    return await _scanned_to_the_end(harness, env, handle, ready)


@scenario()
async def unknown_status_awaits_review(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """An order status this version does not know: the return awaits operations' review, a
    review period passes (operations are reminded, nothing is decided), then they accept it."""
    handle = await _started(harness, status="lost_in_warehouse")
    await harness.stage_reached(handle, ReturnStage.AWAITING_REVIEW)
    await env.fast_forward(handle, 15 * DAY)
    await harness.until_status(
        handle, lambda s: any("operations reminded (email 2)" in e.event for e in s.timeline)
    )
    await handle.execute_update(
        ReturnWorkflow.resolve_attention,
        _ops(AttentionAction.OVERRIDE_ELIGIBILITY, "the new status means delivered"),
    )
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    ready = await _choose(handle, DROP_OFF)
    return await _scanned_to_the_end(harness, env, handle, ready)


# --- The seller's address ---------------------------------------------------------------------


@scenario()
async def seller_silent_escalated(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """No address on file: asked, reminded, escalated; then the seller answers."""
    doubles = harness.doubles
    timings = doubles.timings
    handle = await _started(harness, seller_id=SELLER_WITHOUT_ADDRESS)
    await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
    await _until(lambda: len(doubles.chat) == 1)
    await env.fast_forward(handle, timings.seller_reminder_after + dt.timedelta(minutes=1))
    await _until(lambda: len(doubles.chat) == 2)
    await env.fast_forward(handle, timings.escalate_after + dt.timedelta(minutes=1))
    await _until(lambda: NoticeKind.OPERATIONS_ATTENTION in doubles.notice_kinds)
    await handle.execute_update(
        ReturnWorkflow.provide_return_address,
        ReturnAddressReply(address=SELLER_ADDRESS, given_by="seller"),
    )
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    ready = await _choose(handle, DROP_OFF)
    return await _scanned_to_the_end(harness, env, handle, ready)


@scenario()
async def address_missing_near_refund_deadline(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The seller never gives an address: as the refund deadline nears, operations are asked
    to decide and give a fallback address; the customer sends the parcel there."""
    timings = harness.doubles.timings
    handle = await _started(harness, seller_id=SELLER_WITHOUT_ADDRESS)
    await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
    decision = await time_to(handle, lambda s: s.refund_due_by) - timings.refund_decision_before
    await env.fast_forward(handle, decision + dt.timedelta(minutes=1))
    await harness.until_status(handle, lambda s: "refund_due_without_address" in s.attention)
    await handle.execute_update(
        ReturnWorkflow.resolve_attention,
        _ops(AttentionAction.GIVE_ADDRESS, "marketplace warehouse", address=SELLER_ADDRESS),
    )
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    ready = await _choose(handle, DROP_OFF)
    return await _scanned_to_the_end(harness, env, handle, ready)


def _collection_never_polled() -> Doubles:
    return Doubles(timings=ReturnTimings(scan_overdue_after=dt.timedelta(days=30)))


@scenario(_collection_never_polled)
async def refund_ahead_of_a_collection_still_to_come(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """A mailbox pickup booked whose parcel has not left a day before the refund deadline: the
    refund is requested then (the marketplace offered to collect); the parcel leaves after."""
    handle = await _choosing(harness)
    booked = await _choose(handle, _pickup())
    ahead = harness.doubles.timings.refund_request_ahead
    await env.fast_forward(
        handle, await time_to(handle, lambda s: s.refund_due_by) - ahead + DAY / 24
    )
    await harness.told(handle, NoticeKind.REFUND_BEFORE_RETURN)
    return await _scanned_to_the_end(harness, env, handle, booked)


def _label_priced_and_reminders_held_up() -> Doubles:
    return priced_label_doubles(
        ReturnTimings(scan_overdue_after=dt.timedelta(days=30)), relay_refuses_reminders
    )


@scenario(_label_priced_and_reminders_held_up)
async def change_refused_once_the_label_was_withheld(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """A change of way taken by the validator while the loop sends a reminder the relay holds
    up; the refund deadline comes first, the refund is asked less the label's price, and the
    change is refused in its turn: the parcel leaves with the label booked."""
    handle = await _choosing(harness)
    booked = await _choose(handle, _pickup())
    ahead = harness.doubles.timings.refund_request_ahead
    change = await change_taken_while_reminding(env, handle, ahead)
    await env.fast_forward(handle, dt.timedelta(minutes=15))  # the reminder gives up after 10
    with contextlib.suppress(WorkflowUpdateFailedError):
        await asyncio.wait_for(change.result(), timeout=30)
    await harness.told(handle, NoticeKind.REFUND_BEFORE_RETURN)
    return await _scanned_to_the_end(harness, env, handle, booked)


def _booking_held() -> Doubles:
    return Doubles(
        timings=ReturnTimings(scan_overdue_after=dt.timedelta(days=30)),
        hold={"book_mailbox_pickup": asyncio.Event()},
    )


@scenario(_booking_held)
async def cancel_refused_after_the_refund_sends_the_held_label(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """A cancel queued while the pickup is booked holds the label email; the refund deadline
    passes meanwhile and the refund is asked, so the cancel is refused in its turn: the held
    email goes out, and the parcel leaves with it."""
    doubles = harness.doubles
    handle = await _choosing(harness)
    ahead = doubles.timings.refund_request_ahead
    await env.fast_forward(
        handle,
        await time_to(handle, lambda s: s.refund_due_by) - ahead - dt.timedelta(seconds=15),
    )
    status = await handle.query(ReturnWorkflow.status)
    pickup_day = status.ship_by.astimezone(PARIS).date()
    choose, cancel = await cancelled_while_booking(handle, doubles, pickup_day)
    await asyncio.sleep(16)  # the workflow's clock moves in real time while the booking runs
    doubles.hold["book_mailbox_pickup"].set()
    booked = await choose.result()
    with contextlib.suppress(WorkflowUpdateFailedError):
        await cancel.result()
    await harness.told(handle, NoticeKind.RETURN_LABEL)
    return await _scanned_to_the_end(harness, env, handle, booked)


def _label_priced_and_a_drop_off_refused_once() -> Doubles:
    refusing = {"on": False}

    def faults(activity_name: str, key: str) -> ApplicationError | None:
        if refusing["on"] and activity_name == "create_return_label":
            refusing["on"] = False
            return carrier_rejected("address refused", "address")
        return None

    doubles = priced_label_doubles(ReturnTimings(scan_overdue_after=dt.timedelta(days=30)), faults)
    doubles.refusing = refusing  # type: ignore[attr-defined]
    return doubles


@scenario(_label_priced_and_a_drop_off_refused_once)
async def retry_refused_once_the_label_was_withheld(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """A change to a drop-off the carrier refuses waits for operations; the refund is asked
    less the booked label's price meanwhile, so operations' retry is refused: the parcel leaves
    with the label booked."""
    handle = await _choosing(harness)
    booked = await _choose(handle, _pickup())
    await harness.told(handle, NoticeKind.RETURN_LABEL)
    harness.doubles.refusing["on"] = True  # type: ignore[attr-defined]
    with contextlib.suppress(WorkflowUpdateFailedError):
        await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="dropoff-only"),
        )
    await harness.until_status(handle, lambda s: bool(s.attention))
    ahead = harness.doubles.timings.refund_request_ahead
    await env.fast_forward(
        handle, await time_to(handle, lambda s: s.refund_due_by) - ahead + DAY / 24
    )
    await harness.told(handle, NoticeKind.REFUND_BEFORE_RETURN)
    with contextlib.suppress(WorkflowUpdateFailedError):
        await handle.execute_update(
            ReturnWorkflow.resolve_attention, _ops(AttentionAction.RETRY, "carrier fixed")
        )
    return await _scanned_to_the_end(harness, env, handle, booked)


# --- Changing one's mind, cancelling, the deadline --------------------------------------------


@scenario()
async def change_of_mind(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """Pickup booked, then drop-off instead: the pickup is cancelled, the label kept."""
    handle = await _choosing(harness)
    await _choose(handle, _pickup())
    ready = await _choose(handle, DROP_OFF)
    return await _scanned_to_the_end(harness, env, handle, ready)


@scenario()
async def customer_cancelled(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    handle = await _choosing(harness)
    await _choose(handle, _pickup())
    await handle.execute_update(ReturnWorkflow.cancel, CancelRequest(reason="I'll keep it"))
    await handle.result()
    return handle


@scenario()
async def cancelled_while_the_seller_is_silent(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """No address on file, the seller escalated to operations; the customer cancels: the
    address is no longer needed, and the return completes with nothing left."""
    timings = harness.doubles.timings
    handle = await _started(harness, seller_id=SELLER_WITHOUT_ADDRESS)
    await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
    await env.fast_forward(handle, timings.seller_reminder_after + timings.escalate_after + DAY)
    await harness.until_status(handle, lambda s: "seller_return_address_missing" in s.attention)
    await handle.execute_update(ReturnWorkflow.cancel, CancelRequest(reason="I'll keep it"))
    await handle.result()
    return handle


@scenario()
async def expired(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """Drop-off chosen, nothing sent: past the deadline and its grace, the return ends."""
    handle = await _choosing(harness)
    await _choose(handle, DROP_OFF)
    await env.fast_forward(handle, await time_to(handle, _expiry) + DAY)
    await harness.expired_result(env, handle)
    return handle


@scenario()
async def late_parcel_after_expiry(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """Drop-off chosen, nothing sent by the deadline: the return expires and listens for its
    parcel; sent ten days late, it is refunded after all, and operations close the case."""
    handle = await _choosing(harness)
    ready = await _choose(handle, DROP_OFF)
    await env.fast_forward(handle, await time_to(handle, _expiry) + DAY)
    await harness.until_status(
        handle, lambda s: any(e.event == "listening for a late parcel" for e in s.timeline)
    )
    await env.fast_forward(handle, 10 * DAY)
    await harness.scan(handle, _parcel(ready))
    await harness.until_status(handle, lambda s: s.refund is not None)
    await handle.execute_update(
        ReturnWorkflow.resolve_attention, _ops(AttentionAction.CLOSE, "seller told of the delay")
    )
    await handle.result()
    return handle


@scenario(lambda: Doubles(held={NoticeKind.RETURN_EXPIRED: asyncio.Event()}))
async def dispatched_while_expiring(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """Drop-off chosen, nothing sent by the deadline: the return expires, and the carrier scans
    the parcel while the expiry emails are being sent. The return listens for its parcel from
    the expiry on: it is refunded, and operations close the case."""
    doubles = harness.doubles
    handle = await _choosing(harness)
    ready = await _choose(handle, DROP_OFF)
    await env.fast_forward(handle, await time_to(handle, _expiry) - dt.timedelta(seconds=3))
    await harness.until_status(handle, lambda s: s.stage is ReturnStage.EXPIRED)
    await harness.scan(handle, _parcel(ready))
    await harness.until_status(
        handle, lambda s: any(e.event.startswith("scan accepted") for e in s.timeline)
    )
    doubles.held[NoticeKind.RETURN_EXPIRED].set()
    await harness.until_status(handle, lambda s: s.refund is not None)
    await handle.execute_update(
        ReturnWorkflow.resolve_attention, _ops(AttentionAction.CLOSE, "seller told of the delay")
    )
    await handle.result()
    return handle


@scenario()
async def expired_counted_in_days(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """As `expired`, with the deadlines counted in the customer's days (Regulation 1182/71):
    the shipping deadline is the end of the 14th day after the withdrawal, moved past a weekend
    or public holiday, and `ShipBy` follows it once the intake has the calendar."""
    handle = await _choosing(harness)
    status = await handle.query(ReturnWorkflow.status)
    assert status.ship_by.time() == dt.time.max, "the end of a day"
    await _choose(handle, DROP_OFF)
    await env.fast_forward(handle, await time_to(handle, _expiry) + DAY)
    await harness.expired_result(env, handle)
    return handle


# --- Operations and the carrier's problems ----------------------------------------------------


@scenario()
async def operations_closed(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    handle = await _choosing(harness)
    await _choose(handle, DROP_OFF)
    await handle.execute_update(
        ReturnWorkflow.resolve_attention,
        _ops(AttentionAction.CLOSE, "customer returned it in store"),
    )
    await handle.result()
    return handle


@scenario()
async def failed_pickup_rebooked(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """The carrier could not collect (exception scan); the customer books another day."""
    handle = await _choosing(harness)
    booked = await _choose(handle, _pickup())
    assert booked.pickup is not None
    await harness.scan(handle, _parcel(booked), TrackingStatus.EXCEPTION)
    await _until(lambda: NoticeKind.SHIPMENT_PROBLEM in harness.doubles.notice_kinds)
    later = next_pickup_date(
        dt.datetime.combine(booked.pickup.pickup_date, dt.time(12), tzinfo=dt.UTC)
    )
    rebooked = await _choose(handle, _pickup(later))
    return await _scanned_to_the_end(harness, env, handle, rebooked)


@scenario(lambda: Doubles(undeliverable={NoticeKind.RETURN_ADDRESS}))
async def undeliverable_notice_retried(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The relay refuses the return address notice; once fixed, operations send it again."""
    handle = await _choosing(harness)

    async def stuck() -> bool:
        return bool((await handle.query(ReturnWorkflow.status)).attention)

    await _until(stuck)
    harness.doubles.undeliverable.clear()
    await handle.execute_update(
        ReturnWorkflow.resolve_attention, _ops(AttentionAction.RETRY, "relay fixed")
    )
    ready = await _choose(handle, DROP_OFF)
    return await _scanned_to_the_end(harness, env, handle, ready)


@scenario()
async def refund_refused_then_retried(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The order service refuses the refund (it holds another request under the key); the
    return stays open until its staff remove that request and operations retry."""
    handle = await _choosing(harness)
    held = harness.doubles.order_service_holds(handle.id)
    ready = await _choose(handle, DROP_OFF)
    await harness.scan(handle, _parcel(ready))

    async def stuck() -> bool:
        status = await handle.query(ReturnWorkflow.status)
        return "refund_request_failed" in status.attention

    await _until(stuck)
    harness.doubles.refunds_on_file.remove(held)
    await handle.execute_update(
        ReturnWorkflow.resolve_attention, _ops(AttentionAction.RETRY, "order service fixed")
    )
    await harness.to_the_end(env, handle)
    return handle


# --- The reminder sweep -----------------------------------------------------------------------


_SWEEP = "unshipped-returns-reminder-2026-11-25T08:00:00Z/0b9d3c1e"
"""The origin the reminder paths' sweep signs its reminders with."""


def _reminders(harness: ReturnHarness) -> int:
    """The shipping reminders emailed so far."""
    return harness.doubles.notice_kinds.count(NoticeKind.SHIPPING_REMINDER)


async def _skipped(handle: ReturnHandle) -> bool:
    """A reminder was skipped: the timeline says so."""
    status = await handle.query(ReturnWorkflow.status)
    return any("skipped" in entry.event for entry in status.timeline)


@scenario()
async def reminded_to_ship(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """The sweep reminds the customer who has not chosen (twice the same day: one email), the
    next day again once they have; then the parcel goes."""
    today = dt.datetime.now(PARIS).date()
    handle = await _choosing(harness)
    reminder = ShippingReminder(day=today, origin=_SWEEP)
    await handle.signal(ReturnWorkflow.remind_to_ship, reminder)
    await _until(lambda: _reminders(harness) == 1)
    await handle.signal(ReturnWorkflow.remind_to_ship, reminder)
    await _until(lambda: _skipped(handle))
    await env.fast_forward(handle, DAY)
    ready = await _choose(handle, DROP_OFF)
    await handle.signal(
        ReturnWorkflow.remind_to_ship, ShippingReminder(day=today + DAY, origin=_SWEEP)
    )
    await _until(lambda: _reminders(harness) == 2)
    return await _scanned_to_the_end(harness, env, handle, ready)


@scenario()
async def reminded_for_tomorrow_by_hand(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """After today's reminder, one signalled by hand for tomorrow's date is skipped; tomorrow's
    sweep reminds the customer; then the parcel goes."""
    today = dt.datetime.now(PARIS).date()
    handle = await _choosing(harness)
    await handle.signal(ReturnWorkflow.remind_to_ship, ShippingReminder(day=today, origin=_SWEEP))
    await _until(lambda: _reminders(harness) == 1)
    by_hand = ShippingReminder(day=today + DAY, origin="operations:agent-42")
    await handle.signal(ReturnWorkflow.remind_to_ship, by_hand)
    await _until(lambda: _skipped(handle))
    await env.fast_forward(handle, DAY)
    await handle.signal(
        ReturnWorkflow.remind_to_ship, ShippingReminder(day=today + DAY, origin=_SWEEP)
    )
    await _until(lambda: _reminders(harness) == 2)
    ready = await _choose(handle, DROP_OFF)
    return await _scanned_to_the_end(harness, env, handle, ready)


@scenario(lambda: Doubles(hold={"create_return_label": asyncio.Event()}))
async def reminded_while_the_label_was_made(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The sweep's reminder comes while the carrier makes the label: skipped, not sent just
    after the label email; then the parcel goes."""
    doubles = harness.doubles
    handle = await _choosing(harness)
    choice = await handle.start_update(
        ReturnWorkflow.choose_return_method, DROP_OFF, wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    await _until(lambda: doubles.in_flight("create_return_label").is_set())
    sweep = "unshipped-returns-reminder-2026-11-25T08:00:00Z/0b9d3c1e"
    today = dt.datetime.now(PARIS).date()
    await handle.signal(ReturnWorkflow.remind_to_ship, ShippingReminder(day=today, origin=sweep))
    doubles.hold["create_return_label"].set()
    ready = await choice.result()
    return await _scanned_to_the_end(harness, env, handle, ready)


# --- Two things at once, and the guardrails ---------------------------------------------------


@scenario(lambda: Doubles(hold={"create_return_label": asyncio.Event()}))
async def expired_while_choosing(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """The expiry instant passes while the carrier makes the label: the choice is refused, the
    label voided, the return expires."""
    doubles = harness.doubles
    handle = await _choosing(harness)
    await env.fast_forward(handle, await time_to(handle, _expiry) - dt.timedelta(seconds=6))
    choice = await handle.start_update(
        ReturnWorkflow.choose_return_method, DROP_OFF, wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    await doubles.in_flight("create_return_label").wait()
    await asyncio.sleep(8)
    doubles.hold["create_return_label"].set()
    with contextlib.suppress(WorkflowUpdateFailedError):
        await choice.result()
    await handle.result()
    return handle


@scenario()
async def dispatched_while_rebooking(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The carrier collects the parcel while another pickup is being booked: the new booking
    is cancelled, the refund requested."""
    doubles = harness.doubles
    handle = await _choosing(harness)
    first = await _choose(handle, _pickup())
    assert first.pickup is not None
    doubles.hold["book_mailbox_pickup"] = asyncio.Event()
    doubles.entered.pop("book_mailbox_pickup", None)
    later = next_pickup_date(
        dt.datetime.combine(first.pickup.pickup_date, dt.time(12), tzinfo=dt.UTC)
    )
    rebooking = await handle.start_update(
        ReturnWorkflow.choose_return_method,
        _pickup(later),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    await doubles.in_flight("book_mailbox_pickup").wait()
    await harness.scan(handle, _parcel(first))
    doubles.hold["book_mailbox_pickup"].set()
    with contextlib.suppress(WorkflowUpdateFailedError):
        await rebooking.result()
    await harness.to_the_end(env, handle)
    return handle


def _refuses_the_second_pickup_day() -> Doubles:
    _first, second = itertools.islice(collection_days(dt.datetime.now(dt.UTC)), 2)
    return Doubles(refused_pickup_dates={second})


@scenario(_refuses_the_second_pickup_day)
async def pickup_move_refused_and_booked_again(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The customer moves the pickup: the first is called off to free the label, the carrier
    refuses the new day, and the first day is booked again."""
    handle = await _choosing(harness)
    await _choose(handle, _pickup())
    (refused_day,) = harness.doubles.refused_pickup_dates
    with contextlib.suppress(WorkflowUpdateFailedError):
        await _choose(handle, _pickup(refused_day))
    status = await handle.query(ReturnWorkflow.status)
    assert status.pickup is not None and status.label is not None
    await harness.scan(handle, status.label.tracking_number)
    await harness.to_the_end(env, handle)
    return handle


@scenario(_answered_late("book_mailbox_pickup"))
async def pickup_unanswered_then_another_day(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The carrier books the pickup after the choice's bound; the customer chooses another day:
    the request left unanswered is asked again under its key, that pickup called off, the new
    day booked."""
    doubles = harness.doubles
    handle = await _choosing(harness)
    first, second = itertools.islice(collection_days(dt.datetime.now(dt.UTC)), 2)
    with contextlib.suppress(WorkflowUpdateFailedError):
        await _choose(handle, _pickup(first))
    doubles.hold["book_mailbox_pickup"].set()
    moved = await _choose(handle, _pickup(second))
    return await _scanned_to_the_end(harness, env, handle, moved)


@scenario()
async def missed_pickup_rebooked(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """Nobody came on the pickup day; the customer books another: the missed one, its day over,
    is not cancelled."""
    doubles = harness.doubles
    handle = await _choosing(harness)
    booked = await _choose(handle, _pickup())
    assert booked.pickup is not None
    day_after = dt.datetime.combine(booked.pickup.pickup_date + DAY, dt.time(10), tzinfo=PARIS)
    await env.fast_forward(handle, day_after - dt.datetime.now(dt.UTC))
    await _until(lambda: len(doubles.polls) >= 1)
    rebooked = await _choose(handle, _pickup(next_pickup_date(day_after)))
    status = await harness.until_status(
        handle, lambda s: any(e.event.endswith("its day is over") for e in s.timeline)
    )
    assert status.attention == []
    return await _scanned_to_the_end(harness, env, handle, rebooked)


@scenario(lambda: Doubles(hold={"create_return_label": asyncio.Event()}))
async def cancelled_while_choosing(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The customer cancels while the carrier makes the label: the cancel waits for it, then
    voids it; no label email."""
    doubles = harness.doubles
    handle = await _choosing(harness)
    choice = await handle.start_update(
        ReturnWorkflow.choose_return_method, DROP_OFF, wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    await doubles.in_flight("create_return_label").wait()
    cancel = await handle.start_update(
        ReturnWorkflow.cancel, CancelRequest(), wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    doubles.hold["create_return_label"].set()
    await choice.result()
    await cancel.result()
    await handle.result()
    return handle


@scenario(_answered_late("request_counter_code"))
async def counter_code_unanswered_then_chosen_again(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The carrier makes the counter code after the choice's bound: chosen again, the request
    goes under the same key and gets that code, and nothing is left unanswered at the end."""
    counter = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="sandbox")
    handle = await _choosing(harness)
    with contextlib.suppress(WorkflowUpdateFailedError):
        await _choose(handle, counter)
    harness.doubles.hold["request_counter_code"].set()
    ready = await _choose(handle, counter)
    return await _scanned_to_the_end(harness, env, handle, ready)


@scenario(_answered_late("book_mailbox_pickup"))
async def pickup_unanswered_then_chosen_again(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The carrier books the pickup after the choice's bound: the same day chosen again, the
    request goes under the same key and gets that pickup."""
    handle = await _choosing(harness)
    with contextlib.suppress(WorkflowUpdateFailedError):
        await _choose(handle, _pickup())
    harness.doubles.hold["book_mailbox_pickup"].set()
    ready = await _choose(handle, _pickup())
    return await _scanned_to_the_end(harness, env, handle, ready)


@scenario(_answered_late("create_return_label"))
async def choice_unanswered_then_chosen_again(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The carrier does not answer the label request in time: the choice is refused; chosen
    again, the label request goes with the same key and gets the label made meanwhile."""
    doubles = harness.doubles
    handle = await _choosing(harness)
    with contextlib.suppress(WorkflowUpdateFailedError):
        await _choose(handle, DROP_OFF)
    doubles.hold["create_return_label"].set()
    ready = await _choose(handle, DROP_OFF)
    return await _scanned_to_the_end(harness, env, handle, ready)


@scenario(lambda: Doubles(timings=ReturnTimings(max_choice_changes=1)))
async def choice_changes_capped(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """One change of mind is allowed here: the second is refused and operations are told;
    they put it through."""
    handle = await _choosing(harness)
    await _choose(handle, _pickup())
    await _choose(handle, DROP_OFF)
    counter = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="sandbox")
    with contextlib.suppress(WorkflowUpdateFailedError):
        await _choose(handle, counter)
    await handle.execute_update(
        ReturnWorkflow.resolve_attention, _ops(AttentionAction.RETRY, "customer called")
    )
    status = await handle.query(ReturnWorkflow.status)
    assert status.counter_code is not None
    await harness.scan(handle, status.counter_code.tracking_number)
    await harness.to_the_end(env, handle)
    return handle


@scenario(lambda: Doubles(offers=[COUNTER_LABEL_POST]))
async def reported_twice(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """The customer reports the counter receipt's number twice: the second is refused before it
    is written to the history (the history recorded before that, where it was taken and changed
    nothing, is kept as `reported_twice.before-repeat-refused-when-queued`)."""
    handle = await _choosing(harness)
    await _choose(
        handle, ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo")
    )
    report = ShipmentReport(tracking_number="6A12345678901")
    await handle.execute_update(ReturnWorkflow.report_shipment, report)
    try:
        await handle.execute_update(ReturnWorkflow.report_shipment, report)
    except WorkflowUpdateFailedError:
        pass
    else:
        raise AssertionError("the same number reported again was taken")
    await harness.scan(handle, "6A12345678901")
    await harness.to_the_end(env, handle)
    return handle


@scenario(
    lambda: Doubles(
        offers=[COUNTER_LABEL_POST], numbers_held={"6A12345678901": ["return-ORD-OTHER-1"]}
    )
)
async def reported_number_held_elsewhere(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The customer reports a number another running return holds: refused; then their own."""
    handle = await _counter_reported(harness, "6A12345678901", "6A12345678902")
    await harness.scan(handle, "6A12345678902")
    await harness.to_the_end(env, handle)
    return handle


def _void_refused(activity: str, _key: str) -> ApplicationError | None:
    return carrier_rejected("the label was already used") if activity == "void_label" else None


@scenario(lambda: Doubles(faults=_void_refused))
async def problem_left_closed_by_operations(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """Cancelled, but the carrier refuses to void the label: the return stays open until
    operations, having settled it with the carrier, close it."""
    handle = await _choosing(harness)
    await _choose(handle, DROP_OFF)
    await handle.execute_update(ReturnWorkflow.cancel, CancelRequest())

    async def stuck() -> bool:
        status = await handle.query(ReturnWorkflow.status)
        ended = any(e.event.endswith("→ ended_with_problems") for e in status.timeline)
        return ended and "carrier_cancellation_failed" in status.attention

    await _until(stuck)
    await handle.execute_update(
        ReturnWorkflow.resolve_attention, _ops(AttentionAction.CLOSE, "voided by phone")
    )
    await handle.result()
    return handle


def _polling_refused(activity_name: str, _key: str) -> ApplicationError | None:
    if activity_name == "poll_parcel_scans":
        return carrier_auth_failed("credentials refused (401): unknown API key")
    return None


@scenario(lambda: Doubles(faults=_polling_refused))
async def polling_refused_closed_by_operations(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """The carrier refuses the polling for good; operations settle it and close the return,
    which completes at once (what was listed is theirs)."""
    handle = await _choosing(harness)
    ready = await _choose(handle, DROP_OFF)
    sent = ShipmentReport(tracking_number=_parcel(ready))
    await handle.execute_update(ReturnWorkflow.report_shipment, sent)
    await env.fast_forward(handle, harness.doubles.timings.scan_overdue_after + DAY)

    async def refused() -> bool:
        status = await handle.query(ReturnWorkflow.status)
        return "carrier_polling_failed" in status.attention

    await _until(refused)
    await handle.execute_update(
        ReturnWorkflow.resolve_attention, _ops(AttentionAction.CLOSE, "settled with the carrier")
    )
    await handle.result()
    return handle


# --- The event feed ---------------------------------------------------------------------------


def _subscribed(
    faults: Callable[[str, str], ApplicationError | None] | None = None,
) -> Doubles:
    return Doubles(feed=FeedPlan(subscribers=["analytics", "marketplace"]), faults=faults)


def _analytics_refuses(activity_name: str, key: str) -> ApplicationError | None:
    if activity_name == "deliver_event" and key.startswith("analytics:"):
        return ApplicationError(
            "subscriber analytics HTTP 410", type=FailureType.FEED_SUBSCRIBER_REJECTED,
            non_retryable=True,
        )  # fmt: skip
    return None


def feed_of(harness: ReturnHarness, handle: ReturnHandle) -> WorkflowHandle[Any, FeedView]:
    """The return's event feed (recorded beside the return's history)."""
    return harness.client.get_workflow_handle_for(EventFeedWorkflow.run, feed_id(handle.id))


@scenario(_subscribed)
async def event_feed(harness: ReturnHarness, env: WorkflowEnvironment) -> ReturnHandle:
    """A mailbox pickup told to two subscribers: the return hands each step's events to its
    feed, which delivers them in sequence and ends once both had the last."""
    handle = await happy_mailbox_pickup(harness, env)
    await feed_of(harness, handle).result()
    return handle


@scenario(lambda: _subscribed(_analytics_refuses))
async def event_feed_parked_and_replayed(
    harness: ReturnHarness, env: WorkflowEnvironment
) -> ReturnHandle:
    """One subscriber refuses the first event: its delivery is parked while the other gets
    every event; once the subscriber is fixed, operations replay it and the rest follows."""
    handle = await happy_mailbox_pickup(harness, env)
    feed = feed_of(harness, handle)

    async def parked() -> bool:
        view = await feed.query(EventFeedWorkflow.view)
        return view.ended and any(s.parked for s in view.subscribers)

    await _until(parked)
    harness.doubles.faults = None
    await feed.execute_update(
        EventFeedWorkflow.replay, ReplayRequest(subscriber="analytics", by="ops:ana")
    )
    await feed.result()
    return handle
