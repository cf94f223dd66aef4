"""The order service's `order.retract_requested` event: a customer withdraws from one line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, field_validator, model_validator

from domain.addresses import PostalAddress
from domain.base import (
    MONEY_LIMIT,
    DomainModel,
    Email,
    Identifier,
    Instant,
    LineId,
    Locale,
    Money,
    ShortText,
    personal,
)
from domain.ids import MAX_LENGTH, return_id

RETRACT_EVENT_TYPE = "order.retract_requested"


class OrderStatus(StrEnum):
    """Where the order stands in the order service."""

    AWAITING_SHIPMENT = "awaiting_shipment"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURN_IN_PROGRESS = "return_in_progress"
    """The order service already has a return open for this line."""
    RETURNED = "returned"
    """The line was returned and refunded already."""


OtherOrderStatus = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"),
    Field(
        description=(
            "A status this version does not know yet (the order service added one): the "
            "withdrawal is answered with reason unknown_order_status instead of being lost."
        )
    ),
]


class DeviceCategory(StrEnum):
    """What kind of device the line is: decides the box size advised to the customer."""

    SMARTPHONE = "smartphone"
    TABLET = "tablet"
    LAPTOP = "laptop"
    DESKTOP = "desktop"
    SMARTWATCH = "smartwatch"
    HEADPHONES = "headphones"
    GAME_CONSOLE = "game_console"
    CAMERA = "camera"
    OTHER = "other"


class Product(DomainModel):
    """The refurbished device bought on the order line."""

    sku: Identifier
    title: ShortText = Field(description="Product title as shown to the customer.")
    category: DeviceCategory
    price: Money = Field(description="Price paid for the line, taxes included.")
    weight_grams: int = Field(
        default=500, gt=0, le=30_000, description="Shipping weight, for the label."
    )
    returnable: bool = Field(
        default=True,
        description=(
            "False for goods excluded from withdrawal (Directive 2011/83/EU Art. 16: sealed "
            "goods unsealed after delivery, goods made to the customer's specifications)."
        ),
    )


class Order(DomainModel):
    """The order line being withdrawn from, as the order service knows it."""

    order_id: Identifier
    line_id: LineId = Field(description="The line of the order being returned.")
    seller_id: Identifier
    status: OrderStatus | OtherOrderStatus = Field(union_mode="left_to_right")
    ordered_at: Instant
    shipped_at: Instant | None = None
    delivered_at: Instant | None = None
    contract_delivered_at: Instant | None = Field(
        default=None,
        description="When the customer received the last goods of this line's contract (the "
        "order's goods sold by this seller) when they came in several deliveries: the legal 14 "
        "days run from it (Directive 2011/83/EU Art. 9(2)(b)(i)). Absent: from delivered_at.",
    )
    contract_goods_pending: bool = Field(
        default=False,
        description="Other goods of this line's contract are still to be delivered: the legal "
        "period has not begun (Art. 9(2)(b)(i)).",
    )
    product: Product
    delivery_paid: Money | None = Field(
        default=None,
        description="The line's share of what the customer paid for delivery, taxes included, "
        "in the price's currency: refunded on withdrawal (Directive 2011/83/EU Art. 13(1)), up "
        "to standard_delivery. Absent: delivery was free.",
    )
    standard_delivery: Money | None = Field(
        default=None,
        description="The line's share of the least expensive standard delivery offered, when "
        "the customer chose a costlier one: only this much of delivery_paid is refunded "
        "(Art. 13(2)). Absent: the delivery paid was the standard one.",
    )

    @field_validator("status", mode="before")
    @classmethod
    def _known_status(cls, value: object) -> object:
        # Strict mode takes a known status from JSON as the enum, but from a Python dict it
        # would fall through to the open string: make both the same.
        if isinstance(value, str) and value in OrderStatus._value2member_map_:
            return OrderStatus(value)
        return value

    @model_validator(mode="after")
    def _return_id_fits(self) -> Self:
        if len(return_id(self.order_id, self.line_id)) > MAX_LENGTH:
            raise ValueError(
                f"order.order_id and order.line_id are too long together: the return ID "
                f"'return-<order_id>-<line_id>' must fit {MAX_LENGTH} characters"
            )
        return self

    @model_validator(mode="after")
    def _delivery_in_the_price_currency(self) -> Self:
        currency = self.product.price.currency
        for name in ("delivery_paid", "standard_delivery"):
            paid = getattr(self, name)
            if paid is not None and paid.currency != currency:
                raise ValueError(f"order.{name}.currency must be the price's currency ({currency})")
        if self.standard_delivery is not None and self.delivery_paid is None:
            raise ValueError("order.standard_delivery is only given with order.delivery_paid")
        return self

    @model_validator(mode="after")
    def _refund_fits_an_amount(self) -> Self:
        paid = self.delivery_paid.amount if self.delivery_paid else Decimal(0)
        if self.product.price.amount + paid >= MONEY_LIMIT:
            raise ValueError(
                "order.product.price and order.delivery_paid together come to more than 13 "
                "digits before the point: their refund must fit an amount"
            )
        return self

    @model_validator(mode="after")
    def _timestamps_in_order(self) -> Self:
        if self.shipped_at and self.shipped_at < self.ordered_at:
            raise ValueError("order.shipped_at is before order.ordered_at")
        if self.delivered_at and self.shipped_at and self.delivered_at < self.shipped_at:
            raise ValueError("order.delivered_at is before order.shipped_at")
        if self.status is OrderStatus.DELIVERED and self.delivered_at is None:
            raise ValueError("order.delivered_at is required when order.status is 'delivered'")
        if self.contract_delivered_at is not None:
            if self.delivered_at is None:
                raise ValueError(
                    "order.contract_delivered_at is only given with order.delivered_at"
                )
            if self.contract_delivered_at < self.delivered_at:
                raise ValueError(
                    "order.contract_delivered_at is before order.delivered_at: it is the "
                    "last delivery of the contract"
                )
            if self.contract_goods_pending:
                raise ValueError(
                    "order.contract_delivered_at is given while order.contract_goods_pending "
                    "says goods of the contract are still to be delivered"
                )
        return self

    def legal_delivery(self) -> dt.datetime | None:
        """When the customer received the goods as the withdrawal period counts it: the last
        delivery of the line's contract (Art. 9(2)(b)(i)); None while goods are to come."""
        if self.contract_goods_pending:
            return None
        return self.contract_delivered_at or self.delivered_at


class Customer(DomainModel):
    """The customer withdrawing: who the notices go to, and where the parcel leaves from."""

    customer_id: Identifier
    name: ShortText = personal("Full name, for the greeting and the label.")
    email: Email = personal("Where every notice is sent.")
    locale: Locale = "en"
    address: PostalAddress = personal("Home address: the parcel's sender address.")
    preferred_carrier: Identifier | None = Field(
        default=None,
        description="Carrier code the customer prefers: the return address email lists its "
        "nearest post offices.",
    )


class RetractEvent(DomainModel):
    """The customer clicked "I would like to cancel my order or retract" for one order line.

    The time of the withdrawal notice is `occurred_at`: every legal clock starts there, however
    late the event is processed.
    """

    event_id: Identifier = Field(description="Unique per event; a redelivery keeps it.")
    type: Literal["order.retract_requested"] = Field(description="Always order.retract_requested.")
    occurred_at: Instant = Field(description="When the customer gave the withdrawal notice.")
    order: Order
    customer: Customer

    @model_validator(mode="after")
    def _notice_after_order(self) -> Self:
        if self.occurred_at < self.order.ordered_at:
            raise ValueError("occurred_at is before order.ordered_at")
        return self
