"""The return window: judged at the withdrawal notice, never shorter than the law allows."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from domain.eligibility import EligibilityPolicy
from domain.events import OrderStatus
from domain.returns import RejectionReason
from tests.factories import retract_event

NOTICE = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def test_a_withdrawal_inside_the_window_is_accepted() -> None:
    decision = EligibilityPolicy().evaluate(
        retract_event(notice_at=NOTICE, ordered_days_before_notice=29)
    )
    assert decision.accepted and decision.reason is None


def test_a_withdrawal_after_the_window_is_rejected_with_its_end() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=31)
    decision = EligibilityPolicy().evaluate(event)
    assert not decision.accepted
    assert decision.reason is RejectionReason.OUTSIDE_RETURN_WINDOW
    assert decision.window_ends_at == event.order.ordered_at + dt.timedelta(days=30)


def test_the_window_is_configurable() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=40)
    assert EligibilityPolicy(window_days=45).evaluate(event).accepted
    assert not EligibilityPolicy(window_days=30).evaluate(event).accepted


def test_a_late_delivery_keeps_the_legal_fourteen_days() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=35)
    delivered_late = event.order.model_copy(update={"delivered_at": NOTICE - dt.timedelta(days=10)})
    decision = EligibilityPolicy().evaluate(event.model_copy(update={"order": delivered_late}))
    assert decision.accepted
    assert decision.window_ends_at == delivered_late.delivered_at + dt.timedelta(days=14)  # type: ignore[operator]


def test_a_window_shorter_than_the_law_cannot_be_configured() -> None:
    with pytest.raises(ValidationError, match="window_days"):
        EligibilityPolicy(window_days=10)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (OrderStatus.CANCELLED, RejectionReason.ORDER_CANCELLED),
        (OrderStatus.AWAITING_SHIPMENT, RejectionReason.ORDER_NOT_SHIPPED),
    ],
)
def test_an_order_without_a_parcel_is_not_a_return(
    status: OrderStatus, reason: RejectionReason
) -> None:
    decision = EligibilityPolicy().evaluate(retract_event(notice_at=NOTICE, status=status))
    assert decision.reason is reason


def test_the_notice_time_decides_not_the_processing_time() -> None:
    """An event processed weeks late is judged at the moment the customer withdrew."""
    long_ago = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
    event = retract_event(notice_at=long_ago, ordered_days_before_notice=5)
    assert EligibilityPolicy().evaluate(event).accepted


def test_a_parcel_still_in_transit_after_the_window_can_still_be_withdrawn_from() -> None:
    """Art. 9: the 14 days start at delivery; a slow parcel cannot close the window early."""
    event = retract_event(
        notice_at=NOTICE, ordered_days_before_notice=35, status=OrderStatus.SHIPPED
    )
    decision = EligibilityPolicy().evaluate(event)
    assert decision.accepted
    assert decision.window_ends_at == NOTICE + dt.timedelta(days=14)
