"""What a return waits for once its parcel has left, from its state alone: the delivery's
deadline and the carrier's poll, the inspection period, the refund deadline of a collection the
marketplace booked, the late parcel's watch, and what a seller's report may be."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain.base import Money
from domain.carriers import CarrierCapability, Pickup, ReturnMethod, TrackingScan, TrackingStatus
from domain.inspection import InspectionOutcome, InspectionReport
from domain.returns import RefundReason, ReturnMethodChoice, ReturnStage
from tests.factories import charger_missing, retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, SANDBOX_OFFER
from tests.workflows.still_context import StillContext
from workflows import admission
from workflows.return_state import ReturnState
from workflows.stages import address, carrier, dispatched, expiry, inspection, shipping

UTC = dt.UTC
NOTICE = dt.datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
LEFT = NOTICE + dt.timedelta(days=3)
HOUR = dt.timedelta(hours=1)
SILENT = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="colissimo")
"""A carrier without tracking webhooks, that can be polled."""
HEARD = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")
"""A carrier whose webhooks tell every scan."""


def on_its_way(choice: ReturnMethodChoice = SILENT, now: dt.datetime = LEFT) -> StillContext:
    """A return whose parcel left at `LEFT`, followed to the seller, refunded on dispatch."""
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.offers = [SANDBOX_OFFER, COUNTER_LABEL_POST]
    state.choice = choice
    state.stage = ReturnStage.PICKED_UP
    state.intake_patched = True
    state.following = True
    state.dispatched_at = LEFT
    return StillContext(state, now)


def test_a_silent_carrier_is_polled_for_the_delivery_and_the_parcel_taken_as_lost_later() -> None:
    ctx = on_its_way()
    state = ctx.state
    timings = state.timings

    assert state.delivery_poll_at() == LEFT + timings.scan_overdue_after
    assert state.delivery_overdue_at == LEFT + timings.delivery_overdue
    assert dispatched.wakes_at(ctx) == min(
        LEFT + timings.scan_overdue_after, state.refund_due_by, LEFT + timings.delivery_overdue
    )
    state.refund_reason = RefundReason.WITHDRAWAL
    ctx.polled_number = "6A12345678901"  # polling already runs: no clock for it
    assert dispatched.wakes_at(ctx) == LEFT + timings.delivery_overdue


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"choice": HEARD}, "its webhooks tell the delivery"),
        ({"following": False}, "a return of an earlier build ends at the refund"),
        ({"intake_patched": False}, "a return of an earlier build polls as it did"),
        ({"dispatched_at": None}, "nothing has left"),
        ({"delivered_at": LEFT + HOUR}, "already delivered"),
    ],
)
def test_no_delivery_poll_when_nothing_is_to_ask(change: dict[str, object], why: str) -> None:
    state = on_its_way().state
    for name, value in change.items():
        setattr(state, name, value)

    assert state.delivery_poll_at() is None, why


def test_a_carrier_that_cannot_be_polled_is_never_asked_for_the_delivery() -> None:
    state = on_its_way(
        ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="x")
    ).state
    state.offers = [
        COUNTER_LABEL_POST.model_copy(
            update={"code": "x", "capabilities": frozenset({CarrierCapability.DROP_OFF})}
        )
    ]

    assert state.delivery_poll_at() is None
    assert state.carrier_capabilities() == frozenset({CarrierCapability.DROP_OFF})


def test_a_finished_return_waits_for_nothing_after_dispatch() -> None:
    ctx = on_its_way()
    ctx.state.finished = True

    assert dispatched.wakes_at(ctx) is None
    assert inspection.wakes_at(ctx) is None
    assert expiry.watch_ends_at(ctx) is None


def test_the_inspection_period_starts_on_delivery_and_ends_with_the_report() -> None:
    ctx = on_its_way(now=LEFT + dt.timedelta(days=2))
    state = ctx.state

    inspection.begin(ctx)

    assert state.delivered_at == LEFT + dt.timedelta(days=2)
    assert state.inspection_due_by == state.delivered_at + state.timings.inspection_period
    assert inspection.wakes_at(ctx) == state.inspection_due_by
    state.inspection_report = InspectionReport(
        outcome=InspectionOutcome.AS_SOLD, reported_by="seller"
    )
    assert inspection.wakes_at(ctx) is None


def test_the_late_parcel_watch_ends_when_set() -> None:
    ctx = on_its_way()
    ctx.state.late_watch_ends = LEFT + dt.timedelta(days=30)

    assert expiry.watch_ends_at(ctx) == LEFT + dt.timedelta(days=30)


def test_a_report_is_taken_once_from_a_return_that_follows_its_parcel_and_within_the_refund() -> (
    None
):
    state = on_its_way().state
    owed = state.refund_owed

    assert admission.inspection_problem(state, charger_missing()) is None
    assert admission.inspection_problem(state, charger_missing(str(owed.amount))) is None
    too_much = charger_missing(str(owed.amount + Decimal("0.01")))
    assert admission.inspection_problem(state, too_much) == (
        f"deduction.amount: at most the refund, {owed.amount} {owed.currency}"
    )
    in_pounds = charger_missing().model_copy(
        update={"deduction": Money(amount=Decimal("5.00"), currency="GBP")}
    )
    assert (
        admission.inspection_problem(state, in_pounds) == "deduction.currency: the refund is in EUR"
    )
    state.inspection_report = charger_missing()
    assert admission.inspection_problem(state, charger_missing()) == (
        "the inspection was already reported (items_missing)"
    )
    state.following = False
    assert admission.inspection_problem(state, charger_missing()) == (
        "the return is not waiting for an inspection report (stage: picked_up)"
    )


# --- A collection the marketplace booked ------------------------------------------------------


def booked(now: dt.datetime = NOTICE) -> StillContext:
    """A mailbox pickup booked on the sandbox carrier, the parcel not collected yet."""
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.offers = [SANDBOX_OFFER]
    state.stage = ReturnStage.AWAITING_PICKUP
    state.intake_patched = True
    state.address_sent_at = NOTICE
    state.address_at_intake = True
    day = (NOTICE + dt.timedelta(days=2)).date()
    state.choice = ReturnMethodChoice(
        method=ReturnMethod.MAILBOX_PICKUP, carrier="sandbox", pickup_date=day
    )
    state.pickup = Pickup(
        carrier="sandbox",
        pickup_id="PU-1",
        pickup_date=day,
        deposit_before=dt.time(8, 0),
        confirmation="PU-88412",
    )
    return StillContext(state, now)


def test_a_booked_collection_is_refunded_at_the_refund_deadline_not_after() -> None:
    ctx = booked()
    state = ctx.state

    assert shipping.wakes_at(ctx) == min(
        state.expires_at, state.refund_due_by, *[c for c in [state.poll_at()] if c is not None]
    )
    assert shipping._collection_refund_at(state) == state.refund_due_by


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"pickup": None}, "nothing booked"),
        ({"choice": None}, "nothing chosen"),
        ({"intake_patched": False}, "a return of an earlier build waits as it did"),
        ({"refund_reason": RefundReason.WITHDRAWAL}, "already refunded"),
        ({"choice": HEARD}, "a drop-off is no collection"),
    ],
)
def test_no_collection_deadline_without_a_pending_collection(
    change: dict[str, object], why: str
) -> None:
    state = booked().state
    for name, value in change.items():
        setattr(state, name, value)

    assert shipping._collection_refund_at(state) is None, why


# --- The seller's address and the refund deadline ----------------------------------------------


def waiting_for_the_address() -> StillContext:
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.stage = ReturnStage.AWAITING_RETURN_ADDRESS
    state.intake_patched = True
    state.address_requested_at = NOTICE
    return StillContext(state, NOTICE)


def test_without_an_address_operations_are_asked_before_the_refund_deadline_then_it_runs() -> None:
    ctx = waiting_for_the_address()
    state = ctx.state
    state.seller_reminded = state.escalated = True  # the seller's clocks are spent

    assert address.wakes_at(ctx) == state.refund_decision_at
    assert state.refund_decision_at == state.refund_due_by - state.timings.refund_decision_before
    state.refund_decision_asked = True
    assert address.wakes_at(ctx) == state.refund_due_by
    state.refund_reason = RefundReason.WITHDRAWAL
    assert address.wakes_at(ctx) is None
    state.intake_patched = False
    state.refund_reason = None
    assert address.wakes_at(ctx) is None, "a return of an earlier build waits for the seller"


def test_polling_asks_for_the_scans_not_told_yet() -> None:
    state = on_its_way().state
    state.choice = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo")
    state.reported_tracking_number = "6A12345678901"
    scan = TrackingScan(
        carrier="colissimo",
        tracking_number="6A12345678901",
        scan_id="SC-1",
        status=TrackingStatus.ACCEPTED,
        occurred_at=LEFT,
    )
    state.scans.append(scan)

    query = carrier.tracking_query(state)

    assert (query.carrier, query.tracking_number) == ("colissimo", "6A12345678901")
    assert query.known_scan_ids == ["SC-1"]


# --- What a new return starts with, and a few edges --------------------------------------------


def test_a_new_return_starts_without_any_patch_taken_following_or_review_asked() -> None:
    """A history without a patch's marker keeps the rules it recorded: nothing starts on."""
    state = ReturnState(retract_event(notice_at=NOTICE))

    assert (state.intake_patched, state.label_prices_patched, state.following) == (
        False,
        False,
        False,
    )
    assert state.reviews_asked == 0
    assert state.carrier_capabilities() == frozenset(), "no choice, no carrier"


