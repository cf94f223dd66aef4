"""Whether a return takes a person's message now, and the sentence they read when it does not:
the checks the update validators and the run loop share, without a server."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.carriers import CounterCode, ReturnMethod, TrackingScan, TrackingStatus
from domain.notices import NoticeKind
from domain.returns import (
    AttentionAction,
    AttentionReason,
    AttentionResolution,
    CancelRequest,
    EligibilityDecision,
    RefundReason,
    RejectionReason,
    ReturnMethodChoice,
    ReturnStage,
    ShipmentReport,
)
from tests.factories import SELLER_ADDRESS, charger_missing, retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, DROP_OFF_ONLY, SANDBOX_OFFER
from tests.workflows.still_context import StillContext
from workflows import admission
from workflows.context import Intent
from workflows.return_state import ReturnState
from workflows.transitions import Message, Moment

UTC = dt.UTC
NOTICE = dt.datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday
SOON = NOTICE + dt.timedelta(hours=1)
DROP_OFF = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")
COUNTER = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="sandbox")


def choosing() -> ReturnState:
    """A return whose customer has the seller's address and has not chosen yet."""
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.stage = ReturnStage.AWAITING_CUSTOMER_CHOICE
    state.offers = [SANDBOX_OFFER, DROP_OFF_ONLY]
    state.return_address = SELLER_ADDRESS
    state.address_on_file = state.address_at_intake = True
    state.address_sent_at = NOTICE
    return state


def awaiting_counter(tracking_number: str | None = None) -> ReturnState:
    state = choosing()
    state.stage = ReturnStage.AWAITING_COUNTER_DROP_OFF
    state.choice = COUNTER
    if tracking_number:
        state.counter_code = CounterCode(
            carrier="sandbox",
            code="RC-1",
            tracking_number=tracking_number,
            expires_at=NOTICE + dt.timedelta(days=14),
        )
    return state


def problem(
    state: ReturnState, message: Message, argument: object = None, *, at: dt.datetime = SOON
) -> str | None:
    return admission.problem(StillContext(state, at), message, argument, queued=False)


def scan(number: str, status: TrackingStatus = TrackingStatus.ACCEPTED) -> TrackingScan:
    return TrackingScan(
        carrier="sandbox",
        tracking_number=number,
        scan_id=f"SC-{number}-{status}",
        status=status,
        occurred_at=SOON,
    )


def rejected() -> ReturnState:
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.stage = ReturnStage.REJECTED
    state.rejected_at = NOTICE
    state.decision = EligibilityDecision(
        accepted=False,
        reason=RejectionReason.OUTSIDE_RETURN_WINDOW,
        explanation="too late",
        window_ends_at=NOTICE,
    )
    return state


def override() -> AttentionResolution:
    return AttentionResolution(
        action=AttentionAction.OVERRIDE_ELIGIBILITY, by="operations:ana", reason="goodwill"
    )


# --- Where the return stands ---------------------------------------------------------------


def test_an_ended_return_takes_nothing_and_says_how_it_ended() -> None:
    state = choosing()
    state.stage = ReturnStage.CANCELLED
    state.finished = True

    assert problem(state, Message.RETRY) == "the return has ended (stage: cancelled)"


def test_an_ended_return_with_a_problem_left_takes_operations_retry() -> None:
    state = choosing()
    state.stage = ReturnStage.PICKED_UP
    state.finished = True
    state.attention = [AttentionReason.REFUND_REQUEST_FAILED.value]

    assert problem(state, Message.RETRY) is None
    assert problem(state, Message.CANCEL) == (
        "the return has ended: operations may retry the failed step or close it "
        "(stage: ended_with_problems)"
    )


def test_a_close_sent_while_the_return_is_ending_says_when_to_send_it_again() -> None:
    state = choosing()
    state.stage = ReturnStage.CLOSED  # the first close's undoing at the carrier is under way

    assert problem(state, Message.CLOSE) == (
        "the return is ending: what was booked is being undone; if a problem is left once it "
        "has ended, send close again to settle it (stage: closed)"
    )
    assert problem(state, Message.CANCEL) == "operations closed the return (stage: closed)"

    state.finished = True
    assert problem(state, Message.CLOSE) == "the return has ended (stage: closed)"


def test_a_close_sent_while_a_cancel_is_undoing_the_booking_says_when_to_send_it_again() -> None:
    state = choosing()
    state.stage = ReturnStage.CANCELLED  # the cancel's undoing at the carrier is under way

    assert problem(state, Message.CLOSE) == (
        "the return is ending: what was booked is being undone; if a problem is left once it "
        "has ended, send close again to settle it (stage: cancelled)"
    )


def test_a_message_the_stage_does_not_take_is_refused_naming_the_stage() -> None:
    assert problem(choosing(), Message.REPORT_SHIPMENT) == (
        "the return is waiting for the customer's choice (stage: awaiting_customer_choice)"
    )


