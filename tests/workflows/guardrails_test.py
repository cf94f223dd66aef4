"""What keeps a return in bounds: carrier calls on the choice path bounded in time, a cap on
changes of mind, one ship-by, a report of the same number changing nothing, an email per
occurrence, small update answers, and a result the workflow cannot read holding the return
instead of failing it."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.failures import carrier_rejected, carrier_unavailable
from domain import search_attributes as sa
from domain.calendar import next_pickup_date
from domain.carriers import LabelRequest, ReturnMethod, TrackingStatus
from domain.notices import NoticeKind
from domain.returns import (
    AttentionAction,
    CancelRequest,
    ReturnAddressReply,
    ReturnMethodChoice,
    ReturnStage,
    ShipmentReport,
)
from domain.timings import RefundTrigger, ReturnTimings
from tests.factories import SELLER_ADDRESS, SELLER_WITHOUT_ADDRESS, retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, SANDBOX_OFFER, Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, failed_tasks, return_harness
from tests.workflows.lifecycle_test import (
    DROP_OFF,
    choosing,
    dropped_off,
    mailbox_pickup,
    ops,
    refused,
    said,
    until,
)
from worker import workflow_runner
from workflows.return_workflow import ReturnWorkflow

COUNTER = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="sandbox")


async def test_a_carrier_that_does_not_answer_in_time_gets_the_choice_refused_and_then_operations(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    answers = asyncio.Event()  # the carrier makes the label but its answer is slow
    doubles = Doubles(
        hold={"create_return_label": answers},
        # Long enough for the last choice's answer to come in time on a loaded machine.
        timings=ReturnTimings(carrier_answer_within=dt.timedelta(seconds=3)),
    )
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        tries = [
            await refused(handle, ReturnWorkflow.choose_return_method, DROP_OFF, "ChoiceRefused")
            for _ in range(3)
        ]
        waiting = await harness.told(handle, NoticeKind.OPERATIONS_ATTENTION)
        flagged = (await handle.describe()).typed_search_attributes
        answers.set()
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        after = await handle.query(ReturnWorkflow.status)

    assert tries == ["sandbox is not answering just now: try again in a few minutes"] * 3
    assert waiting.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE
    assert waiting.attention == ["carrier_not_answering:sandbox"]
    assert said(waiting, "carrier:sandbox", "no answer in time (label)")
    assert flagged.get(sa.NEEDS_ATTENTION) is True
    assert doubles.notice_kinds.count(NoticeKind.OPERATIONS_ATTENTION) == 1
    # The label request went each time with the key of the first: one label, the one made.
    assert len(doubles.labels) == 1
    assert ready.label is not None and ready.label.label_id == "LBL-1"
    assert after.attention == []


async def updates_taken(handle: ReturnHandle) -> int:
    """How many updates the return's history holds: one refused by its validator is not there."""
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    return sum(e.event_type == accepted for e in (await handle.fetch_history()).events)


async def test_changes_of_mind_are_capped_and_operations_may_put_one_more_through(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(timings=ReturnTimings(max_choice_changes=1))
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        capped = await refused(handle, ReturnWorkflow.choose_return_method, COUNTER)
        flagged = await handle.query(ReturnWorkflow.status)
        # Operations are told once; asking again and again is refused before it is written
        # to the return's history, so it costs the return nothing.
        again = [await refused(handle, ReturnWorkflow.choose_return_method, COUNTER) for _ in "abc"]
        taken = await updates_taken(handle)
        put_through = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "customer called")
        )

    assert capped.startswith("the way of sending the parcel was changed 1 times already")
    assert again == [capped] * 3
    assert taken == 3  # the two choices and the first past the cap, which told operations
    assert flagged.stage is ReturnStage.AWAITING_DROP_OFF
    assert flagged.attention == ["choice_changes_exhausted"]
    assert NoticeKind.OPERATIONS_ATTENTION in doubles.notice_kinds
    assert put_through.stage is ReturnStage.AWAITING_COUNTER_DROP_OFF
    assert put_through.counter_code is not None and put_through.attention == []


