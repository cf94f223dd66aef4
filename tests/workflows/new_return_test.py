"""A return as it starts, and what it knows to put in its notices: what the status query and
the emails show of it, without a server."""

from __future__ import annotations

import datetime as dt

from domain.carriers import Label, Parcel, ReturnMethod
from domain.events import DeviceCategory, RetractEvent
from domain.notices import NoticeKind
from domain.returns import ReturnMethodChoice, ReturnStage
from tests.factories import SELLER_ADDRESS, retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, DROP_OFF_ONLY, SANDBOX_OFFER
from tests.workflows.still_context import StillContext
from workflows import admission, return_view
from workflows.return_state import ReturnState
from workflows.stages import address, intake, reminders, shipping
from workflows.transitions import Message, Moment

UTC = dt.UTC
NOTICE = dt.datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def preferring(carrier: str | None) -> RetractEvent:
    event = retract_event(notice_at=NOTICE, order_id="ORD-42", line_id="3")
    customer = event.customer.model_copy(update={"preferred_carrier": carrier})
    return event.model_copy(update={"customer": customer})


def test_a_new_return_is_being_checked_with_nothing_done_yet() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE, order_id="ORD-42", line_id="3"))

    status = return_view.status(state)

    assert status.return_id == "return-ORD-42-3"
    assert status.stage is ReturnStage.CHECKING_ELIGIBILITY
    assert status.eligibility is None and status.refund is None and status.problem is None
    assert status.method is None and status.carrier is None and status.tracking_number is None
    assert status.label is None and status.pickup is None and status.counter_code is None
    assert status.carriers_offered == [] and status.scans == [] and status.timeline == []
    assert status.attention == []
    assert status.ship_by == NOTICE + dt.timedelta(days=14)
    assert status.expires_at is None


def test_a_new_return_has_no_clock_running_and_nothing_to_act_on() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))
    ctx = StillContext(state, NOTICE)

    assert ctx.phase is ReturnStage.CHECKING_ELIGIBILITY
    assert intake.wakes_at(ctx) is None
    assert address.wakes_at(ctx) is None
    assert state.poll_at() is None
    assert state.dispatch_scan is None and state.delivery_scan is None
    assert reminders._refusal(ctx, NOTICE.date(), NOTICE) == "the withdrawal is being checked"
    assert state.reminder_requests == [] and state.failed_notices == []
    assert state.unanswered == [] and state.unmatched_scans == [] and state.late_scans == []
    assert state.problem_scans == []


def test_a_new_return_has_made_no_choice_and_counted_no_change() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))

    assert (state.choice_revision, state.choice_changes, state.unanswered_choices) == (0, 0, 0)
    assert (state.seller_asks, state.reminders_sent) == (0, 0)
    assert state.refused_choice is None and state.spare_label is None
    assert state.reported_tracking_number is None and state.reported_at is None
    assert state.reminded_on is None and state.last_reminder_at is None
    assert state.refund_reason is None and state.address_requested_at is None
    assert state.rejected_at is None and state.rejection_review_ends is None
    assert not state.address_on_file and not state.address_at_intake
    assert not state.seller_reminded and not state.escalated
    assert not state.expiring and not state.finished


def test_a_new_return_waiting_for_the_sellers_address_takes_one() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.stage = ReturnStage.AWAITING_RETURN_ADDRESS

    assert (
        admission.problem(StillContext(state, NOTICE), Message.GIVE_ADDRESS, None, queued=True)
        is None
    )


def test_a_returns_first_seller_reminder_waits_for_the_request() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))
    ctx = StillContext(state, NOTICE)
    state.address_requested_at = NOTICE

    assert address.wakes_at(ctx) == NOTICE + state.timings.seller_reminder_after


def test_each_notice_is_the_next_of_its_kind_with_what_the_return_knows() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE, order_id="ORD-42", line_id="3"))
    state.offers = [SANDBOX_OFFER]
    state.return_address = SELLER_ADDRESS
    state.choice = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")
    state.label = Label(
        carrier="sandbox", label_id="LBL-1", tracking_number="SB000000001FR", created_at=NOTICE
    )

    first = state.notice(NoticeKind.RETURN_LABEL)
    second = state.notice(NoticeKind.RETURN_LABEL, detail="a new label")
    other = state.notice(NoticeKind.RETURN_ADDRESS)

    assert (first.revision, second.revision, other.revision) == (1, 2, 1)
    assert first.kind is NoticeKind.RETURN_LABEL and other.kind is NoticeKind.RETURN_ADDRESS
    assert first.return_id == "return-ORD-42-3"
    assert first.customer == state.event.customer and first.order == state.event.order
    assert first.return_address == SELLER_ADDRESS and first.carriers == [SANDBOX_OFFER]
    assert first.method is ReturnMethod.POST_OFFICE_DROP_OFF and first.label == state.label
    assert first.pickup is None and first.counter_code is None and first.scan is None
    assert first.ship_by == NOTICE + dt.timedelta(days=14)
    assert first.refund_due_by == NOTICE + dt.timedelta(days=14)
    assert first.refund is None and first.decision is None
    assert first.expires_at is None  # the address has not reached the customer yet
    assert (first.detail, second.detail) == (None, "a new label")

    state.address_sent_at = NOTICE
    assert state.notice(NoticeKind.SHIPPING_REMINDER).expires_at == state.expires_at


def test_the_address_email_lists_the_preferred_carriers_post_offices_if_it_has_some() -> None:
    offers = [DROP_OFF_ONLY, SANDBOX_OFFER, COUNTER_LABEL_POST]
    preferred = ReturnState(preferring("colissimo"))
    preferred.offers = offers
    no_locator = ReturnState(preferring("dropoff-only"))
    no_locator.offers = offers
    none_offered = ReturnState(preferring("colissimo"))
    none_offered.offers = [DROP_OFF_ONLY]

    assert preferred.locator_carrier() == "colissimo"
    assert no_locator.locator_carrier() == "sandbox"
    assert none_offered.locator_carrier() is None


def test_the_label_describes_the_parcel_by_the_products_weight_and_kind() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE, category=DeviceCategory.TABLET))
    product = state.event.order.product

    assert state.parcel == Parcel(weight_grams=product.weight_grams, description="tablet")


def test_an_offer_is_found_by_its_carrier_code() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.offers = [DROP_OFF_ONLY, SANDBOX_OFFER]

    assert state.offer("sandbox") == SANDBOX_OFFER
    assert state.offer("colissimo") is None


def test_the_timeline_records_who_did_what_and_when() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))

    state.record(NOTICE, "customer", "cancelled", "upd-1")
    state.record(NOTICE, "system", "cancelled before shipment")

    first, second = state.timeline
    assert (first.at, first.actor, first.event, first.update_id) == (
        NOTICE,
        "customer",
        "cancelled",
        "upd-1",
    )
    assert second.update_id is None


def test_a_return_expiring_or_ended_with_problems_shows_that_phase() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.stage = ReturnStage.AWAITING_DROP_OFF
    ctx = StillContext(state, NOTICE)

    state.expiring = True
    expiring = ctx.phase
    state.finished = True
    state.attention = ["refund_request_failed"]
    ended = ctx.phase

    assert (expiring, ended) == (Moment.EXPIRING, Moment.ENDED_WITH_PROBLEMS)
    assert shipping.wakes_at(ctx) == state.expires_at
