"""A return's life and its error paths with the real activities, as the product runs them.

The worker is `worker.py`'s; the carrier is the sandbox over HTTP, which refuses, forgets and
fails the way a carrier does; emails go through a real SMTP sink; refunds go to the order
service's file. Each test plays what the docs promise for a failure and checks what the
customer, the seller, operations, the carrier and the order service end up with.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.base import Money
from domain.calendar import CARRIER_TZ, collection_days, next_pickup_date
from domain.carriers import ReturnMethod, TrackingStatus
from domain.events import RetractEvent
from domain.ids import idempotency_key, return_id
from domain.returns import (
    AttentionAction,
    AttentionResolution,
    CancelRequest,
    RefundReason,
    RefundRequest,
    ReturnMethodChoice,
    ReturnStage,
    ReturnStatus,
    ShipmentReport,
)
from plumbing.settings import Settings
from tests.factories import CUSTOMER_EMAIL, SELLER_ADDRESS, charger_missing, retract_event
from tests.workflows.harness import ReturnHandle, failed_tasks
from tests.workflows.real_stack import (
    SELLER_EMAIL,
    TECHREVIVE_ID,
    RealStack,
    real_stack,
    seller_entry,
)
from workflows.return_workflow import ReturnWorkflow

OPERATIONS = Settings().operations_email


def mailbox_pickup(carrier: str = "sandbox", day: dt.date | None = None) -> ReturnMethodChoice:
    return ReturnMethodChoice(
        method=ReturnMethod.MAILBOX_PICKUP,
        carrier=carrier,
        pickup_date=day or next_pickup_date(dt.datetime.now(dt.UTC)),
    )


def two_collection_days() -> tuple[dt.date, dt.date]:
    first, second = itertools.islice(collection_days(dt.datetime.now(dt.UTC)), 2)
    return first, second


SLOW_BOOKING = {"slow_rate": 1.0, "slow_seconds": 4.5, "count": 1}
"""The carrier's first answer comes after the choice's bound (3 s in these tests)."""


async def made(stack: RealStack, step: str) -> dict[str, int]:
    """What the carrier made under each key of `step` (`pickup`, `counter-code`), once it has
    made the first (a slow booking is done after its caller gave up)."""
    async with asyncio.timeout(15):
        while True:
            keys = {k: n for k, n in (await stack.made_under_keys()).items() if f":{step}:" in k}
            if keys:
                return keys
            await asyncio.sleep(0.2)


def drop_off(carrier: str = "sandbox") -> ReturnMethodChoice:
    return ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier=carrier)


def ops(action: AttentionAction, reason: str) -> AttentionResolution:
    return AttentionResolution(action=action, by="operations:agent-42", reason=reason)


async def choosing(stack: RealStack) -> ReturnHandle:
    handle = await stack.start(retract_event())
    await stack.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    return handle


async def refused(handle: ReturnHandle, update: object, arg: object) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(update, arg)  # type: ignore[call-overload]
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_a_return_goes_through_the_carrier_the_mail_relay_and_the_order_service(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with real_stack(time_skipping_env, tmp_path) as stack:
        handle = await choosing(stack)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        assert booked.label is not None and booked.pickup is not None
        scan = await stack.carrier_scans(booked.label.tracking_number, TrackingStatus.ACCEPTED)
        await stack.scan_reaches(handle, scan)
        on_its_way = await stack.until(handle, lambda s: s.refund is not None)
        # The carrier delivers; the seller finds the charger missing and asks a deduction.
        scan = await stack.carrier_scans(booked.label.tracking_number, TrackingStatus.DELIVERED)
        await stack.scan_reaches(handle, scan)
        await stack.until(handle, lambda s: s.inspection is not None)
        missing = charger_missing()
        await handle.execute_update(ReturnWorkflow.report_inspection, missing)
        await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.APPROVE_DEDUCTION, "photo of the open box checked"),
        )
        done = await handle.result()
        assert await failed_tasks(handle) == []

        assert on_its_way.stage is ReturnStage.PICKED_UP
        assert done.stage is ReturnStage.DELIVERED and done.attention == []
        assert stack.kinds_to(CUSTOMER_EMAIL) == [
            "return_address",
            "return_label",
            "pickup_confirmed",
            "deduction_approved",
        ]
        assert stack.kinds_to(SELLER_EMAIL) == ["seller_parcel_inbound", "seller_parcel_delivered"]
        (claim,) = await stack.orders.claims()
        assert claim.amount == missing.deduction and claim.evidence == missing.evidence
        assert done.inspection is not None and done.inspection.claim is not None
        assert done.refund is not None and claim.refund_id == done.refund.refund_id
        assert set(stack.emails_by_id().values()) == {1}, "each email sent once"
        (label_email,) = [m for m in stack.emails() if ".return_label." in str(m["Message-ID"])]
        (pdf,) = [p for p in label_email.iter_attachments() if p.get_content_type().endswith("pdf")]
        assert pdf.get_content().startswith(b"%PDF")
        (refund,) = await stack.refunds()
        assert done.refund is not None and refund.refund_id == done.refund.refund_id
        assert refund.return_id == handle.id
        # One label and one pickup at the carrier, each under its own key.
        assert sorted(await stack.made_under_keys()) == [
            f"{handle.id}:label:1",
            f"{handle.id}:pickup:1",
        ]


def ended_with_problems(status: ReturnStatus) -> bool:
    """The return reached its end with reasons left: it stays open for operations."""
    return any("ended_with_problems" in entry.event for entry in status.timeline)


def needs_attention(status: ReturnStatus) -> bool:
    return bool(status.attention)


async def completed(handle: ReturnHandle) -> bool:
    return (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED


# --- Emails the relay refuses ----------------------------------------------------------------


async def test_one_refused_email_of_a_batch_is_flagged_alone_and_retry_sends_only_it(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with real_stack(time_skipping_env, tmp_path) as stack:
        # The seller's email on file is wrong: the relay refuses it for good (550).
        stack.sellers_file(seller_entry("returns@refurbpro.invalid"))
        handle = await choosing(stack)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, drop_off())
        assert ready.label is not None
        scan = await stack.carrier_scans(ready.label.tracking_number, TrackingStatus.ACCEPTED)
        await stack.scan_reaches(handle, scan)
        waiting = await stack.until(handle, needs_attention)

        # The customer's email of the same batch went; only the seller's is flagged.
        assert waiting.attention == ["notice_undeliverable:seller_parcel_inbound"]
        assert stack.kinds_to(CUSTOMER_EMAIL)[-1] == "pickup_confirmed"
        assert stack.kinds_to("refurbpro") == []
        # Retrying before the address is fixed fails and keeps the reason.
        again = await refused(
            handle, ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "try again")
        )
        assert again.type == "RetryFailed" and "550" in again.message

        stack.sellers_file(seller_entry())  # operations fix the seller's email on file
        retried = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "seller email fixed")
        )
        assert await failed_tasks(handle) == []

    assert retried.attention == []
    assert stack.kinds_to(CUSTOMER_EMAIL) == ["return_address", "return_label", "pickup_confirmed"]
    assert stack.kinds_to(SELLER_EMAIL) == ["seller_parcel_inbound"]
    copies = stack.emails_by_id()
    assert len(copies) == 4 and set(copies.values()) == {1}, f"an email sent twice: {copies}"


async def test_a_seller_with_no_email_on_file_is_a_notice_missing_a_fact_until_given(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with real_stack(time_skipping_env, tmp_path) as stack:
        stack.sellers_file(seller_entry(None))
        handle = await choosing(stack)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, drop_off())
        assert ready.label is not None
        scan = await stack.carrier_scans(ready.label.tracking_number, TrackingStatus.ACCEPTED)
        await stack.scan_reaches(handle, scan)
        waiting = await stack.until(handle, needs_attention)
        assert waiting.attention == ["notice_undeliverable:seller_parcel_inbound"]
        assert waiting.problem is not None and "seller.email" in waiting.problem

        stack.sellers_file(seller_entry())
        await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "seller email added")
        )
        done = await stack.status(handle)
        assert await failed_tasks(handle) == []

    assert done.attention == [] and done.stage is ReturnStage.PICKED_UP
    assert stack.kinds_to(SELLER_EMAIL) == ["seller_parcel_inbound"]
    assert set(stack.emails_by_id().values()) == {1}


# --- The carrier refusing ------------------------------------------------------------------


async def test_a_label_the_carrier_refuses_is_answered_and_another_carrier_goes_through(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with real_stack(time_skipping_env, tmp_path) as stack:
        handle = await stack.start(retract_event(seller_id=TECHREVIVE_ID))
        await stack.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        # Relay Express carries parcels within France and its neighbours only: not to Berlin.
        why = await refused(handle, ReturnWorkflow.choose_return_method, drop_off("relay"))
        after_refusal = await stack.status(handle)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, drop_off())
        assert await failed_tasks(handle) == []
        made = await stack.made_under_keys()

    assert why.type == "ChoiceRefused"
    assert why.message.startswith("relay refused:") and "DE" in why.message
    assert after_refusal.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE
    assert after_refusal.attention == ["carrier_rejected_request"]
    assert ready.stage is ReturnStage.AWAITING_DROP_OFF and ready.attention == []
    assert ready.label is not None and ready.label.carrier == "sandbox"
    assert made == {f"{handle.id}:label:2": 1}, "nothing made by the carrier that refused"


async def test_a_label_already_used_cannot_be_voided_and_close_settles_it(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with real_stack(time_skipping_env, tmp_path) as stack:
        handle = await choosing(stack)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, drop_off())
        assert ready.label is not None
        # The customer drops the parcel off; the carrier's webhook never comes...
        await stack.carrier_scans(ready.label.tracking_number, TrackingStatus.ACCEPTED)
        # ...and the customer cancels: the label cannot be voided any more (422 label_used).
        await handle.execute_update(ReturnWorkflow.cancel, CancelRequest())
        waiting = await stack.until(handle, ended_with_problems)
        assert not await completed(handle)
        assert waiting.stage is ReturnStage.CANCELLED
        assert waiting.attention == ["carrier_cancellation_failed"]
        assert any("label not cancelled" in e.event for e in waiting.timeline)

        closed = await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.CLOSE, "parcel in transit: seller will refund on arrival"),
        )
        done = await handle.result()
        assert await failed_tasks(handle) == []

    assert closed.attention == [] and done.stage is ReturnStage.CANCELLED
    assert stack.kinds_to(CUSTOMER_EMAIL)[-1] == "return_cancelled"


async def test_a_pickup_whose_day_has_begun_cannot_be_cancelled_and_close_settles_it(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with real_stack(time_skipping_env, tmp_path) as stack:
        handle = await choosing(stack)
        choice = mailbox_pickup()
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, choice)
        assert booked.pickup is not None and choice.pickup_date is not None
        # The pickup day has begun at the carrier when the customer cancels.
        await stack.carrier_clock(
            dt.datetime.combine(choice.pickup_date, dt.time(9, 0), tzinfo=CARRIER_TZ)
        )
        await handle.execute_update(ReturnWorkflow.cancel, CancelRequest())
        waiting = await stack.until(handle, ended_with_problems)
        assert waiting.attention == ["carrier_cancellation_failed"]
        assert any("pickup not cancelled" in e.event for e in waiting.timeline)

        await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.CLOSE, "carrier told to skip the round"),
        )
        done = await handle.result()
        assert await failed_tasks(handle) == []

    assert done.stage is ReturnStage.CANCELLED and done.attention == []


async def test_a_customer_moves_their_pickup_to_another_day_on_the_same_label(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The carrier books one pickup at a time on a label: the first is called off, then the
    new day booked, on the label the customer has printed."""
    first_day, second_day = two_collection_days()
    async with real_stack(time_skipping_env, tmp_path) as stack:
        handle = await choosing(stack)
        first = await handle.execute_update(
            ReturnWorkflow.choose_return_method, mailbox_pickup(day=first_day)
        )
        moved = await handle.execute_update(
            ReturnWorkflow.choose_return_method, mailbox_pickup(day=second_day)
        )
        status = await stack.status(handle)
        assert first.pickup is not None
        old = await stack.carrier_api("sandbox").post(f"/pickups/{first.pickup.pickup_id}/cancel")

    assert moved.pickup is not None and moved.pickup.pickup_date == second_day
    assert moved.label == first.label
    assert old.json()["already_cancelled"] is True
    assert status.attention == []
    assert any(e.event.startswith(f"pickup for {first_day} called off") for e in status.timeline)


