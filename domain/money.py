"""What a withdrawal refunds (Directive 2011/83/EU Art. 13): every payment received for the line,
the standard delivery included, and not the supplement for a costlier delivery the customer
chose. Pure functions: the return workflow asks for this refund, the notices explain it."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from domain.base import DomainModel, Money
from domain.events import Order


class RefundBreakdown(DomainModel):
    """The refund of one line, part by part, in the currency the customer paid in."""

    goods: Money = Field(description="The price paid for the line, taxes included.")
    delivery: Money = Field(
        description="The line's share of the delivery paid, up to the standard delivery's "
        "(Art. 13(1) and 13(2))."
    )
    total: Money = Field(description="What is refunded: goods and delivery.")


def refund_breakdown(order: Order) -> RefundBreakdown:
    """The refund the customer is owed for `order`'s line on withdrawing."""
    goods = order.product.price
    currency = goods.currency
    paid = order.delivery_paid.amount if order.delivery_paid else Decimal(0)
    standard = order.standard_delivery.amount if order.standard_delivery else paid
    delivery = min(paid, standard)
    return RefundBreakdown(
        goods=goods,
        delivery=Money(amount=_cents(delivery), currency=currency),
        total=Money(amount=_cents(goods.amount + delivery), currency=currency),
    )


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))