def test_a_cancel_queued_behind_another_is_refused_while_it_is_validated() -> None:
    state = choosing()
    ctx = StillContext(state, SOON)
    ctx.inbox.append(Intent(Message.CANCEL, None, "customer", "u-1"))

    assert admission.problem(ctx, Message.CHOOSE, DROP_OFF, queued=True) == (
        "the return is being ended by an earlier request (stage: awaiting_customer_choice)"
    )
    assert admission.problem(ctx, Message.CHOOSE, DROP_OFF, queued=False) is None


def test_a_proof_of_dispatch_overtakes_a_choice_or_a_cancel() -> None:
    state = awaiting_counter("SB00000001FR")
    state.take_scan(scan("SB00000001FR"), hold=False)

    refused = "the carrier has the parcel: it is on its way to the seller (stage: picked_up)"
    assert problem(state, Message.CANCEL) == refused
    assert problem(state, Message.CHOOSE, DROP_OFF) == refused
    assert problem(state, Message.CLOSE) == (
        "the carrier took the parcel meanwhile (stage: picked_up): send close again to stop "
        "following it"
    )
    assert problem(state, Message.RETRY) == "action: nothing to retry (needs attention: nothing)"


def test_nothing_the_customer_sends_is_taken_once_the_expiry_instant_has_come() -> None:
    state = awaiting_counter("SB00000001FR")
    expired = "the shipping deadline has passed (stage: awaiting_counter_drop_off)"

    assert problem(state, Message.CANCEL, at=state.expires_at) == expired
    assert problem(state, Message.CANCEL, at=state.expires_at - dt.timedelta(seconds=1)) is None


# --- The customer's choice -----------------------------------------------------------------


def test_a_choice_of_an_offered_carrier_and_method_is_taken() -> None:
    assert problem(choosing(), Message.CHOOSE, DROP_OFF) is None
    pigeon = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="pigeon")
    assert problem(choosing(), Message.CHOOSE, pigeon) == (
        "carrier: unknown carrier 'pigeon' (offered: sandbox, dropoff-only)"
    )


def test_a_choice_after_the_expiry_instant_is_refused() -> None:
    state = choosing()

    assert admission.choice_problem(state, DROP_OFF, state.expires_at) == (
        "the shipping deadline has passed (stage: awaiting_customer_choice)"
    )


def test_choosing_the_same_way_again_is_refused() -> None:
    state = choosing()
    state.choice = DROP_OFF

    assert admission.choice_problem(state, DROP_OFF, SOON) == (
        "method: this is already the chosen way of sending the parcel"
    )


def test_a_carrier_not_offered_is_refused_with_the_ones_that_are() -> None:
    choice = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="pigeon")

    assert admission.choice_problem(choosing(), choice, SOON) == (
        "carrier: unknown carrier 'pigeon' (offered: sandbox, dropoff-only)"
    )


def test_a_method_the_carrier_does_not_offer_is_refused_with_the_ones_it_does() -> None:
    state = choosing()
    state.offers = [SANDBOX_OFFER, COUNTER_LABEL_POST]
    choice = ReturnMethodChoice(
        method=ReturnMethod.MAILBOX_PICKUP, carrier="colissimo", pickup_date=dt.date(2026, 11, 17)
    )

    assert admission.choice_problem(state, choice, SOON) == (
        "method: colissimo does not offer mailbox_pickup "
        "(it offers: post_office_drop_off, post_office_counter)"
    )


def test_a_pickup_is_judged_by_the_carrier_calendar_against_the_ship_by() -> None:
    state = choosing()
    sunday = ReturnMethodChoice(
        method=ReturnMethod.MAILBOX_PICKUP, carrier="sandbox", pickup_date=dt.date(2026, 11, 22)
    )
    tuesday = sunday.model_copy(update={"pickup_date": dt.date(2026, 11, 17)})

    assert admission.choice_problem(state, sunday, SOON) == (
        "pickup_date: 2026-11-22 is a Sunday: no collection on Sundays"
    )
    assert admission.choice_problem(state, tuesday, SOON) is None


# --- The customer's report of a parcel sent at the counter ---------------------------------


def test_a_report_before_any_choice_is_refused() -> None:
    report = ShipmentReport(tracking_number="SB00000001FR")

    assert admission.report_problem(choosing(), report) == (
        "the return is not waiting for a parcel (stage: awaiting_customer_choice)"
    )


def test_a_report_of_the_codes_parcel_is_taken_whatever_its_case() -> None:
    state = awaiting_counter("SB00000001FR")
    report = ShipmentReport(tracking_number="sb00000001fr")

    assert problem(state, Message.REPORT_SHIPMENT, report) is None


