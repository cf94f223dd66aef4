"""What each stage waits for and decides from a return's state alone: the clocks it sets
(seller reminder, escalation, review period, refund deadline), whether a shipping reminder is
sent, and what a refused choice tells the customer and operations."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from activities.failures import carrier_auth_failed, carrier_rejected
from domain.carriers import ReturnMethod, TrackingScan, TrackingStatus
from domain.returns import ReturnMethodChoice, ReturnStage
from tests.factories import retract_event
from tests.workflows.still_context import StillContext
from workflows.return_state import ReturnState, UnansweredCall
from workflows.stages import address, choice, dispatched, intake, reminders

UTC = dt.UTC
NOTICE = dt.datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
TODAY = NOTICE.date()
DAY = dt.timedelta(days=1)
DROP_OFF = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")


def at(stage: ReturnStage, now: dt.datetime = NOTICE) -> StillContext:
    state = ReturnState(retract_event(notice_at=NOTICE, order_id="ORD-42", line_id="3"))
    state.stage = stage
    state.address_sent_at = NOTICE
    state.address_at_intake = True
    return StillContext(state, now)


def failed(cause: BaseException) -> ActivityError:
    err = ActivityError(
        "activity failed",
        scheduled_event_id=1,
        started_event_id=2,
        identity="worker",
        activity_type="create_return_label",
        activity_id="1",
        retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )
    err.__cause__ = cause
    return err


# --- The seller's address ------------------------------------------------------------------


def test_a_silent_seller_is_reminded_then_escalated_then_left_to_operations() -> None:
    ctx = at(ReturnStage.AWAITING_RETURN_ADDRESS)
    state = ctx.state
    state.address_requested_at = NOTICE
    timings = state.timings

    assert address.wakes_at(ctx) == NOTICE + timings.seller_reminder_after
    state.seller_reminded = True
    assert address.wakes_at(ctx) == NOTICE + timings.seller_reminder_after + timings.escalate_after
    state.escalated = True
    assert address.wakes_at(ctx) is None


def test_a_moment_has_passed_from_that_very_instant() -> None:
    assert address._passed(NOTICE, NOTICE)
    assert address._passed(NOTICE, NOTICE + DAY)
    assert not address._passed(NOTICE, NOTICE - dt.timedelta(seconds=1))
    assert not address._passed(None, NOTICE)


# --- The review period and the refund deadline ---------------------------------------------


def test_a_rejected_return_wakes_at_the_end_of_its_review_until_it_ends() -> None:
    ctx = at(ReturnStage.REJECTED)
    ctx.state.rejected_at = NOTICE

    assert intake.wakes_at(ctx) == NOTICE + ctx.state.timings.rejection_review
    ctx.state.finished = True
    assert intake.wakes_at(ctx) is None


def test_a_parcel_on_its_way_wakes_at_the_refund_deadline_until_the_return_ends() -> None:
    ctx = at(ReturnStage.PICKED_UP)

    assert dispatched.wakes_at(ctx) == NOTICE + dt.timedelta(days=14)
    ctx.state.finished = True
    assert dispatched.wakes_at(ctx) is None


# --- Shipping reminders --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "why"),
    [
        (ReturnStage.CHECKING_ELIGIBILITY, "the withdrawal is being checked"),
        (ReturnStage.REJECTED, "the withdrawal was not accepted"),
        (ReturnStage.AWAITING_RETURN_ADDRESS, "the customer has no return address yet"),
        (ReturnStage.PICKED_UP, "the carrier has the parcel"),
        (ReturnStage.DELIVERED, "the parcel is back with the seller"),
        (ReturnStage.PREPARING_SHIPMENT, "the shipment is being prepared"),
    ],
)
def test_no_reminder_where_the_customer_cannot_act(stage: ReturnStage, why: str) -> None:
    assert reminders._refusal(at(stage), TODAY, NOTICE) == why


def test_a_reminder_is_sent_while_the_customer_has_a_parcel_to_send() -> None:
    for stage in (
        ReturnStage.AWAITING_CUSTOMER_CHOICE,
        ReturnStage.AWAITING_PICKUP,
        ReturnStage.AWAITING_DROP_OFF,
        ReturnStage.AWAITING_COUNTER_DROP_OFF,
    ):
        assert reminders._refusal(at(stage), TODAY, NOTICE) is None


def test_no_reminder_once_the_return_has_ended_or_is_expiring() -> None:
    ended = at(ReturnStage.CANCELLED)
    ended.state.finished = True
    expiring = at(ReturnStage.AWAITING_DROP_OFF)
    expiring.state.expiring = True
    late = at(ReturnStage.AWAITING_DROP_OFF)
    expires = late.state.expires_at

    assert reminders._refusal(ended, TODAY, NOTICE) == "the return has ended (stage: cancelled)"
    passed = "the shipping deadline has passed: the return is expiring"
    assert reminders._refusal(expiring, TODAY, NOTICE) == passed
    assert reminders._refusal(late, expires.date(), expires) == passed
    assert reminders._refusal(late, expires.date(), expires - dt.timedelta(seconds=1)) is None


def test_no_reminder_once_the_parcel_has_left_or_is_reported_sent() -> None:
    scanned = at(ReturnStage.AWAITING_DROP_OFF)
    scanned.state.scans = [
        TrackingScan(
            carrier="sandbox",
            tracking_number="SB000000001FR",
            scan_id="SC-1",
            status=TrackingStatus.ACCEPTED,
            occurred_at=NOTICE,
        )
    ]
    reported = at(ReturnStage.AWAITING_COUNTER_DROP_OFF)
    reported.state.reported_at = NOTICE

    assert reminders._refusal(scanned, TODAY, NOTICE) == "the carrier has the parcel"
    assert reminders._refusal(reported, TODAY, NOTICE) == (
        "the customer reported the parcel as sent"
    )


def test_a_reminder_for_a_day_other_than_today_anywhere_is_skipped() -> None:
    ctx = at(ReturnStage.AWAITING_DROP_OFF)

    assert reminders._refusal(ctx, TODAY + DAY, NOTICE) is None
    assert reminders._refusal(ctx, TODAY - DAY, NOTICE) is None
    assert reminders._refusal(ctx, TODAY + 2 * DAY, NOTICE) == "2026-11-18 is not today"
    assert reminders._refusal(ctx, TODAY - 2 * DAY, NOTICE) == "2026-11-14 is not today"


def test_one_reminder_a_day_at_most() -> None:
    ctx = at(ReturnStage.AWAITING_DROP_OFF)
    ctx.state.reminded_on = TODAY

    assert reminders._refusal(ctx, TODAY, NOTICE) == "already reminded on 2026-11-16"
    assert reminders._refusal(ctx, TODAY - DAY, NOTICE) == "already reminded on 2026-11-16"
    assert reminders._refusal(ctx, TODAY + DAY, NOTICE) is None


# --- A choice the carrier refused or left unanswered ---------------------------------------


def test_each_revision_of_a_choice_has_its_own_idempotency_key() -> None:
    ctx = at(ReturnStage.PREPARING_SHIPMENT)
    first = choice._key(ctx, "label")
    ctx.state.choice_revision += 1

    assert first != choice._key(ctx, "label")
    assert first != choice._key(at(ReturnStage.PREPARING_SHIPMENT), "pickup")
    assert "return-ORD-42-3" in first


def test_a_call_left_unanswered_is_found_again_by_its_step_and_carrier() -> None:
    ctx = at(ReturnStage.PREPARING_SHIPMENT)
    ctx.state.unanswered = [
        UnansweredCall(step="pickup", carrier="sandbox", key="k-pickup"),
        UnansweredCall(step="label", carrier="colissimo", key="k-colissimo"),
        UnansweredCall(step="label", carrier="sandbox", key="k-label"),
    ]

    assert choice._in_doubt(ctx, "label", "sandbox") == "k-label"
    assert choice._in_doubt(ctx, "counter_code", "sandbox") is None


def test_operations_are_told_after_the_third_unanswered_choice_in_a_row() -> None:
    ctx = at(ReturnStage.PREPARING_SHIPMENT)
    unanswered = choice._Unanswered("label")
    why = "sandbox is not answering just now: try again in a few minutes"

    assert choice._refused(ctx, DROP_OFF, unanswered) == (why, None)
    assert choice._refused(ctx, DROP_OFF, unanswered) == (why, None)
    assert ctx.state.attention == []
    assert choice._refused(ctx, DROP_OFF, unanswered) == (why, "carrier_not_answering:sandbox")
    assert ctx.state.attention == ["carrier_not_answering:sandbox"]
    assert choice._refused(ctx, DROP_OFF, unanswered) == (why, None)  # told once
    assert ctx.state.unanswered_choices == 4
    assert ctx.state.timeline[0].actor == "carrier:sandbox"
    assert ctx.state.timeline[0].event == "no answer in time (label)"


def test_a_carrier_refusing_our_data_lets_the_customer_choose_again() -> None:
    ctx = at(ReturnStage.PREPARING_SHIPMENT)
    err = failed(carrier_rejected("no pickup on that date", "pickup_date"))

    assert choice._refused(ctx, DROP_OFF, err) == (
        "sandbox refused: no pickup on that date",
        None,
    )
    assert ctx.state.attention == ["carrier_rejected_request"]
    assert [(e.actor, e.event) for e in ctx.state.timeline] == [
        ("carrier:sandbox", "refused the request: no pickup on that date")
    ]


def test_a_carrier_refusing_our_credentials_is_raised_about_that_carrier() -> None:
    ctx = at(ReturnStage.PREPARING_SHIPMENT)

    why, email = choice._refused(ctx, DROP_OFF, failed(carrier_auth_failed("bad token")))

    assert why == "sandbox cannot take returns just now: try again later or choose another"
    assert email is None
    assert ctx.state.attention == ["carrier_credentials_refused:sandbox"]
    assert [(e.actor, e.event) for e in ctx.state.timeline] == [
        ("system", "sandbox refused our credentials")
    ]


def test_an_unexpected_failure_is_logged_and_left_to_operations(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Logged through the workflow's logger, which needs a workflow: a plain one stands in.
    monkeypatch.setattr(workflow, "logger", logging.getLogger("returnflow.test"))
    ctx = at(ReturnStage.PREPARING_SHIPMENT)

    with caplog.at_level(logging.ERROR, logger="returnflow.test"):
        why, email = choice._refused(ctx, DROP_OFF, failed(ApplicationError("boom", type="Bug")))

    assert why == "the shipment could not be prepared: operations will look into it"
    assert email is None
    assert ctx.state.attention == ["shipment_preparation_failed"]
    assert [(e.actor, e.event) for e in ctx.state.timeline] == [
        ("system", "shipment preparation failed")
    ]
    [logged] = caplog.records
    assert logged.getMessage() == "shipment preparation failed"
    assert logged.__dict__["error"] == "boom"
