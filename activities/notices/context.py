"""What each kind of notice needs from its request, and the facts its templates are given.

Templates get display-ready strings (dates in the reader's zone and language, money, steps)
so that the text and the HTML version of a notice cannot say different things.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.notices import customer_facts as customer
from activities.notices import partner_facts as partner
from activities.notices.customer_facts import PROBLEM_STATUSES
from activities.notices.view import View
from domain.carriers import ReturnMethod
from domain.notices import Audience, NoticeKind, NoticeRequest

_NEEDS: dict[NoticeKind, tuple[str, ...]] = {
    NoticeKind.ACKNOWLEDGEMENT: (),
    NoticeKind.REJECTION: ("decision",),
    NoticeKind.RETURN_ADDRESS: ("return_address", "carriers"),
    NoticeKind.RETURN_LABEL: ("label",),
    NoticeKind.COUNTER_CODE: ("counter_code",),
    NoticeKind.PICKUP_CONFIRMED: ("scan",),
    NoticeKind.COUNTER_INSTRUCTIONS: ("return_address", "locator_carrier"),
    NoticeKind.SHIPMENT_PROBLEM: ("scan",),
    NoticeKind.REFUND_REQUESTED: ("refund", "refund_due_by"),
    NoticeKind.CANCELLATION_CONFIRMED: (),
    NoticeKind.RETURN_CANCELLED: (),
    NoticeKind.RETURN_EXPIRED: ("expires_at",),
    NoticeKind.SHIPPING_REMINDER: ("expires_at", "reminder_day"),
    NoticeKind.PARCEL_NOT_DELIVERED: ("scan", "attention"),
    NoticeKind.DEDUCTION_APPROVED: ("inspection",),
    NoticeKind.REFUND_BEFORE_RETURN: ("refund_due_by",),
    NoticeKind.SELLER_STOP_SHIPMENT: (),
    NoticeKind.SELLER_PARCEL_INBOUND: ("scan",),
    NoticeKind.SELLER_PARCEL_DELIVERED: ("scan",),
    NoticeKind.SELLER_RETURN_CANCELLED: (),
    NoticeKind.SELLER_RETURN_EXPIRED: ("expires_at",),
    NoticeKind.OPERATIONS_ATTENTION: ("attention",),
}
"""The request fields each kind of notice cannot be written without."""

_KIND_FACTS: dict[NoticeKind, Callable[[NoticeRequest, View], dict[str, Any]]] = {
    NoticeKind.ACKNOWLEDGEMENT: customer.acknowledgement,
    NoticeKind.REJECTION: customer.rejection,
    NoticeKind.RETURN_ADDRESS: customer.return_address,
    NoticeKind.RETURN_LABEL: customer.return_label,
    NoticeKind.COUNTER_CODE: customer.counter_code,
    NoticeKind.PICKUP_CONFIRMED: customer.pickup_confirmed,
    NoticeKind.COUNTER_INSTRUCTIONS: customer.counter_instructions,
    NoticeKind.SHIPMENT_PROBLEM: customer.shipment_problem,
    NoticeKind.REFUND_REQUESTED: customer.refund_requested,
    NoticeKind.CANCELLATION_CONFIRMED: customer.cancellation_confirmed,
    NoticeKind.RETURN_CANCELLED: customer.return_cancelled,
    NoticeKind.RETURN_EXPIRED: customer.return_expired,
    NoticeKind.SHIPPING_REMINDER: customer.shipping_reminder,
    NoticeKind.PARCEL_NOT_DELIVERED: customer.parcel_not_delivered,
    NoticeKind.DEDUCTION_APPROVED: customer.deduction_approved,
    NoticeKind.REFUND_BEFORE_RETURN: customer.refund_before_return,
    NoticeKind.SELLER_STOP_SHIPMENT: partner.seller_stop_shipment,
    NoticeKind.SELLER_PARCEL_INBOUND: partner.seller_parcel_inbound,
    NoticeKind.SELLER_PARCEL_DELIVERED: partner.seller_parcel_delivered,
    NoticeKind.SELLER_RETURN_CANCELLED: partner.seller_return_cancelled,
    NoticeKind.SELLER_RETURN_EXPIRED: partner.seller_return_expired,
    NoticeKind.OPERATIONS_ATTENTION: partner.operations_attention,
}

_TELLS_OF_REFUND = frozenset(
    {
        NoticeKind.PICKUP_CONFIRMED,
        NoticeKind.CANCELLATION_CONFIRMED,
        NoticeKind.SELLER_STOP_SHIPMENT,
        NoticeKind.SELLER_PARCEL_DELIVERED,
    }
)
"""Kinds that tell of the refund when `refund` is set (and then need its due date)."""


class InvalidNoticeRequest(ValueError):
    """A notice request lacks what its kind has to tell its reader."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field


