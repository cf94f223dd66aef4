"""The return window: judged at the withdrawal notice, never shorter than the law allows."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from domain.eligibility import EligibilityPolicy, WindowStart
from domain.events import OrderStatus, RetractEvent
from domain.returns import RejectionReason
from tests.factories import retract_event

NOTICE = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
FROM_DELIVERY = EligibilityPolicy(window_starts=WindowStart.DELIVERY_DATE)


def with_order(event: RetractEvent, **changes: object) -> RetractEvent:
    """The event with its order changed, validated again as the order service would send it."""
    raw = json.loads(event.model_dump_json())
    raw["order"].update(changes)
    return RetractEvent.model_validate_json(json.dumps(raw))


def test_a_withdrawal_inside_the_window_is_accepted() -> None:
    decision = EligibilityPolicy().evaluate(
        retract_event(notice_at=NOTICE, ordered_days_before_notice=29)
    )
    assert decision.accepted and decision.reason is None and not decision.cancellation


def test_a_withdrawal_after_the_window_is_rejected_with_its_end() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=31)
    decision = EligibilityPolicy().evaluate(event)
    assert not decision.accepted
    assert decision.reason is RejectionReason.OUTSIDE_RETURN_WINDOW
    assert decision.window_ends_at == event.order.ordered_at + dt.timedelta(days=30)


def test_the_last_moment_of_the_window_is_still_in_time() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=30)
    assert EligibilityPolicy().evaluate(event).accepted
    late = event.model_copy(update={"occurred_at": NOTICE + SECOND})
    assert EligibilityPolicy().evaluate(late).reason is RejectionReason.OUTSIDE_RETURN_WINDOW


def test_the_window_is_configurable() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=40)
    assert EligibilityPolicy(window_days=45).evaluate(event).accepted
    assert not EligibilityPolicy(window_days=30).evaluate(event).accepted


def test_a_late_delivery_keeps_the_legal_fourteen_days() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=35)
    delivered = NOTICE - dt.timedelta(days=10)
    decision = EligibilityPolicy().evaluate(with_order(event, delivered_at=delivered.isoformat()))
    assert decision.accepted
    assert decision.window_ends_at == delivered + dt.timedelta(days=14)


def test_the_fourteenth_day_after_delivery_is_the_last() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=60)
    delivered = NOTICE - dt.timedelta(days=14)
    on_time = with_order(event, delivered_at=delivered.isoformat())
    assert EligibilityPolicy().evaluate(on_time).accepted
    late = on_time.model_copy(update={"occurred_at": NOTICE + SECOND})
    assert EligibilityPolicy().evaluate(late).reason is RejectionReason.OUTSIDE_RETURN_WINDOW


def test_a_window_shorter_than_the_law_cannot_be_configured() -> None:
    with pytest.raises(ValidationError, match="window_days"):
        EligibilityPolicy(window_days=10)
    with pytest.raises(ValidationError, match="window_days"):
        EligibilityPolicy(window_days=13, window_starts=WindowStart.DELIVERY_DATE)


# --- a window counted from delivery ----------------------------------------------------------


def test_the_window_can_count_from_delivery() -> None:
    """Ordered 32 days before the notice, delivered 29 days before (the factory's 3 days)."""
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=32)
    delivered = event.order.delivered_at
    assert delivered is not None

    from_delivery = FROM_DELIVERY.evaluate(event)
    from_order = EligibilityPolicy().evaluate(event)

    assert from_delivery.accepted
    assert from_delivery.window_ends_at == delivered + dt.timedelta(days=30)
    assert from_order.reason is RejectionReason.OUTSIDE_RETURN_WINDOW


def test_a_window_from_delivery_closes_too() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=40)
    decision = EligibilityPolicy(window_days=14, window_starts=WindowStart.DELIVERY_DATE).evaluate(
        event
    )
    assert decision.reason is RejectionReason.OUTSIDE_RETURN_WINDOW
    assert decision.window_ends_at == NOTICE - dt.timedelta(days=37 - 14)


def test_goods_not_delivered_yet_can_be_withdrawn_from_whatever_the_window_counts_from() -> None:
    """Not delivered: the legal period has not even started."""
    event = retract_event(
        notice_at=NOTICE, ordered_days_before_notice=90, status=OrderStatus.SHIPPED
    )
    assert event.order.delivered_at is None

    for policy in (EligibilityPolicy(), FROM_DELIVERY):
        decision = policy.evaluate(event)
        assert decision.accepted
        assert decision.window_ends_at >= NOTICE + dt.timedelta(days=14)
    assert FROM_DELIVERY.evaluate(event).window_ends_at == NOTICE + dt.timedelta(days=30)


