"""What the lines of a withdrawal link's order say of each other's contract (Directive
2011/83/EU Art. 9(2)(b)(i)): goods one seller sold in the order and delivered separately count
from the last delivery, and not at all while some are still to come."""

from __future__ import annotations

import datetime as dt

from domain.events import Order, OrderStatus
from domain.withdrawals import WithdrawalLinkRequest
from tests.factories import retract_event, unique_order_id

NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def order(*lines: Order) -> dict[str, Order]:
    request = WithdrawalLinkRequest(
        request_id="help-1", customer=retract_event().customer, lines=list(lines)
    )
    return {line.line_id: line for line in request.with_contracts().lines}


def line(line_id: str, **changes: object) -> Order:
    phone = retract_event(
        order_id="ORD-1", line_id="1", notice_at=NOW, ordered_days_before_notice=45
    ).order
    return phone.model_copy(update={"line_id": line_id, **changes})


def test_each_line_of_a_contract_counts_from_its_last_delivery() -> None:
    lines = order(line("1"), line("2", delivered_at=NOW - 5 * DAY))

    assert lines["1"].contract_delivered_at == NOW - 5 * DAY
    assert lines["2"].contract_delivered_at is None  # the last delivery is its own
    assert lines["1"].legal_delivery() == lines["2"].legal_delivery() == NOW - 5 * DAY


def test_goods_still_to_come_hold_the_period_of_those_delivered() -> None:
    waiting = line("2", status=OrderStatus.AWAITING_SHIPMENT, shipped_at=None, delivered_at=None)
    lines = order(line("1"), waiting)

    assert lines["1"].contract_goods_pending and lines["1"].legal_delivery() is None


def test_another_sellers_goods_and_cancelled_goods_are_another_matter() -> None:
    lines = order(
        line("1"),
        line("2", seller_id="SELLER-OTHER", delivered_at=NOW - 5 * DAY),
        line("3", status=OrderStatus.CANCELLED, shipped_at=None, delivered_at=None),
    )

    assert lines["1"].legal_delivery() == lines["1"].delivered_at
    assert not lines["1"].contract_goods_pending


def test_what_the_order_service_said_of_the_contract_stands() -> None:
    said = line("1", contract_delivered_at=NOW - 2 * DAY)
    lines = order(said, line("2", delivered_at=NOW - 5 * DAY))

    assert lines["1"].contract_delivered_at == NOW - 2 * DAY


def test_an_order_of_one_line_is_as_sent() -> None:
    only = line("1", order_id=unique_order_id())

    assert order(only)["1"] == only