def check_complete(request: NoticeRequest) -> None:
    """Refuse a request that lacks a fact its kind needs, naming the field."""
    kind = request.kind
    for field in _NEEDS[kind]:
        if not getattr(request, field):
            raise InvalidNoticeRequest(field, f"is required for a {kind} notice")
    if kind is NoticeKind.REJECTION and request.decision and request.decision.accepted:
        raise InvalidNoticeRequest("decision", "accepts the return: a rejection needs a reason")
    booked = request.method is ReturnMethod.MAILBOX_PICKUP
    if kind is NoticeKind.RETURN_LABEL and booked and request.pickup is None:
        raise InvalidNoticeRequest("pickup", "is required for a mailbox pickup label notice")
    reminder = kind is NoticeKind.SHIPPING_REMINDER
    if reminder and request.method is not None and request.chosen_carrier is None:
        raise InvalidNoticeRequest("chosen_carrier", "is required once a method is chosen")
    if reminder and booked and request.pickup is None:
        raise InvalidNoticeRequest("pickup", "is required to remind of a mailbox pickup")
    problem = kind is NoticeKind.SHIPMENT_PROBLEM
    if problem and request.scan and request.scan.status not in PROBLEM_STATUSES:
        raise InvalidNoticeRequest("scan", "is not a problem scan (exception, returned)")
    report = request.inspection
    if kind is NoticeKind.DEDUCTION_APPROVED and report and report.deduction is None:
        raise InvalidNoticeRequest("inspection", "has no deduction to tell of")
    undelivered = ("parcel_lost", "parcel_returned_to_customer")
    if kind is NoticeKind.PARCEL_NOT_DELIVERED and request.attention not in undelivered:
        raise InvalidNoticeRequest("attention", "is parcel_lost or parcel_returned_to_customer")
    if kind in _TELLS_OF_REFUND and request.refund and not request.refund_due_by:
        raise InvalidNoticeRequest("refund_due_by", f"is required to tell of the refund ({kind})")


def template_context(
    request: NoticeRequest, view: View, *, marketplace: str, return_page: str
) -> dict[str, Any]:
    """Everything the templates of `request.kind` may show, formatted for its reader.

    Only a customer's notice gets the customer's name and return page: the seller's and
    operations' notices are written without any of the customer's personal data.
    """
    facts: dict[str, Any] = {
        "lang": view.lang,
        "marketplace": marketplace,
        "product_title": request.order.product.title,
        "price": view.money(request.order.product.price),
        "order_id": request.order.order_id,
        "line_id": request.order.line_id,
        "return_id": request.return_id,
        "ship_by": view.day(request.ship_by),
    }
    match request.kind.audience:
        case Audience.CUSTOMER:
            facts["customer_name"] = view.reader
            facts["return_page"] = return_page
        case Audience.SELLER:
            facts["seller_name"] = view.reader
    facts.update(_KIND_FACTS[request.kind](request, view))
    return facts
