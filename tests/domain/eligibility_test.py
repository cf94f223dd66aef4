"""The return window: judged at the withdrawal notice, never shorter than the law allows,
counted in the customer's days (the customer of `retract_event` lives in Lyon, France).

NOTICE is Friday 20 November 2026, 10:00 in Paris."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from domain.eligibility import EligibilityPolicy, WindowStart
from domain.events import OrderStatus, RetractEvent
from domain.returns import RejectionReason
from tests.factories import retract_event

NOTICE = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)
PARIS = ZoneInfo("Europe/Paris")


def end_of(day: dt.date) -> dt.datetime:
    """The last moment of `day` in Paris: where a window counted in days ends."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=PARIS)


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
    """Ordered Tuesday 20 October: the 30 days run from the 21st to Thursday 19 November."""
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=31)
    decision = EligibilityPolicy().evaluate(event)
    assert not decision.accepted
    assert decision.reason is RejectionReason.OUTSIDE_RETURN_WINDOW
    assert decision.window_ends_at == end_of(dt.date(2026, 11, 19))
    assert "19 November 2026" in decision.explanation


def test_a_notice_on_the_last_day_of_the_window_is_in_time_until_its_last_moment() -> None:
    """Ordered Wednesday 21 October: the last day is Friday 20 November, all of it."""
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=30)
    last_moment = end_of(dt.date(2026, 11, 20))
    in_time = event.model_copy(update={"occurred_at": last_moment})
    late = event.model_copy(update={"occurred_at": last_moment + MICROSECOND})

    assert EligibilityPolicy().evaluate(in_time).accepted
    assert EligibilityPolicy().evaluate(late).reason is RejectionReason.OUTSIDE_RETURN_WINDOW


def test_a_window_ending_on_a_public_holiday_ends_on_the_next_working_day() -> None:
    """Ordered Tuesday 13 October, a 29-day window: its last day would be Wednesday
    11 November, Armistice Day, a public holiday in France; it runs to the end of Thursday 12."""
    notice = dt.datetime(2026, 11, 12, 21, 0, tzinfo=dt.UTC)  # 22:00 in Paris
    event = retract_event(notice_at=notice, ordered_days_before_notice=30)
    decision = EligibilityPolicy(window_days=29).evaluate(event)
    assert decision.accepted
    assert decision.window_ends_at == end_of(dt.date(2026, 11, 12))


def test_a_window_ending_on_a_saturday_ends_on_monday() -> None:
    """Ordered Thursday 22 October: 30 days end Saturday 21 November, moved to Monday 23."""
    notice = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
    event = retract_event(notice_at=notice, ordered_days_before_notice=32)
    decision = EligibilityPolicy().evaluate(event)
    assert decision.accepted
    assert decision.window_ends_at == end_of(dt.date(2026, 11, 23))


def test_the_window_is_configurable() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=40)
    assert EligibilityPolicy(window_days=45).evaluate(event).accepted
    assert not EligibilityPolicy(window_days=30).evaluate(event).accepted


def test_a_late_delivery_keeps_the_legal_fourteen_days() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=35)
    delivered = NOTICE - dt.timedelta(days=10)
    decision = EligibilityPolicy().evaluate(with_order(event, delivered_at=delivered.isoformat()))
    assert decision.accepted
    assert decision.window_ends_at == end_of(dt.date(2026, 11, 24))  # delivered Tue 10 Nov


def test_the_fourteenth_day_after_delivery_is_the_last() -> None:
    """Delivered Friday 6 November: the 14 days run from Saturday 7 to Friday 20."""
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=60)
    delivered = NOTICE - dt.timedelta(days=14)
    on_time = with_order(event, delivered_at=delivered.isoformat())
    last_moment = end_of(dt.date(2026, 11, 20))
    in_time = on_time.model_copy(update={"occurred_at": last_moment})
    late = on_time.model_copy(update={"occurred_at": last_moment + MICROSECOND})
    assert EligibilityPolicy().evaluate(in_time).accepted
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
    # Delivered Thursday 22 October: the 30th day is Saturday 21 November, moved to Monday 23.
    assert from_delivery.window_ends_at == end_of(dt.date(2026, 11, 23))
    assert from_order.reason is RejectionReason.OUTSIDE_RETURN_WINDOW


def test_a_window_from_delivery_closes_too() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=40)
    decision = EligibilityPolicy(window_days=14, window_starts=WindowStart.DELIVERY_DATE).evaluate(
        event
    )
    assert decision.reason is RejectionReason.OUTSIDE_RETURN_WINDOW
    # Delivered Wednesday 14 October: its 14 days ended Wednesday 28 October.
    assert decision.window_ends_at == end_of(dt.date(2026, 10, 28))


