"""Every path of `ReturnWorkflow`, under time skipping, with doubles for the outside world."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from client.start import start_return
from domain import search_attributes as sa
from domain.calendar import next_pickup_date
from domain.carriers import ReturnMethod, TrackingStatus
from domain.eligibility import return_calendar
from domain.events import RetractEvent
from domain.ids import return_id
from domain.notices import NoticeKind
from domain.periods import period_end
from domain.returns import (
    RejectionReason,
    ReturnAddressReply,
    ReturnMethodChoice,
    ReturnStage,
)
from tests.factories import (
    CUSTOMER_EMAIL,
    CUSTOMER_NAME,
    CUSTOMER_STREET,
    SELLER_ADDRESS,
    SELLER_WITHOUT_ADDRESS,
    retract_event,
)
from tests.workflows.doubles import (
    COUNTER_LABEL_POST,
    DROP_OFF_ONLY,
    MESSAGE_IDS,
    SANDBOX_OFFER,
    Doubles,
)
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness, runs_of
from workflows.return_workflow import INVALID_START, ReturnWorkflow


def mailbox_pickup(carrier: str = "sandbox", day: dt.date | None = None) -> ReturnMethodChoice:
    return ReturnMethodChoice(
        method=ReturnMethod.MAILBOX_PICKUP,
        carrier=carrier,
        pickup_date=day or next_pickup_date(dt.datetime.now(dt.UTC)),
    )


async def ready_for_choice(harness: ReturnHarness, **event_args: object) -> ReturnHandle:
    handle = await harness.start(retract_event(**event_args))  # type: ignore[arg-type]
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    return handle


async def refusal(handle: ReturnHandle, choice: ReturnMethodChoice) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(ReturnWorkflow.choose_return_method, choice)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.message


async def refused_address(handle: ReturnHandle, reply: ReturnAddressReply) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(ReturnWorkflow.provide_return_address, reply)
    cause = failed.value.cause
    # Refused by the validator: the update is never written to the history.
    assert isinstance(cause, ApplicationError) and cause.type == "ValueError"
    return cause.message


def invalid_start(failed: pytest.ExceptionInfo[WorkflowFailureError]) -> ApplicationError:
    """The failure of a return whose event does not fit the schema."""
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == INVALID_START
    assert cause.non_retryable
    return cause


async def test_order_outside_return_window_is_rejected_with_reason_and_email(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(retract_event(ordered_days_before_notice=45))
        await time_skipping_env.fast_forward(handle)  # past the rejection's review period
        status = await handle.result()

    assert status.stage is ReturnStage.REJECTED
    assert status.eligibility is not None
    assert status.eligibility.reason is RejectionReason.OUTSIDE_RETURN_WINDOW
    assert harness.doubles.notice_kinds == [NoticeKind.REJECTION]
    assert harness.doubles.labels == []


async def test_mailbox_pickup_is_confirmed_by_first_acceptance_scan(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await ready_for_choice(harness)
        choice = mailbox_pickup()

        booked = await handle.execute_update(ReturnWorkflow.choose_return_method, choice)
        assert booked.stage is ReturnStage.AWAITING_PICKUP
        assert booked.pickup is not None and booked.pickup.pickup_date == choice.pickup_date
        assert booked.label is not None

        await harness.scan(handle, booked.label.tracking_number, TrackingStatus.ACCEPTED)
        done = await harness.in_transit(handle)

    assert done.stage is ReturnStage.PICKED_UP
    assert [s.status for s in done.scans] == [TrackingStatus.ACCEPTED]
    assert harness.doubles.notice_kinds == [
        NoticeKind.RETURN_ADDRESS,
        NoticeKind.RETURN_LABEL,
        NoticeKind.PICKUP_CONFIRMED,
        NoticeKind.SELLER_PARCEL_INBOUND,
    ]
    label_email = harness.doubles.notices[1]
    assert label_email.label == done.label and label_email.pickup == done.pickup
    (label,) = harness.doubles.labels
    assert label.idempotency_key == f"{handle.id}:label:1"
    assert label.recipient == SELLER_ADDRESS
    (pickup,) = harness.doubles.pickups
    assert pickup.idempotency_key == f"{handle.id}:pickup:1"


async def test_post_office_drop_off_sends_the_label_and_waits_for_the_counter_scan(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await ready_for_choice(harness)
        ready = await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox"),
        )
        assert ready.stage is ReturnStage.AWAITING_DROP_OFF
        assert ready.label is not None and ready.pickup is None

        await harness.scan(handle, ready.label.tracking_number)
        done = await harness.in_transit(handle)

    assert done.stage is ReturnStage.PICKED_UP
    assert harness.doubles.pickups == []
    assert NoticeKind.RETURN_LABEL in harness.doubles.notice_kinds


async def test_counter_option_sends_the_code_and_waits_for_the_counter_scan(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await ready_for_choice(harness)
        ready = await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="sandbox"),
        )
        assert ready.stage is ReturnStage.AWAITING_COUNTER_DROP_OFF
        assert ready.counter_code is not None and ready.label is None

        await harness.scan(handle, ready.counter_code.tracking_number)
        done = await harness.in_transit(handle)

    assert done.stage is ReturnStage.PICKED_UP
    assert harness.doubles.labels == []
    assert harness.doubles.notice_kinds[-3:] == [
        NoticeKind.COUNTER_CODE,
        NoticeKind.PICKUP_CONFIRMED,
        NoticeKind.SELLER_PARCEL_INBOUND,
    ]


@pytest.mark.parametrize(
    ("choice", "names"),
    [
        (ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="ups"), "carrier"),
        (mailbox_pickup(carrier="dropoff-only"), "method"),
        (mailbox_pickup(day=dt.date(2020, 1, 6)), "pickup_date"),
        (mailbox_pickup(day=dt.date(2099, 1, 4)), "pickup_date"),  # a Sunday, after ship-by
    ],
    ids=["unknown-carrier", "method-not-offered", "past-date", "too-late"],
)
async def test_an_impossible_choice_is_refused_naming_the_field(
    time_skipping_env: WorkflowEnvironment, choice: ReturnMethodChoice, names: str
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await ready_for_choice(harness)
        message = await refusal(handle, choice)
        status = await handle.query(ReturnWorkflow.status)

    assert message.startswith(names)
    assert status.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE
    assert harness.doubles.labels == []


async def test_a_sunday_pickup_is_refused(time_skipping_env: WorkflowEnvironment) -> None:
    today = next_pickup_date(dt.datetime.now(dt.UTC))
    sunday = today + dt.timedelta(days=(6 - today.weekday()) % 7 or 7)
    async with return_harness(time_skipping_env.client) as harness:
        handle = await ready_for_choice(harness)
        message = await refusal(handle, mailbox_pickup(day=sunday))
    assert "Sunday" in message


async def test_time_passing_makes_a_chosen_pickup_date_stale(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await ready_for_choice(harness)
        tomorrow = next_pickup_date(dt.datetime.now(dt.UTC))
        await time_skipping_env.fast_forward(handle, dt.timedelta(days=3))
        message = await refusal(handle, mailbox_pickup(day=tomorrow))
    assert message.startswith("pickup_date: must be after today")


async def test_carrier_refusing_the_pickup_date_lets_the_customer_choose_again(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(
        time_skipping_env.client,
        Doubles(refused_pickup_dates={next_pickup_date(dt.datetime.now(dt.UTC))}),
    ) as harness:
        handle = await ready_for_choice(harness)
        message = await refusal(handle, mailbox_pickup())
        refused = await handle.query(ReturnWorkflow.status)
        flagged = (await handle.describe()).typed_search_attributes

        first = next_pickup_date(dt.datetime.now(dt.UTC))
        day_after = next_pickup_date(dt.datetime.combine(first, dt.time(12), tzinfo=dt.UTC))
        booked = await handle.execute_update(
            ReturnWorkflow.choose_return_method, mailbox_pickup(day=day_after)
        )
        cleared = (await handle.describe()).typed_search_attributes
        after = await harness.told(handle, NoticeKind.RETURN_LABEL)

    assert "public holiday" in message
    assert refused.stage is ReturnStage.AWAITING_CUSTOMER_CHOICE
    assert refused.problem is not None and "public holiday" in refused.problem
    assert refused.attention == ["carrier_rejected_request"]
    assert flagged.get(sa.NEEDS_ATTENTION) is True, "operations see the refused request"
    assert booked.stage is ReturnStage.AWAITING_PICKUP and after.problem is None
    assert booked.attention == [] and cleared.get(sa.NEEDS_ATTENTION) is False
    assert cleared.get(sa.TRACKING_NUMBER) == booked.tracking_number
    assert len(harness.doubles.labels) == 1, "the label made for the first try is reused"
    assert [p.idempotency_key for p in harness.doubles.pickups] == [
        f"{handle.id}:pickup:1",
        f"{handle.id}:pickup:2",
    ]
    assert harness.doubles.notice_kinds.count(NoticeKind.RETURN_LABEL) == 1


async def test_repeated_early_and_foreign_scans_change_nothing(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await ready_for_choice(harness)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        assert ready.label is not None
        tracking = ready.label.tracking_number

        noon = dt.datetime.now(dt.UTC)
        morning = noon - dt.timedelta(hours=4)
        await harness.scan(handle, "SB999999999FR")  # another parcel
        await harness.scan(handle, tracking, TrackingStatus.PRE_TRANSIT, scan_id="SC-1", at=morning)
        await harness.scan(handle, tracking, TrackingStatus.PRE_TRANSIT, scan_id="SC-1", at=morning)
        waiting = await handle.query(ReturnWorkflow.status)

        # The in-transit scan arrives before the acceptance scan it follows.
        await harness.scan(handle, tracking, TrackingStatus.IN_TRANSIT, scan_id="SC-3", at=noon)
        await harness.scan(
            handle,
            tracking,
            TrackingStatus.ACCEPTED,
            scan_id="SC-2",
            at=noon - dt.timedelta(hours=2),
        )
        await harness.scan(handle, tracking, TrackingStatus.IN_TRANSIT, scan_id="SC-3", at=noon)
        done = await harness.in_transit(handle)

    assert waiting.stage is ReturnStage.AWAITING_PICKUP
    assert [s.scan_id for s in waiting.scans] == ["SC-1"]
    assert done.stage is ReturnStage.PICKED_UP
    assert [s.scan_id for s in done.scans] == ["SC-1", "SC-2", "SC-3"]
    assert harness.doubles.notices[-1].scan is not None
    assert harness.doubles.notices[-1].scan.scan_id == "SC-2", "dispatch is the earliest scan"
    assert harness.doubles.notice_kinds.count(NoticeKind.PICKUP_CONFIRMED) == 1


async def test_seller_without_address_on_file_waits_for_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
        await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
        await harness.told(handle, NoticeKind.ACKNOWLEDGEMENT)
        sent_while_waiting = list(harness.doubles.notice_kinds)
        early = await refusal(handle, mailbox_pickup())

        reply = ReturnAddressReply(address=SELLER_ADDRESS, given_by="operations:ops-042")
        await handle.execute_update(ReturnWorkflow.provide_return_address, reply)
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        ready = await harness.told(handle, NoticeKind.RETURN_ADDRESS)
        again = await refused_address(handle, reply)

    assert sent_while_waiting == [NoticeKind.ACKNOWLEDGEMENT]
    assert again == "the return is not waiting for an address (stage: awaiting_customer_choice)"
    assert early.startswith("the return is waiting for the seller's return address")
    assert ("operations:ops-042", "gave the return address") in [
        (e.actor, e.event) for e in ready.timeline
    ]
    assert harness.doubles.notices[-1].return_address == SELLER_ADDRESS


async def test_an_undeliverable_notice_is_recorded_and_the_return_goes_on(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(undeliverable={NoticeKind.RETURN_ADDRESS})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await ready_for_choice(harness)
        # The stage moves on before the relay's refusal comes back: wait for it to be recorded.
        async with asyncio.timeout(10):
            while (status := await handle.query(ReturnWorkflow.status)).problem is None:
                await asyncio.sleep(0.05)
        ready = await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox"),
        )
        await harness.told(handle, NoticeKind.RETURN_LABEL)

    assert status.problem is not None and "refused the recipient" in status.problem
    assert ("system", "return_address notice could not be delivered") in [
        (e.actor, e.event) for e in status.timeline
    ]
    assert ready.stage is ReturnStage.AWAITING_DROP_OFF
    assert harness.doubles.notice_kinds == [NoticeKind.RETURN_LABEL]


async def test_search_attributes_and_summary_follow_the_return_without_personal_data(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        event = retract_event()
        handle = await harness.start(event)
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        described = await handle.describe()
        details = await handle.query(ReturnWorkflow.status)

    attrs = described.typed_search_attributes
    assert handle.id == return_id(event.order.order_id, event.order.line_id)
    assert attrs.get(sa.RETURN_STAGE) == ReturnStage.AWAITING_PICKUP.value
    assert attrs.get(sa.ORDER_ID) == event.order.order_id
    assert attrs.get(sa.SELLER_ID) == event.order.seller_id
    assert attrs.get(sa.CARRIER) == "sandbox"
    # The end of the 14th day after the withdrawal, in the customer's days.
    in_days = period_end(event.occurred_at, 14, return_calendar(event))
    assert attrs.get(sa.SHIP_BY) == details.ship_by == in_days
    assert attrs.get(sa.NEEDS_ATTENTION) is False
    summary = await described.static_summary()
    assert summary is not None and event.order.order_id in summary
    visible = json.dumps([summary, str(attrs), details.model_dump(mode="json")])
    for personal in (CUSTOMER_NAME, CUSTOMER_EMAIL, CUSTOMER_STREET):
        assert personal not in visible
    assert ready.stage is ReturnStage.AWAITING_PICKUP


async def test_a_duplicate_event_finds_the_running_return(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        event = retract_event()
        first = await harness.start(event)
        first_run = (await first.describe()).run_id
        await harness.stage_reached(first, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        again = await start_return(
            harness.client,
            harness.settings,
            event.model_copy(update={"event_id": "EVT-REDELIVERED"}),
        )
        latest = await harness.client.get_workflow_handle(first.id).describe()
        runs = await runs_of(harness.client, first.id)

    assert again.created is False and again.workflow_id == first.id
    assert latest.run_id == first_run, "the duplicate is answered by the first run"
    assert runs == [first_run], "one return, one run"


async def test_an_event_breaking_the_schema_fails_the_workflow_naming_the_field(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    raw = retract_event().model_dump(mode="json")
    del raw["order"]["seller_id"]
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.client.start_workflow(
            "ReturnWorkflow",
            raw,
            id=f"return-bad-{raw['event_id']}",
            task_queue=harness.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()

    cause = invalid_start(failed)
    assert cause.message.startswith("the withdrawal event does not fit its schema: order.seller_id")
    assert [str(d) for d in cause.details] == [cause.message.split(": ", 1)[1]]


async def test_switching_to_the_counter_after_a_refused_pickup_follows_the_counter_parcel(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(
        time_skipping_env.client,
        Doubles(refused_pickup_dates={next_pickup_date(dt.datetime.now(dt.UTC))}),
    ) as harness:
        handle = await ready_for_choice(harness)
        await refusal(handle, mailbox_pickup())
        counter = await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="sandbox"),
        )
        assert counter.counter_code is not None
        await harness.scan(handle, counter.counter_code.tracking_number)
        done = await harness.in_transit(handle)

    assert counter.tracking_number == counter.counter_code.tracking_number
    assert done.stage is ReturnStage.PICKED_UP
    # The label made for the refused pickup was kept for the next choice; unused, it is voided.
    assert len(harness.doubles.voided) == 1
    assert any(
        (e.actor, e.event) == ("carrier:sandbox", "unused label cancelled (done)")
        for e in done.timeline
    )


async def test_a_refused_choice_is_forgotten_while_the_customer_chooses_again(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(
        time_skipping_env.client,
        Doubles(refused_pickup_dates={next_pickup_date(dt.datetime.now(dt.UTC))}),
    ) as harness:
        handle = await ready_for_choice(harness)
        await refusal(handle, mailbox_pickup())
        status = await handle.query(ReturnWorkflow.status)
        attrs = (await handle.describe()).typed_search_attributes

    assert status.method is None and status.carrier is None
    assert attrs.get(sa.CARRIER) is None
    assert attrs.get(sa.RETURN_STAGE) == ReturnStage.AWAITING_CUSTOMER_CHOICE.value


async def test_refused_credentials_raise_attention_and_spare_the_customer_the_details(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(
        time_skipping_env.client, Doubles(credentials_refused=True)
    ) as harness:
        handle = await ready_for_choice(harness)
        message = await refusal(handle, mailbox_pickup())
        flagged = await handle.describe()
        harness.doubles.credentials_refused = False  # operations fix the carrier's key
        await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        cleared = await handle.describe()
        status = await handle.query(ReturnWorkflow.status)

    assert "credentials" not in message and "try again later" in message
    assert flagged.typed_search_attributes.get(sa.NEEDS_ATTENTION) is True
    assert cleared.typed_search_attributes.get(sa.NEEDS_ATTENTION) is False
    assert status.attention == []


async def test_a_second_address_is_refused_while_the_first_is_being_sent(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    relay = asyncio.Event()
    doubles = Doubles(held={NoticeKind.RETURN_ADDRESS: relay})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await harness.start(retract_event(seller_id=SELLER_WITHOUT_ADDRESS))
        await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
        first = ReturnAddressReply(address=SELLER_ADDRESS, given_by="seller")
        await handle.execute_update(ReturnWorkflow.provide_return_address, first)
        other = SELLER_ADDRESS.model_copy(update={"line1": "99 rue Ailleurs"})
        second = await refused_address(
            handle, ReturnAddressReply(address=other, given_by="operations:ops-042")
        )
        relay.set()
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        await harness.told(handle, NoticeKind.RETURN_ADDRESS)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
        await harness.told(handle, NoticeKind.RETURN_LABEL)

    assert second == "the return is not waiting for an address (stage: awaiting_customer_choice)"
    assert ready.stage is ReturnStage.AWAITING_PICKUP
    assert harness.doubles.notices[-2].return_address == SELLER_ADDRESS
    assert harness.doubles.labels[0].recipient == SELLER_ADDRESS


async def test_an_event_breaking_the_schema_never_puts_the_customer_in_the_failure(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    raw = retract_event().model_dump(mode="json")
    raw["customer"]["email"] = "not an email"
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.client.start_workflow(
            "ReturnWorkflow",
            raw,
            id=f"return-bad-{raw['event_id']}",
            task_queue=harness.settings.task_queue,
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()

    cause = invalid_start(failed)
    failure = str(cause) + repr(cause.details)
    assert cause.message.startswith("the withdrawal event does not fit its schema: customer.email")
    for personal in (CUSTOMER_NAME, CUSTOMER_STREET, "not an email"):
        assert personal not in failure


async def test_a_duplicate_event_for_a_finished_return_starts_nothing(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        event = retract_event(ordered_days_before_notice=45)
        first = await harness.start(event)
        finished_run = (await first.describe()).run_id
        await time_skipping_env.fast_forward(first)  # past the rejection's review period
        await first.result()
        started = await start_return(harness.client, harness.settings, event)
        latest = await harness.client.get_workflow_handle(first.id).describe()
        runs = await runs_of(harness.client, first.id)

    assert started.created is False and started.workflow_id == first.id
    assert latest.run_id == finished_run
    assert latest.status is WorkflowExecutionStatus.COMPLETED
    assert runs == [finished_run]
    assert harness.doubles.notice_kinds == [NoticeKind.REJECTION]


async def end_without_completing(harness: ReturnHarness, event: RetractEvent, how: str) -> str:
    """A run of the event's return that ends `how` (failed, terminated or timed out); its run ID."""
    workflow_id = return_id(event.order.order_id, event.order.line_id)
    if how == "terminated":
        handle = await harness.start(event)
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        # Ended once its address email is out: the test checks the fresh run sends it again.
        await harness.told(handle, NoticeKind.RETURN_ADDRESS)
        await handle.terminate("stuck: restarted by operations")
    elif how == "failed":
        broken = event.model_dump(mode="json")
        del broken["order"]["seller_id"]
        handle = await harness.client.start_workflow(
            "ReturnWorkflow", broken, id=workflow_id, task_queue=harness.settings.task_queue
        )
        with pytest.raises(WorkflowFailureError, match="Workflow execution failed"):
            await handle.result()
    else:  # no worker ever takes it, and its time runs out
        handle = await harness.client.start_workflow(
            "ReturnWorkflow",
            event,
            id=workflow_id,
            task_queue=f"{harness.settings.task_queue}-nobody",
            execution_timeout=dt.timedelta(seconds=1),
        )
        async with asyncio.timeout(30):
            while (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
                await asyncio.sleep(0.2)
    ended = await harness.client.get_workflow_handle(workflow_id).describe()
    assert (
        ended.status
        is {
            "terminated": WorkflowExecutionStatus.TERMINATED,
            "failed": WorkflowExecutionStatus.FAILED,
            "timed out": WorkflowExecutionStatus.TIMED_OUT,
        }[how]
    )
    return ended.run_id


@pytest.mark.parametrize("how", ["failed", "terminated", "timed out"])
async def test_a_return_that_failed_or_was_terminated_is_started_afresh_by_its_event(
    time_skipping_env: WorkflowEnvironment, how: str
) -> None:
    async with return_harness(time_skipping_env.client) as harness:
        event = retract_event()
        ended_run = await end_without_completing(harness, event, how)
        sent_before = len(harness.doubles.notice_kinds)
        started = await start_return(harness.client, harness.settings, event)
        fresh = harness.client.get_workflow_handle_for(ReturnWorkflow.run, started.workflow_id)
        status = await harness.stage_reached(fresh, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        fresh_run = (await fresh.describe()).run_id
        runs = await runs_of(harness.client, started.workflow_id, at_least=2)
        await harness.told(fresh, NoticeKind.RETURN_ADDRESS)  # before it is ended
        await fresh.terminate("test over")

    assert started.created is True
    assert fresh_run != ended_run
    assert sorted(runs) == sorted([ended_run, fresh_run]), "the old run kept, one new run"
    assert status.order_id == event.order.order_id
    assert harness.doubles.notice_kinds[sent_before:] == [NoticeKind.RETURN_ADDRESS]
    if how == "terminated":  # the ended run had sent its address email: the same one again
        first, again = harness.doubles.notices
        assert MESSAGE_IDS.message_id(again) == MESSAGE_IDS.message_id(first)
        assert again == first


@pytest.mark.parametrize(
    ("preferred", "listed"),
    [("colissimo", "colissimo"), ("dropoff-only", "sandbox"), (None, "sandbox")],
    ids=["preferred-has-a-locator", "preferred-has-none", "no-preference"],
)
async def test_the_address_email_lists_the_post_offices_of_the_preferred_carrier(
    time_skipping_env: WorkflowEnvironment, preferred: str | None, listed: str
) -> None:
    # Offered in this order: the first has no locator, the other two have one.
    doubles = Doubles(offers=[DROP_OFF_ONLY, SANDBOX_OFFER, COUNTER_LABEL_POST])
    event = retract_event()
    event = event.model_copy(
        update={"customer": event.customer.model_copy(update={"preferred_carrier": preferred})}
    )
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await harness.start(event)
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        counter = await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo"),
        )
        async with asyncio.timeout(10):  # the email follows the update's answer
            while len(doubles.notices) < 2:
                await asyncio.sleep(0.05)
        await handle.terminate("test over")

    address_email, counter_email = doubles.notices
    assert address_email.kind is NoticeKind.RETURN_ADDRESS
    assert address_email.locator_carrier == listed
    # At the counter, the offices of the carrier chosen for it.
    assert counter.stage is ReturnStage.AWAITING_COUNTER_DROP_OFF
    assert counter_email.kind is NoticeKind.COUNTER_INSTRUCTIONS
    assert counter_email.locator_carrier == "colissimo"