def test_a_parcel_still_in_transit_after_the_window_can_still_be_withdrawn_from() -> None:
    """Art. 9: the 14 days start at delivery; a slow parcel cannot close the window early."""
    event = retract_event(
        notice_at=NOTICE, ordered_days_before_notice=35, status=OrderStatus.SHIPPED
    )
    decision = EligibilityPolicy().evaluate(event)
    assert decision.accepted
    assert decision.window_ends_at == NOTICE + dt.timedelta(days=14)


# --- judged at the notice --------------------------------------------------------------------


def test_the_notice_time_decides_not_the_processing_time() -> None:
    """An event processed weeks late is judged at the moment the customer withdrew."""
    long_ago = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
    event = retract_event(notice_at=long_ago, ordered_days_before_notice=5)
    assert EligibilityPolicy().evaluate(event).accepted


def test_a_notice_in_time_processed_after_the_window_closed_is_accepted() -> None:
    """The window closed long before today; the customer withdrew on its last day."""
    last_day = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    event = retract_event(notice_at=last_day, ordered_days_before_notice=30)
    decision = EligibilityPolicy().evaluate(event)
    assert decision.accepted
    assert decision.window_ends_at == last_day < dt.datetime.now(dt.UTC)


# --- where the order stands ------------------------------------------------------------------


def test_an_order_not_shipped_yet_is_cancelled_not_returned() -> None:
    decision = EligibilityPolicy().evaluate(
        retract_event(notice_at=NOTICE, status=OrderStatus.AWAITING_SHIPMENT)
    )
    assert decision.accepted and decision.cancellation
    assert decision.reason is None
    assert "not shipped" in decision.explanation


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (OrderStatus.CANCELLED, RejectionReason.ORDER_CANCELLED),
        (OrderStatus.RETURN_IN_PROGRESS, RejectionReason.ALREADY_BEING_RETURNED),
        (OrderStatus.RETURNED, RejectionReason.ALREADY_RETURNED),
    ],
)
def test_an_order_that_cannot_be_returned_again_is_rejected(
    status: OrderStatus, reason: RejectionReason
) -> None:
    decision = EligibilityPolicy().evaluate(retract_event(notice_at=NOTICE, status=status))
    assert not decision.accepted and not decision.cancellation
    assert decision.reason is reason


def test_the_order_status_counts_before_the_window() -> None:
    """A line returned already is told so, not that it is late."""
    event = retract_event(
        notice_at=NOTICE, ordered_days_before_notice=90, status=OrderStatus.RETURNED
    )
    assert EligibilityPolicy().evaluate(event).reason is RejectionReason.ALREADY_RETURNED


def test_a_status_the_order_service_added_is_answered_not_lost() -> None:
    event = with_order(retract_event(notice_at=NOTICE), status="lost_in_warehouse")
    assert event.order.status == "lost_in_warehouse"

    decision = EligibilityPolicy().evaluate(event)

    assert not decision.accepted
    assert decision.reason is RejectionReason.UNKNOWN_ORDER_STATUS
    assert "customer service" in decision.explanation


def test_a_known_status_in_the_event_is_the_known_status() -> None:
    event = with_order(retract_event(notice_at=NOTICE), status="returned")
    assert event.order.status is OrderStatus.RETURNED
    assert EligibilityPolicy().evaluate(event).reason is RejectionReason.ALREADY_RETURNED


def test_a_known_status_validated_from_python_data_is_the_known_status() -> None:
    raw = retract_event(notice_at=NOTICE).model_dump()
    raw["order"]["status"] = "delivered"
    event = RetractEvent.model_validate(raw)
    assert event.order.status is OrderStatus.DELIVERED


def test_an_item_excluded_from_withdrawal_is_rejected() -> None:
    event = retract_event(notice_at=NOTICE)
    sealed = event.order.product.model_copy(update={"returnable": False})
    event = with_order(event, product=json.loads(sealed.model_dump_json()))

    decision = EligibilityPolicy().evaluate(event)

    assert decision.reason is RejectionReason.NOT_RETURNABLE


def test_an_item_excluded_from_withdrawal_can_still_be_cancelled_before_shipment() -> None:
    event = retract_event(notice_at=NOTICE, status=OrderStatus.AWAITING_SHIPMENT)
    sealed = event.order.product.model_copy(update={"returnable": False})
    event = with_order(event, product=json.loads(sealed.model_dump_json()))

    decision = EligibilityPolicy().evaluate(event)

    assert decision.accepted and decision.cancellation


def test_every_rejection_tells_when_the_window_ends() -> None:
    for status in (OrderStatus.CANCELLED, OrderStatus.RETURNED):
        event = retract_event(notice_at=NOTICE, ordered_days_before_notice=5, status=status)
        decision = EligibilityPolicy().evaluate(event)
        assert decision.window_ends_at == EligibilityPolicy().window_ends_at(event)