def test_goods_not_delivered_yet_can_be_withdrawn_from_whatever_the_window_counts_from() -> None:
    """Not delivered: the legal period has not even started."""
    event = retract_event(
        notice_at=NOTICE, ordered_days_before_notice=90, status=OrderStatus.SHIPPED
    )
    assert event.order.delivered_at is None

    for policy in (EligibilityPolicy(), FROM_DELIVERY):
        decision = policy.evaluate(event)
        assert decision.accepted
        assert decision.window_ends_at >= end_of(dt.date(2026, 12, 4))
    # Counted from the notice, 30 days: Sunday 20 December, moved to Monday 21.
    assert FROM_DELIVERY.evaluate(event).window_ends_at == end_of(dt.date(2026, 12, 21))


def test_a_parcel_still_in_transit_after_the_window_can_still_be_withdrawn_from() -> None:
    """Art. 9: the 14 days start at delivery; a slow parcel cannot close the window early."""
    event = retract_event(
        notice_at=NOTICE, ordered_days_before_notice=35, status=OrderStatus.SHIPPED
    )
    decision = EligibilityPolicy().evaluate(event)
    assert decision.accepted
    assert decision.window_ends_at == end_of(dt.date(2026, 12, 4))  # 14 days after the notice


def test_goods_of_one_contract_delivered_separately_count_from_the_last_delivery() -> None:
    """Art. 9(2)(b)(i): a phone delivered 43 days before the notice, its charger from the same
    seller 5 days before: the phone's 14 days run from the charger's delivery too."""
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=45)
    phone = with_order(event, delivered_at=(NOTICE - dt.timedelta(days=43)).isoformat())
    with_the_charger = with_order(
        phone,
        delivered_at=(NOTICE - dt.timedelta(days=43)).isoformat(),
        contract_delivered_at=(NOTICE - dt.timedelta(days=5)).isoformat(),
    )

    assert EligibilityPolicy().evaluate(phone).reason is RejectionReason.OUTSIDE_RETURN_WINDOW
    decision = EligibilityPolicy().evaluate(with_the_charger)
    assert decision.accepted
    # The charger came Sunday 15 November: its 14 days end Sunday 29, moved to Monday 30.
    assert decision.window_ends_at == end_of(dt.date(2026, 11, 30))


def test_goods_of_the_contract_still_to_come_keep_the_period_from_starting() -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=45)
    waiting = with_order(
        event,
        delivered_at=(NOTICE - dt.timedelta(days=43)).isoformat(),
        contract_goods_pending=True,
    )

    for policy in (EligibilityPolicy(), FROM_DELIVERY):
        decision = policy.evaluate(waiting)
        assert decision.accepted
        assert decision.window_ends_at >= end_of(dt.date(2026, 12, 4))  # 14 days past the notice


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        (
            {
                "contract_delivered_at": "2026-11-15T10:00:00Z",
                "delivered_at": None,
                "status": "shipped",
            },
            "contract_delivered_at is only given with order.delivered_at",
        ),
        (
            {
                "delivered_at": "2026-11-15T10:00:00Z",
                "contract_delivered_at": "2026-11-10T10:00:00Z",
            },
            "contract_delivered_at is before order.delivered_at",
        ),
        (
            {"contract_delivered_at": "2026-11-19T10:00:00Z", "contract_goods_pending": True},
            "contract_goods_pending",
        ),
    ],
    ids=["without-its-own-delivery", "before-its-own-delivery", "and-goods-to-come"],
)
def test_a_contract_delivery_that_contradicts_the_line_is_refused_naming_it(
    changes: dict[str, object], says: str
) -> None:
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=45)
    with pytest.raises(ValidationError, match=says):
        with_order(event, **changes)


# --- judged at the notice --------------------------------------------------------------------


def test_the_notice_time_decides_not_the_processing_time() -> None:
    """An event processed weeks late is judged at the moment the customer withdrew."""
    long_ago = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
    event = retract_event(notice_at=long_ago, ordered_days_before_notice=5)
    assert EligibilityPolicy().evaluate(event).accepted


def test_a_notice_in_time_processed_after_the_window_closed_is_accepted() -> None:
    """The window closed long before today; the customer withdrew on its last day (Monday
    3 March 2025, ordered Saturday 1 February)."""
    last_day = dt.datetime(2025, 3, 3, 12, 0, tzinfo=dt.UTC)
    event = retract_event(notice_at=last_day, ordered_days_before_notice=30)
    decision = EligibilityPolicy().evaluate(event)
    assert decision.accepted
    assert decision.window_ends_at == end_of(dt.date(2025, 3, 3)) < dt.datetime.now(dt.UTC)


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