async def test_reporting_the_same_number_again_changes_nothing_not_even_the_history(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(
        offers=[COUNTER_LABEL_POST],
        timings=ReturnTimings(scan_overdue_after=dt.timedelta(hours=6)),
    )
    report = ShipmentReport(tracking_number="6A12345678901")
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo"),
        )
        first = await handle.execute_update(ReturnWorkflow.report_shipment, report)
        await time_skipping_env.fast_forward(handle, dt.timedelta(hours=5))
        again = [await refused(handle, ReturnWorkflow.report_shipment, report) for _ in "abc"]
        taken = await updates_taken(handle)
        # Six hours after the first report the carrier is polled: the second did not restart
        # the clock.
        await time_skipping_env.fast_forward(handle, dt.timedelta(hours=2))
        await until(harness, lambda d: len(d.polls) >= 1)
        status = await handle.query(ReturnWorkflow.status)

    assert first.note is None and first.tracking_number == "6A12345678901"
    # Refused before it is written to the history: repeated, reports would fill it.
    assert again == ["tracking_number: 6A12345678901 is reported already: nothing to change"] * 3
    assert taken == 2  # the choice and the first report
    reports = [e for e in status.timeline if e.actor == "customer" and "reported" in e.event]
    assert [e.event for e in reports] == ["reported the parcel as sent"]


