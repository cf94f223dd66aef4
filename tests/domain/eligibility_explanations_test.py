"""The sentence a customer reads about their withdrawal: one per outcome, as they see it on the
return page and in the email."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from domain.eligibility import EligibilityPolicy
from domain.events import OrderStatus, RetractEvent
from domain.returns import RejectionReason
from tests.factories import retract_event

NOTICE = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def with_status(status: str) -> RetractEvent:
    """The order as the order service sends it, in `status` (unknown ones included)."""
    raw = json.loads(retract_event(notice_at=NOTICE).model_dump_json())
    raw["order"]["status"] = status
    return RetractEvent.model_validate_json(json.dumps(raw))


@pytest.mark.parametrize(
    ("status", "reason", "sentence"),
    [
        (
            "lost_in_the_warehouse",
            RejectionReason.UNKNOWN_ORDER_STATUS,
            "We could not check this order automatically; our customer service will contact "
            "you about your request.",
        ),
        (
            OrderStatus.CANCELLED,
            RejectionReason.ORDER_CANCELLED,
            "This order was cancelled, so there is nothing to send back.",
        ),
        (
            OrderStatus.RETURN_IN_PROGRESS,
            RejectionReason.ALREADY_BEING_RETURNED,
            "A return of this item is already under way.",
        ),
        (
            OrderStatus.RETURNED,
            RejectionReason.ALREADY_RETURNED,
            "This item has already been returned.",
        ),
    ],
)
def test_a_rejected_withdrawal_tells_the_customer_why(
    status: str, reason: RejectionReason, sentence: str
) -> None:
    decision = EligibilityPolicy().evaluate(with_status(status))

    assert not decision.accepted
    assert decision.reason is reason
    assert decision.explanation == sentence


def test_an_order_not_shipped_yet_is_cancelled_and_the_customer_told_so() -> None:
    event = retract_event(notice_at=NOTICE, status=OrderStatus.AWAITING_SHIPMENT)

    decision = EligibilityPolicy().evaluate(event)

    assert decision.accepted and decision.cancellation
    assert decision.explanation == (
        "Your order has not shipped yet: we cancel it and nothing has to be sent back."
    )


def test_an_item_excluded_from_withdrawal_is_named_so() -> None:
    decision = EligibilityPolicy().evaluate(retract_event(notice_at=NOTICE, returnable=False))

    assert decision.reason is RejectionReason.NOT_RETURNABLE
    assert decision.explanation == (
        "This item is excluded from the right of withdrawal (for example, a sealed item "
        "unsealed after delivery)."
    )