def test_a_report_of_another_parcel_than_the_codes_is_refused() -> None:
    state = awaiting_counter("SB00000001FR")
    report = ShipmentReport(tracking_number="SB99999999FR")

    assert problem(state, Message.REPORT_SHIPMENT, report) == (
        "tracking_number: this return's parcel is SB00000001FR"
    )


def test_a_mistyped_receipt_number_is_refused_with_the_carriers_format() -> None:
    state = awaiting_counter()
    report = ShipmentReport(tracking_number="XY12345678")

    assert admission.report_problem(state, report) == (
        "tracking_number: is not a sandbox tracking number: "
        "expected SB followed by 8 to 20 letters or digits"
    )
    assert admission.report_problem(state, ShipmentReport(tracking_number="SB12345678")) is None


# --- Operations' actions -------------------------------------------------------------------


def test_operations_actions_are_the_tables_messages() -> None:
    give = AttentionResolution(
        action=AttentionAction.GIVE_ADDRESS,
        by="operations:ana",
        reason="by phone",
        address=SELLER_ADDRESS,
    )
    assert admission.resolution_message(override()) is Message.OVERRIDE
    assert admission.resolution_message(give) is Message.GIVE_ADDRESS


def test_an_address_is_taken_once() -> None:
    state = choosing()
    state.stage = ReturnStage.AWAITING_RETURN_ADDRESS
    state.return_address = None

    assert problem(state, Message.GIVE_ADDRESS) is None
    state.return_address = SELLER_ADDRESS
    assert problem(state, Message.GIVE_ADDRESS) == (
        "the return is not waiting for an address (stage: awaiting_return_address)"
    )


def test_a_retry_with_nothing_failed_names_what_is_listed() -> None:
    state = choosing()
    state.attention = [
        AttentionReason.CARRIER_EXCEPTION.value,
        AttentionReason.CARRIER_POLLING_FAILED.value,
    ]

    assert problem(state, Message.RETRY) == (
        "action: nothing to retry (needs attention: carrier_exception, carrier_polling_failed)"
    )


def test_a_rejection_is_overridden_during_its_review_period_only_once() -> None:
    state = rejected()
    ends = state.rejection_review_ends
    assert ends is not None

    assert problem(state, Message.OVERRIDE, override(), at=ends - dt.timedelta(seconds=1)) is None
    assert problem(state, Message.OVERRIDE, override(), at=ends) == (
        "action: the review period is over: the return ends rejected"
    )
    assert state.decision is not None
    state.decision = state.decision.model_copy(update={"overridden_by": "operations:ana"})
    assert problem(state, Message.OVERRIDE, override()) == (
        "action: the rejection was already overridden"
    )


def test_a_close_sent_to_a_live_return_does_not_settle_an_ended_ones_problems() -> None:
    live, ended = ReturnStage.AWAITING_PICKUP, Moment.ENDED_WITH_PROBLEMS

    assert admission.changed_meaning(live, Message.CLOSE, ended) == (
        "the return ended meanwhile (stage: ended_with_problems): "
        "send close again to settle the problems left"
    )
    assert admission.changed_meaning(ended, Message.CLOSE, live) is not None
    assert admission.changed_meaning(live, Message.CLOSE, ReturnStage.AWAITING_DROP_OFF) is None
    assert admission.changed_meaning(ended, Message.CLOSE, ended) is None
    assert admission.changed_meaning(None, Message.CLOSE, ended) is None
    assert admission.changed_meaning(live, Message.CANCEL, ended) is None


# --- What operations can retry -------------------------------------------------------------


def test_a_notice_the_relay_refused_or_a_failed_refund_can_be_retried_anywhere() -> None:
    state = choosing()
    state.stage = ReturnStage.PICKED_UP
    assert not admission.retryable(state, ReturnStage.PICKED_UP)

    state.failed_notices = [state.notice(NoticeKind.PICKUP_CONFIRMED)]
    assert admission.retryable(state, ReturnStage.PICKED_UP)

    state.failed_notices = []
    state.attention = [AttentionReason.REFUND_REQUEST_FAILED.value]
    assert admission.retryable(state, ReturnStage.PICKED_UP)


def test_the_sellers_request_is_retried_once_the_seller_is_reported_missing() -> None:
    state = choosing()
    phase = ReturnStage.AWAITING_RETURN_ADDRESS
    state.refused_choice = DROP_OFF
    state.attention = [AttentionReason.CARRIER_REJECTED_REQUEST.value]
    assert not admission.retryable(state, phase)

    state.attention = [AttentionReason.SELLER_ADDRESS_MISSING.value]
    assert admission.retryable(state, phase)