async def test_each_email_of_a_kind_has_its_own_message_id(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        assert booked.label is not None and booked.pickup is not None
        number = booked.label.tracking_number
        await harness.scan(handle, number, TrackingStatus.EXCEPTION, scan_id="X1")
        await until(harness, lambda d: d.notice_kinds.count(NoticeKind.SHIPMENT_PROBLEM) == 1)
        await harness.scan(handle, number, TrackingStatus.EXCEPTION, scan_id="X2")
        await until(harness, lambda d: d.notice_kinds.count(NoticeKind.SHIPMENT_PROBLEM) == 2)

    notices = harness.doubles.notices
    keys = [(n.kind, n.revision) for n in notices]
    assert len(keys) == len(set(keys)), keys
    problems = [n for n in notices if n.kind is NoticeKind.SHIPMENT_PROBLEM]
    assert [n.revision for n in problems] == [1, 2]
    assert [n.scan.scan_id for n in problems if n.scan] == ["X1", "X2"]
    attention = [n.revision for n in notices if n.kind is NoticeKind.OPERATIONS_ATTENTION]
    assert attention == [1, 2]


async def test_an_update_answers_a_small_result_however_often_the_customer_changes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(
        offers=[SANDBOX_OFFER, COUNTER_LABEL_POST], timings=ReturnTimings(max_choice_changes=20)
    )
    choices = [mailbox_pickup(), DROP_OFF, COUNTER] * 4
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        for choice in choices:
            await handle.execute_update(ReturnWorkflow.choose_return_method, choice)
        history = await handle.fetch_history()

    sizes = [
        e.workflow_execution_update_completed_event_attributes.outcome.ByteSize()
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
    ]
    assert len(sizes) == len(choices)
    assert max(sizes) < 2_000, sizes
    assert max(sizes[-3:]) <= max(sizes[:3]) + 100, "the answer does not grow with the story"


async def test_the_ship_by_moves_once_and_everything_follows_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
        await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
        # The seller answers on day 15: past the legal ship-by of the withdrawal.
        await time_skipping_env.fast_forward(handle, dt.timedelta(days=15))
        await handle.execute_update(
            ReturnWorkflow.provide_return_address,
            ReturnAddressReply(address=SELLER_ADDRESS, given_by="seller"),
        )
        status = await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        shown = (await handle.describe()).typed_search_attributes.get(sa.SHIP_BY)
        # The customer can still book a pickup: the day after tomorrow is before the ship-by.
        now = status.timeline[-1].at
        day = next_pickup_date(now + dt.timedelta(days=1))
        booked = await handle.execute_update(
            ReturnWorkflow.choose_return_method, mailbox_pickup(day=day)
        )
        await harness.told(handle, NoticeKind.RETURN_LABEL)

    assert status.ship_by > status.notice_at + dt.timedelta(days=15)
    assert shown == status.ship_by
    assert status.expires_at == status.ship_by + dt.timedelta(days=3)
    address_email = harness.doubles.notices[-2]
    assert address_email.kind is NoticeKind.RETURN_ADDRESS
    assert address_email.ship_by == status.ship_by
    assert booked.stage is ReturnStage.AWAITING_PICKUP


async def test_a_result_the_workflow_cannot_read_holds_the_return_instead_of_failing_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    @activity.defn(name="create_return_label")
    async def unreadable(request: LabelRequest) -> dict[str, object]:
        # A label this build cannot read (say, a field a later release of the model requires).
        return {"carrier": request.carrier, "label_id": "LBL-X"}

    doubles = Doubles()
    activities = [
        unreadable if getattr(a, "__name__", "") == "create_return_label" else a
        for a in doubles.activities()
    ]
    queue = f"returns-unreadable-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[ReturnWorkflow],
        activities=activities,
        workflow_runner=workflow_runner(),
    ):
        harness = ReturnHarness(time_skipping_env.client, doubles, queue)
        handle = await choosing(harness)
        await handle.start_update(
            ReturnWorkflow.choose_return_method,
            DROP_OFF,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        async with asyncio.timeout(20):
            while not (failed := await failed_tasks(handle)):
                await asyncio.sleep(0.1)
        held = await handle.describe()
        await handle.terminate("test over")

    assert held.status is WorkflowExecutionStatus.RUNNING, "held, not failed: a fix can resume it"
    assert "Failed decoding" in failed[0]


async def test_a_carrier_outage_past_the_bound_is_not_answering_and_its_key_is_kept(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    down = True

    def outage(activity_name: str, _key: str) -> ApplicationError | None:
        if down and activity_name == "create_return_label":
            return carrier_unavailable("503 Service Unavailable")
        return None

    doubles = Doubles(
        faults=outage, timings=ReturnTimings(carrier_answer_within=dt.timedelta(seconds=2))
    )
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        during = await refused(handle, ReturnWorkflow.choose_return_method, DROP_OFF)
        waiting = await handle.query(ReturnWorkflow.status)
        down = False
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)

    assert during == "sandbox is not answering just now: try again in a few minutes"
    assert waiting.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE and waiting.attention == []
    (label,) = doubles.labels
    assert label.idempotency_key == f"{handle.id}:label:1", "the first try's key, kept"
    assert ready.label is not None


async def test_operations_retry_many_undelivered_emails_in_batches(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(undeliverable={NoticeKind.SHIPMENT_PROBLEM})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        assert booked.label is not None
        for n in range(7):  # the carrier fails to collect, again and again
            await harness.scan(
                handle, booked.label.tracking_number, TrackingStatus.EXCEPTION, scan_id=f"X{n}"
            )
        # Seven batches of notices, one after the other.
        await until(
            harness, lambda d: d.notice_kinds.count(NoticeKind.OPERATIONS_ATTENTION) == 7, within=30
        )
        again = await refused(
            handle, ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "relay fixed?")
        )
        doubles.undeliverable.clear()
        retried = await handle.execute_update(
            ReturnWorkflow.resolve_attention, ops(AttentionAction.RETRY, "relay fixed")
        )
        assert await failed_tasks(handle) == []

    assert again.startswith("notice not delivered")
    sent = [n.scan for n in doubles.notices if n.kind is NoticeKind.SHIPMENT_PROBLEM]
    assert sorted(scan.scan_id for scan in sent if scan) == [f"X{n}" for n in range(7)]
    assert "notice_undeliverable:shipment_problem" not in retried.attention


async def test_a_scan_after_the_return_ended_is_kept_apart_not_taken_as_dispatch(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    def void_refused(activity_name: str, _key: str) -> ApplicationError | None:
        return carrier_rejected("already used") if activity_name == "void_label" else None

    doubles = Doubles(faults=void_refused)
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        await handle.execute_update(ReturnWorkflow.cancel, CancelRequest())
        await harness.scan(handle, ready.label.tracking_number)  # sent anyway
        # The scan is kept apart as it comes; the void refused is told as the loop gets to it.
        async with asyncio.timeout(10):
            while True:
                status = await handle.query(ReturnWorkflow.status)
                kept_apart = any("after the end" in e.event for e in status.timeline)
                if kept_apart and status.attention:
                    break
                await asyncio.sleep(0.05)

    assert status.stage is ReturnStage.CANCELLED and status.scans == []
    assert status.attention == ["carrier_cancellation_failed"]


async def test_a_return_accepted_late_by_operations_gets_its_fourteen_days_from_the_address(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(retract_event(ordered_days_before_notice=45))
        await harness.stage_reached(handle, ReturnStage.REJECTED)
        await time_skipping_env.fast_forward(handle, dt.timedelta(days=10))
        await handle.execute_update(
            ReturnWorkflow.resolve_attention,
            ops(AttentionAction.OVERRIDE_ELIGIBILITY, "defect reported by phone in time"),
        )
        status = await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        shown = (await handle.describe()).typed_search_attributes.get(sa.SHIP_BY)

    assert status.ship_by >= status.notice_at + dt.timedelta(days=24)
    assert shown == status.ship_by


async def test_the_refund_email_held_back_by_a_refused_refund_goes_out_once_it_is_requested(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Refund on delivery: the parcel arrives, the order service refuses the refund, so its
    email has no refund to tell and is held back. Operations retry the refund, then the email:
    it tells the refund requested since."""
    doubles = Doubles(timings=ReturnTimings(refund_trigger=RefundTrigger.DELIVERY))
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, label = await dropped_off(harness)
        held = doubles.order_service_holds(handle.id)  # the refund is asked at the delivery
        await harness.scan(handle, label.tracking_number, TrackingStatus.DELIVERED)
        stuck = await harness.until_status(
            handle, lambda s: "notice_undeliverable:refund_requested" in s.attention
        )
        doubles.refunds_on_file.remove(held)
        retry = ops(AttentionAction.RETRY, "the order service is fixed")
        await handle.execute_update(ReturnWorkflow.resolve_attention, retry)
        await handle.execute_update(ReturnWorkflow.resolve_attention, retry)
        done = await handle.query(ReturnWorkflow.status)

    assert stuck.refund is None and "refund_request_failed" in stuck.attention
    assert done.refund is not None and done.attention == []
    (told,) = [n for n in doubles.notices if n.kind is NoticeKind.REFUND_REQUESTED]
    assert told.refund == done.refund and told.revision == 1


async def test_the_emails_of_a_delivery_tell_the_delivery_scan_not_the_dispatch(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Refund on delivery: the customer is told the seller has the parcel, and the seller
    when it was delivered, not when it was posted."""
    doubles = Doubles(timings=ReturnTimings(refund_trigger=RefundTrigger.DELIVERY))
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, label = await dropped_off(harness)
        await harness.scan(handle, label.tracking_number, TrackingStatus.DELIVERED)
        await until(harness, lambda d: NoticeKind.REFUND_REQUESTED in d.notice_kinds)

    (refunded,) = [n for n in doubles.notices if n.kind is NoticeKind.REFUND_REQUESTED]
    assert refunded.scan is not None and refunded.scan.status is TrackingStatus.DELIVERED
