"""What a withdrawal refunds (Directive 2011/83/EU Art. 13): every payment received for the line,
the standard delivery included, and not the supplement for a costlier delivery the customer
chose; less the return label the marketplace bought for the customer, whose cost is theirs
(Art. 14(1)) unless the seller bears it. Pure functions: the return workflow asks for this
refund, the notices explain it."""

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
    label: Money | None = Field(
        default=None,
        description="The return label's price withheld (Art. 14(1)): the customer chose a label "
        "the marketplace bought, at the price shown before they chose.",
    )
    total: Money = Field(description="What is refunded: goods and delivery, less the label.")


def refund_breakdown(order: Order, label: Money | None = None) -> RefundBreakdown:
    """The refund the customer is owed for `order`'s line on withdrawing, less `label`, the
    price of the return label they owe (ignored in another currency; never below nothing)."""
    goods = order.product.price
    currency = goods.currency
    paid = order.delivery_paid.amount if order.delivery_paid else Decimal(0)
    standard = order.standard_delivery.amount if order.standard_delivery else paid
    delivery = min(paid, standard)
    owed = goods.amount + delivery
    withheld = None
    if label is not None and label.currency == currency and label.amount:
        withheld = Money(amount=_cents(min(label.amount, owed)), currency=currency)
    total = owed - (withheld.amount if withheld else Decimal(0))
    return RefundBreakdown(
        goods=goods,
        delivery=Money(amount=_cents(delivery), currency=currency),
        label=withheld,
        total=Money(amount=_cents(total), currency=currency),
    )


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))