async def test_a_pickup_whose_day_passed_without_a_collection_is_not_cancelled_for_the_next(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """Nobody came on the pickup day: the carrier neither cancels that pickup nor holds the label
    for it, and the customer books another day with nothing for operations."""
    first_day = next_pickup_date(dt.datetime.now(dt.UTC))
    day_after = dt.datetime.combine(first_day + dt.timedelta(days=1), dt.time(10), CARRIER_TZ)
    async with real_stack(time_skipping_env, tmp_path) as stack:
        handle = await choosing(stack)
        await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        await stack.carrier_clock(day_after)
        await time_skipping_env.fast_forward(handle, day_after - dt.datetime.now(dt.UTC))
        again = next_pickup_date(day_after)
        rebooked = await handle.execute_update(
            ReturnWorkflow.choose_return_method, mailbox_pickup(day=again)
        )
        status = await stack.until(
            handle, lambda s: any(e.event.endswith("its day is over") for e in s.timeline)
        )

    assert rebooked.pickup is not None and rebooked.pickup.pickup_date == again
    assert status.attention == []
    assert f"previous pickup for {first_day}: its day is over" in [e.event for e in status.timeline]


async def test_a_pickup_the_carrier_answered_late_is_the_one_the_same_choice_gets(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The booking answered after the choice's bound was made: chosen again, the request goes
    under its key and gets that pickup, not a second one the label cannot have."""
    bound: dict[str, Any] = {"choice_carrier_timeout": dt.timedelta(seconds=3)}
    async with real_stack(time_skipping_env, tmp_path, **bound) as stack:
        handle = await choosing(stack)
        await stack.faults({"endpoint": "POST /carriers/*/v1/pickups", **SLOW_BOOKING})
        unanswered = await refused(handle, ReturnWorkflow.choose_return_method, mailbox_pickup())
        await made(stack, "pickup")
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        keys = await made(stack, "pickup")

    assert "not answering just now" in unanswered.message
    assert booked.stage is ReturnStage.AWAITING_PICKUP and booked.pickup is not None
    assert list(keys.values()) == [1], keys


async def test_a_pickup_the_carrier_answered_late_is_called_off_for_another_day(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    first_day, second_day = two_collection_days()
    bound: dict[str, Any] = {"choice_carrier_timeout": dt.timedelta(seconds=3)}
    async with real_stack(time_skipping_env, tmp_path, **bound) as stack:
        handle = await choosing(stack)
        await stack.faults({"endpoint": "POST /carriers/*/v1/pickups", **SLOW_BOOKING})
        await refused(handle, ReturnWorkflow.choose_return_method, mailbox_pickup(day=first_day))
        await made(stack, "pickup")
        moved = await handle.execute_update(
            ReturnWorkflow.choose_return_method, mailbox_pickup(day=second_day)
        )
        keys = await made(stack, "pickup")
        status = await stack.status(handle)

    assert moved.pickup is not None and moved.pickup.pickup_date == second_day
    assert sorted(keys.values()) == [1, 1], keys  # the late one, and the new day's
    assert any("unanswered request booked called off" in e.event for e in status.timeline)
    assert status.attention == []


async def test_a_counter_code_the_carrier_answered_late_is_the_one_the_same_choice_gets(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    counter = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="sandbox")
    bound: dict[str, Any] = {"choice_carrier_timeout": dt.timedelta(seconds=3)}
    async with real_stack(time_skipping_env, tmp_path, **bound) as stack:
        handle = await choosing(stack)
        await stack.faults({"endpoint": "POST /carriers/*/v1/counter-codes", **SLOW_BOOKING})
        await refused(handle, ReturnWorkflow.choose_return_method, counter)
        await made(stack, "counter-code")
        coded = await handle.execute_update(ReturnWorkflow.choose_return_method, counter)
        keys = await made(stack, "counter-code")

    assert coded.counter_code is not None
    assert list(keys.values()) == [1], "one code bought, under the first request's key"


async def test_expiry_cancels_the_booked_pickup_and_voids_the_label_at_the_carrier(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # No polling before the deadline: time skipping waits while an activity is retried. No
    # watch for a late parcel after it (the workflow tests show it).
    quiet: dict[str, Any] = {
        "scan_overdue_after": dt.timedelta(days=30),
        "late_parcel_watch": dt.timedelta(0),
    }
    async with real_stack(time_skipping_env, tmp_path, **quiet) as stack:
        handle = await choosing(stack)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        assert booked.label is not None and booked.pickup is not None
        expires_at = (await stack.status(handle)).expires_at
        assert expires_at is not None
        await time_skipping_env.fast_forward(
            handle, expires_at - dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        )
        # The collection was the marketplace's offer: the refund went at its deadline, so the
        # goods still at home are for operations.
        kept = await stack.until(handle, lambda s: "refunded_goods_not_returned" in s.attention)
        await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.CLOSE, "seller claims it back")
        )
        done = await handle.result()
        assert await failed_tasks(handle) == []
        carrier = stack.carrier_api("sandbox")
        pickup = await carrier.post(f"/pickups/{booked.pickup.pickup_id}/cancel")
        pdf = await carrier.get(f"/labels/{booked.label.label_id}/pdf")

    assert kept.stage is ReturnStage.EXPIRED and kept.refund is not None
    assert done.stage is ReturnStage.EXPIRED and done.attention == []
    assert stack.kinds_to(CUSTOMER_EMAIL)[-2:] == ["refund_before_return", "return_expired"]
    assert stack.kinds_to(SELLER_EMAIL) == ["seller_return_expired"]
    assert pickup.status_code == 200 and pickup.json()["already_cancelled"] is True
    assert pdf.status_code == 410


async def test_polling_the_carrier_refused_for_good_is_raised_and_close_settles_it(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with real_stack(time_skipping_env, tmp_path) as stack:
        handle = await choosing(stack)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, drop_off())
        assert ready.label is not None
        await stack.carrier_restarts(api_key="rotated-at-the-carrier")
        sent = ShipmentReport(tracking_number=ready.label.tracking_number)
        await handle.execute_update(ReturnWorkflow.report_shipment, sent)
        # No scan comes: once the scan is overdue, the return polls the carrier, which now
        # refuses our credentials.
        await time_skipping_env.fast_forward(
            handle, stack.settings.scan_overdue_after + dt.timedelta(minutes=1)
        )
        failing = await stack.until(handle, lambda s: "carrier_polling_failed" in s.attention)
        assert failing.stage is ReturnStage.AWAITING_DROP_OFF
        assert not await completed(handle)

        await stack.carrier_restarts(api_key=stack.sandbox_key)  # settled with the carrier
        closed = await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.CLOSE, "customer kept the phone, agreed by phone"),
        )
        done = await handle.result()
        assert await failed_tasks(handle) == []
        pdf = await stack.carrier_api("sandbox").get(f"/labels/{ready.label.label_id}/pdf")

    assert closed.stage is ReturnStage.CLOSED
    assert done.stage is ReturnStage.CLOSED and done.attention == []
    assert pdf.status_code == 410, "the unused label is voided at the carrier"


# --- The order service refusing ----------------------------------------------------------


def another_refund_under_the_key_of(event: RetractEvent) -> RefundRequest:
    """A refund of 1 EUR under the key the return will use (an earlier entry, by hand)."""
    the_return = return_id(event.order.order_id, event.order.line_id)
    return RefundRequest(
        idempotency_key=idempotency_key(the_return, "refund"),
        return_id=the_return,
        order_id=event.order.order_id,
        line_id=event.order.line_id,
        amount=Money(amount=Decimal("1.00"), currency="EUR"),
        reason=RefundReason.WITHDRAWAL,
        due_by=event.occurred_at + dt.timedelta(days=14),
    )


async def test_a_refund_the_order_service_refuses_stays_refused_until_settled_outside(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    event = retract_event()
    async with real_stack(time_skipping_env, tmp_path) as stack:
        # The order service already holds a refund under this return's key, for another amount.
        on_file = await stack.orders.request_refund(another_refund_under_the_key_of(event))
        handle = await stack.start(event)
        await stack.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, drop_off())
        assert ready.label is not None
        scan = await stack.carrier_scans(ready.label.tracking_number, TrackingStatus.ACCEPTED)
        await stack.scan_reaches(handle, scan)
        waiting = await stack.until(handle, needs_attention)
        assert waiting.attention == ["refund_request_failed"] and waiting.refund is None

        # The order service never forgets what it holds: a retry is refused the same way.
        again = await refused(
            handle, ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "try again")
        )
        assert again.type == "RetryFailed" and "already used" in again.message
        assert [r.refund_id for r in await stack.refunds()] == [on_file.refund_id]

        # Operations settle the refund with the order service and stop following the parcel:
        # the money owed stays listed until they close again.
        first = await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.CLOSE, "refunded in full by hand, ticket 7731"),
        )
        assert first.attention == ["refund_request_failed"]
        closed = await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.CLOSE, "refund settled, ticket 7731"),
        )
        done = await handle.result()
        assert await failed_tasks(handle) == []

    assert closed.attention == [] and done.stage is ReturnStage.PICKED_UP
    assert [r.refund_id for r in await stack.refunds()] == [on_file.refund_id]


async def test_a_refund_retried_once_the_order_service_freed_its_key_goes_through(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    event = retract_event()
    held = another_refund_under_the_key_of(event)
    key = held.idempotency_key
    async with real_stack(time_skipping_env, tmp_path) as stack:
        await stack.orders.request_refund(held)
        handle = await stack.start(event)
        await stack.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, drop_off())
        assert ready.label is not None
        scan = await stack.carrier_scans(ready.label.tracking_number, TrackingStatus.ACCEPTED)
        await stack.scan_reaches(handle, scan)
        await stack.until(handle, needs_attention)

        stack.order_service_drops(key)  # its staff remove the wrong request
        retried = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "order service fixed")
        )
        done = await stack.status(handle)
        assert await failed_tasks(handle) == []

    assert retried.attention == [] and done.refund is not None
    (refund,) = await stack.refunds()
    label = Money(amount=Decimal("6.25"), currency="EUR")  # Sandbox Post's price, withheld
    price = event.order.product.price
    assert refund.idempotency_key == key and refund.breakdown is not None
    assert refund.breakdown.label == label
    assert refund.amount.amount == price.amount - label.amount
    assert refund.refund_id == done.refund.refund_id


# --- Operations stepping in -----------------------------------------------------------------


async def test_a_seller_silent_about_the_address_is_asked_reminded_escalated_then_given(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with real_stack(time_skipping_env, tmp_path) as stack:
        stack.sellers_file({**seller_entry(), "return_address": None})
        handle = await stack.start(retract_event())
        waiting = await stack.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
        timings = stack.settings
        await time_skipping_env.fast_forward(
            handle, timings.seller_reminder_after + dt.timedelta(minutes=1)
        )
        await stack.until(handle, lambda s: any("reminder" in e.event for e in s.timeline))
        await time_skipping_env.fast_forward(
            handle, timings.seller_escalate_after + dt.timedelta(minutes=1)
        )
        escalated = await stack.until(handle, lambda s: s.attention != [])
        given = await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            AttentionResolution(
                action=AttentionAction.GIVE_ADDRESS,
                by="operations:agent-42",
                reason="address read to us by the seller on the phone",
                address=SELLER_ADDRESS,
            ),
        )
        choosing_now = await stack.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        assert await failed_tasks(handle) == []
        chat = await stack.seller_chat(waiting.seller_id)

    assert chat == ["address_request", "address_reminder"]
    assert escalated.attention == ["seller_return_address_missing"]
    assert stack.kinds_to(OPERATIONS) == ["operations_attention"]
    (to_operations,) = [m for m in stack.emails() if OPERATIONS in str(m["To"])]
    body = to_operations.get_body(("plain",))
    assert body is not None
    told = " ".join(body.get_content().split())
    assert "has not given one in the seller chat, even after a reminder" in told
    assert given.attention == [] and choosing_now.attention == []
    assert stack.kinds_to(CUSTOMER_EMAIL) == ["acknowledgement", "return_address"]


async def test_a_late_withdrawal_rejected_then_accepted_by_operations_goes_on(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with real_stack(time_skipping_env, tmp_path) as stack:
        handle = await stack.start(retract_event(ordered_days_before_notice=45))
        rejected = await stack.stage_reached(handle, ReturnStage.REJECTED)
        await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.OVERRIDE_ELIGIBILITY, "defect reported by phone in time"),
        )
        accepted = await stack.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        assert await failed_tasks(handle) == []

    assert rejected.eligibility is not None and not rejected.eligibility.accepted
    assert [o.code for o in accepted.carriers_offered] == ["sandbox", "relay"]
    assert stack.kinds_to(CUSTOMER_EMAIL) == ["rejection", "return_address"]
