"""What a withdrawal refunds (Directive 2011/83/EU Art. 13): the price and the standard delivery,
not the supplement for a costlier delivery; the event's delivery amounts checked as they come."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.base import Money
from domain.events import RetractEvent
from domain.money import refund_breakdown
from tests.factories import eur, retract_event


def with_delivery(**delivery: object) -> RetractEvent:
    """The factory's event (a phone at €429.00) with delivery amounts, validated from JSON as
    the order service sends them."""
    raw = json.loads(retract_event().model_dump_json())
    raw["order"].update(delivery)
    return RetractEvent.model_validate_json(json.dumps(raw))


@pytest.mark.parametrize(
    ("delivery", "goods", "refunded_delivery", "total"),
    [
        ({}, "429.00", "0.00", "429.00"),
        ({"delivery_paid": {"amount": "6.90", "currency": "EUR"}}, "429.00", "6.90", "435.90"),
        (
            {
                "delivery_paid": {"amount": "19.90", "currency": "EUR"},
                "standard_delivery": {"amount": "6.90", "currency": "EUR"},
            },
            "429.00",
            "6.90",
            "435.90",
        ),
        (
            {
                "delivery_paid": {"amount": "0.00", "currency": "EUR"},
                "standard_delivery": {"amount": "6.90", "currency": "EUR"},
            },
            "429.00",
            "0.00",
            "429.00",
        ),
        ({"delivery_paid": {"amount": "4.9", "currency": "EUR"}}, "429.00", "4.90", "433.90"),
    ],
    ids=["free delivery", "standard delivery", "express: standard only", "free promo", "cents"],
)
def test_the_refund_is_the_price_and_the_standard_delivery_paid(
    delivery: dict[str, object], goods: str, refunded_delivery: str, total: str
) -> None:
    breakdown = refund_breakdown(with_delivery(**delivery).order)

    assert breakdown.goods == eur(goods)
    assert breakdown.delivery == eur(refunded_delivery)
    assert breakdown.total == eur(total)
    assert str(breakdown.total.amount) == total, "to the cent"


def test_a_delivery_in_another_currency_than_the_price_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match=r"order.delivery_paid.currency must be the price's"):
        with_delivery(delivery_paid={"amount": "6.90", "currency": "GBP"})
    with pytest.raises(ValidationError, match=r"order.standard_delivery.currency must be"):
        with_delivery(
            delivery_paid={"amount": "6.90", "currency": "EUR"},
            standard_delivery={"amount": "6.90", "currency": "USD"},
        )


def test_a_standard_delivery_without_the_delivery_paid_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"standard_delivery is only given with"):
        with_delivery(standard_delivery={"amount": "6.90", "currency": "EUR"})


def test_a_negative_delivery_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match=r"order.delivery_paid.amount"):
        with_delivery(delivery_paid={"amount": "-1.00", "currency": "EUR"})


@pytest.mark.parametrize(
    ("label", "withheld", "total"),
    [
        (eur("6.25"), eur("6.25"), "429.65"),
        (eur("6.2"), eur("6.20"), "429.70"),
        (Money(amount=Decimal("6.25"), currency="GBP"), None, "435.90"),
        (eur("0.00"), None, "435.90"),
        (eur("500.00"), eur("435.90"), "0.00"),
        (None, None, "435.90"),
    ],
    ids=["label", "cents", "another currency", "free label", "dearer than the refund", "none"],
)
def test_the_label_the_customer_pays_for_comes_off_the_refund_never_below_nothing(
    label: Money | None, withheld: Money | None, total: str
) -> None:
    order = with_delivery(delivery_paid={"amount": "6.90", "currency": "EUR"}).order

    breakdown = refund_breakdown(order, label)

    assert breakdown.goods == eur("429.00") and breakdown.delivery == eur("6.90")
    assert breakdown.label == withheld
    assert str(breakdown.total.amount) == total