@pytest.mark.parametrize(
    "code",
    [
        "carrier_rejected_request",
        "carrier_not_answering:sandbox",
        "carrier_credentials_refused:sandbox",
        "choice_changes_exhausted",
        "shipment_preparation_failed",
    ],
)
def test_a_refused_choice_is_retried_while_the_return_takes_a_choice(code: str) -> None:
    state = choosing()
    state.attention = [code]
    assert not admission.retryable(state, ReturnStage.AWAITING_CUSTOMER_CHOICE)

    state.refused_choice = DROP_OFF
    assert admission.retryable(state, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    assert admission.retryable(state, ReturnStage.AWAITING_DROP_OFF)
    assert not admission.retryable(state, ReturnStage.PREPARING_SHIPMENT)


def test_a_refused_choice_is_not_retried_for_an_unrelated_problem() -> None:
    state = choosing()
    state.refused_choice = DROP_OFF
    state.attention = [AttentionReason.CARRIER_EXCEPTION.value]

    assert not admission.retryable(state, ReturnStage.AWAITING_CUSTOMER_CHOICE)


# --- After the proof of dispatch -----------------------------------------------------------


def following(stage: ReturnStage = ReturnStage.DELIVERED) -> ReturnState:
    """A return that follows its parcel to the seller, refunded on the proof of dispatch."""
    state = choosing()
    state.choice = DROP_OFF
    state.stage = stage
    state.following = True
    state.dispatched_at = NOTICE
    state.refund_reason = RefundReason.WITHDRAWAL
    return state


def test_the_sellers_report_is_judged_by_its_own_rules() -> None:
    state = following()

    assert problem(state, Message.REPORT_INSPECTION, charger_missing()) is None
    assert problem(state, Message.REPORT_INSPECTION, charger_missing("9999.00")) == (
        f"deduction.amount: at most the refund, {state.refund_owed.amount} EUR"
    )


def test_a_deduction_is_decided_only_while_one_awaits_approval() -> None:
    state = following()
    decide = AttentionResolution(
        action=AttentionAction.APPROVE_DEDUCTION, by="operations:ana", reason="photo checked"
    )

    assert problem(state, Message.APPROVE_DEDUCTION, decide) == (
        "action: no deduction awaits approval (stage: delivered)"
    )
    assert problem(state, Message.DECLINE_DEDUCTION, decide) is not None
    state.attention = [AttentionReason.DEDUCTION_TO_APPROVE.value]
    assert problem(state, Message.APPROVE_DEDUCTION, decide) is None
    assert problem(state, Message.DECLINE_DEDUCTION, decide) is None


def test_a_followed_parcel_is_closed_only_once_the_refund_is_requested() -> None:
    state = following(ReturnStage.PICKED_UP)
    close = AttentionResolution(action=AttentionAction.CLOSE, by="operations:ana", reason="done")

    assert problem(state, Message.CLOSE, close) is None
    state.refund_reason = None
    assert problem(state, Message.CLOSE, close) == (
        "action: the refund is not requested yet (stage: picked_up)"
    )


def test_a_cancel_after_the_refund_is_refused_for_customer_service() -> None:
    state = choosing()
    state.refund_reason = RefundReason.WITHDRAWAL

    assert problem(state, Message.CANCEL, CancelRequest()) == (
        "the refund is requested already: the goods are to be sent back (customer service can "
        "help) (stage: awaiting_customer_choice)"
    )


def test_a_close_that_would_stop_following_a_parcel_gone_meanwhile_is_refused() -> None:
    live, gone = ReturnStage.AWAITING_DROP_OFF, ReturnStage.PICKED_UP

    assert admission.changed_meaning(live, Message.CLOSE, gone) == (
        "the carrier took the parcel meanwhile (stage: picked_up): send close again to stop "
        "following it"
    )
    assert admission.changed_meaning(gone, Message.CLOSE, ReturnStage.DELIVERED) is None


def test_a_failed_claim_can_be_retried() -> None:
    state = following()
    assert not admission.retryable(state, ReturnStage.DELIVERED)

    state.attention = [AttentionReason.CLAIM_FAILED.value]
    assert admission.retryable(state, ReturnStage.DELIVERED)


def test_a_return_awaiting_review_is_accepted_whenever_its_review_periods_are_over() -> None:
    state = rejected()
    state.stage = ReturnStage.AWAITING_REVIEW
    ends = state.rejection_review_ends
    assert ends is not None

    assert problem(state, Message.OVERRIDE, override(), at=ends + dt.timedelta(days=30)) is None


def test_a_pickup_date_is_judged_on_the_mailboxs_own_day() -> None:
    state = choosing()
    day = (NOTICE + dt.timedelta(days=400)).date()
    far = ReturnMethodChoice(method=ReturnMethod.MAILBOX_PICKUP, carrier="sandbox", pickup_date=day)

    refused = problem(state, Message.CHOOSE, far)

    assert refused is not None and refused.startswith("pickup_date")