def test_a_delivered_refunded_parcel_leaves_no_clock_to_wait_for() -> None:
    ctx = on_its_way()
    ctx.state.delivered_at = LEFT + HOUR
    ctx.state.refund_reason = RefundReason.WITHDRAWAL

    assert dispatched.wakes_at(ctx) is None


def test_an_ended_return_stops_watching_for_a_late_parcel() -> None:
    ctx = on_its_way()
    ctx.state.late_watch_ends = LEFT + dt.timedelta(days=30)
    ctx.state.finished = True

    assert expiry.watch_ends_at(ctx) is None


def test_an_expired_returns_parcel_is_the_late_one_it_listens_for() -> None:
    state = on_its_way().state
    state.late_parcel = "6A12345678901"

    assert state.tracking_number == "6A12345678901"


def test_a_pickup_date_is_judged_against_the_shipping_deadline_where_the_mailbox_is() -> None:
    """The deadline at 22:30 UTC on Monday 30 November is already Tuesday in Helsinki, still
    Monday in Paris: a Tuesday collection is in time from a Helsinki mailbox only."""
    notice = dt.datetime(2026, 11, 16, 22, 30, tzinfo=UTC)
    state = ReturnState(retract_event(notice_at=notice))
    state.offers = [SANDBOX_OFFER]
    state.address_sent_at = notice
    state.address_at_intake = True
    helsinki = state.event.customer.address.model_copy(
        update={"postal_code": "00100", "city": "Helsinki", "country_code": "FI"}
    )
    tuesday = dt.date(2026, 12, 1)

    def pickup(mailbox: object) -> ReturnMethodChoice:
        return ReturnMethodChoice(
            method=ReturnMethod.MAILBOX_PICKUP,
            carrier="sandbox",
            pickup_date=tuesday,
            pickup_address=mailbox,  # type: ignore[arg-type]
        )

    now = notice + HOUR
    assert state.ship_by == dt.datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    assert admission.choice_problem(state, pickup(helsinki), now) is None
    assert admission.choice_problem(state, pickup(None), now) == (
        "pickup_date: must be on or before the shipping deadline 2026-11-30"
    )
