"""Realistic events and addresses for tests: a French and an English customer, two sellers."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from domain.addresses import PostalAddress
from domain.base import Money
from domain.carriers import LabelQuoteRequest, LabelRequest
from domain.events import (
    Customer,
    DeviceCategory,
    Order,
    OrderStatus,
    Product,
    RetractEvent,
)
from domain.inspection import InspectionOutcome, InspectionReport
from domain.periods import calendar_for, period_end
from domain.returns import SHIPPING_DAYS

CUSTOMER_NAME = "Camille Durand"
CUSTOMER_EMAIL = "camille.durand@example.org"
CUSTOMER_STREET = "12 rue des Lilas"

HOME = PostalAddress(
    name=CUSTOMER_NAME,
    line1=CUSTOMER_STREET,
    line2="Bâtiment B, 3e étage",
    postal_code="69003",
    city="Lyon",
    country_code="FR",
    phone="+33 6 12 34 56 78",
)

SELLER_ADDRESS = PostalAddress(
    name="RefurbPro Returns",
    company="RefurbPro SAS",
    line1="4 allée des Artisans",
    postal_code="33700",
    city="Mérignac",
    country_code="FR",
)

SELLER_ID = "SELLER-REFURBPRO"
SELLER_WITHOUT_ADDRESS = "SELLER-NEWCOMER"


def unique_order_id(prefix: str = "ORD") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


def eur(amount: str) -> Money:
    """An amount in euros, as written: "6.25"."""
    return Money(amount=Decimal(amount), currency="EUR")


def _eur(amount: str | None) -> Money | None:
    return eur(amount) if amount is not None else None


def retract_event(
    *,
    order_id: str | None = None,
    line_id: str = "1",
    seller_id: str = SELLER_ID,
    notice_at: dt.datetime | None = None,
    ordered_days_before_notice: int = 10,
    status: OrderStatus = OrderStatus.DELIVERED,
    locale: str = "fr",
    category: DeviceCategory = DeviceCategory.SMARTPHONE,
    returnable: bool = True,
    delivery_paid: str | None = None,
    standard_delivery: str | None = None,
) -> RetractEvent:
    """A customer withdrawing from a delivered refurbished phone, `ordered_days` after ordering."""
    notice = notice_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    ordered = notice - dt.timedelta(days=ordered_days_before_notice)
    shipped = (
        ordered + dt.timedelta(days=1) if status is not OrderStatus.AWAITING_SHIPMENT else None
    )
    delivered = ordered + dt.timedelta(days=3) if status is OrderStatus.DELIVERED else None
    return RetractEvent(
        event_id=f"EVT-{uuid.uuid4().hex[:12]}",
        type="order.retract_requested",
        occurred_at=notice,
        order=Order(
            order_id=order_id or unique_order_id(),
            line_id=line_id,
            seller_id=seller_id,
            status=status,
            ordered_at=ordered,
            shipped_at=shipped,
            delivered_at=delivered,
            product=Product(
                sku="IPH13-128-BLU-A",
                title="iPhone 13 128 Go bleu — très bon état",
                category=category,
                price=Money(amount=Decimal("429.00"), currency="EUR"),
                weight_grams=450,
                returnable=returnable,
            ),
            delivery_paid=_eur(delivery_paid),
            standard_delivery=_eur(standard_delivery),
        ),
        customer=Customer(
            customer_id="CUST-88412",
            name=CUSTOMER_NAME,
            email=CUSTOMER_EMAIL,
            locale=locale,
            address=HOME,
        ),
    )


CHARGER_MISSING = "The charger sold with the phone is missing"


def charger_missing(amount: str = "25.00") -> InspectionReport:
    """The seller's report of a parcel back without its charger, asking a deduction."""
    return InspectionReport(
        outcome=InspectionOutcome.ITEMS_MISSING,
        reported_by="seller",
        deduction=Money(amount=Decimal(amount), currency="EUR"),
        reason=CHARGER_MISSING,
        evidence=["https://sellers.example/evidence/EV-1"],
    )


def quote_of(request: LabelRequest) -> LabelQuoteRequest:
    """The price question for the label `request` would buy."""
    return LabelQuoteRequest(
        carrier=request.carrier,
        sender=request.sender,
        recipient=request.recipient,
        parcel=request.parcel,
    )


def reminded_notice_at(
    within: dt.timedelta = dt.timedelta(days=3),
    grace: dt.timedelta = dt.timedelta(days=3),
    country_code: str = "FR",
    now: dt.datetime | None = None,
) -> dt.datetime:
    """A withdrawal, about 12 days ago, that the reminder sweep reminds now: its days to ship
    end within `within` (the sweep's horizon, which a sweep started later only widens), or, on
    the rare days none does (a Friday night, Christmas Day), ended less than `grace` (the
    expiry grace) ago. Regulation 1182/71 moves a last day off weekends and public holidays, so
    how long ago depends on today's weekday and holidays."""
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    margin = dt.timedelta(minutes=10)
    late: dt.datetime | None = None
    for hours_ago in sorted(range(9 * 24, 21 * 24), key=lambda h: abs(h - 12 * 24)):
        notice_at = now - dt.timedelta(hours=hours_ago)
        calendar = calendar_for(country_code, notice_at - dt.timedelta(days=30), notice_at)
        ship_by = period_end(notice_at, SHIPPING_DAYS, calendar)
        if now + margin < ship_by <= now + within:
            return notice_at
        if late is None and now - grace + margin < ship_by < now - margin:
            late = notice_at
    if late is None:
        raise AssertionError(f"no withdrawal of the last three weeks is reminded now ({now})")
    return late
