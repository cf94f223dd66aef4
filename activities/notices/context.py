"""What each kind of notice needs from its request, and the facts its templates are given.

Templates get display-ready strings (dates in the customer's zone and language, money, steps)
so that the text and the HTML version of a notice cannot say different things.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from activities.notices.formats import (
    format_date,
    format_day,
    format_moment,
    format_money,
    format_time,
    local_zone,
)
from activities.notices.wording import WORDINGS, Wording
from domain.carriers import ReturnMethod
from domain.events import DeviceCategory
from domain.notices import NoticeKind, NoticeRequest

BOX_SIZES_CM: dict[DeviceCategory, tuple[int, int, int]] = {
    DeviceCategory.SMARTPHONE: (25, 18, 8),
    DeviceCategory.SMARTWATCH: (25, 18, 8),
    DeviceCategory.HEADPHONES: (25, 18, 8),
    DeviceCategory.TABLET: (35, 25, 8),
    DeviceCategory.LAPTOP: (45, 35, 10),
    DeviceCategory.DESKTOP: (60, 40, 30),
    DeviceCategory.GAME_CONSOLE: (60, 40, 30),
    DeviceCategory.CAMERA: (30, 25, 15),
    DeviceCategory.OTHER: (40, 30, 20),
}
"""A box that fits the device with room for padding, when the original box is gone."""

MAILBOX_DEPOSIT_BEFORE = dt.time(8, 0)
"""Carriers collect from mailboxes in the morning round: the parcel must be in by 08:00. The
booking itself (return_label) states the time the carrier confirmed."""

_NEEDS: dict[NoticeKind, tuple[str, ...]] = {
    NoticeKind.ACKNOWLEDGEMENT: (),
    NoticeKind.REJECTION: ("decision",),
    NoticeKind.RETURN_ADDRESS: ("return_address", "carriers"),
    NoticeKind.RETURN_LABEL: ("label",),
    NoticeKind.COUNTER_CODE: ("counter_code",),
    NoticeKind.PICKUP_CONFIRMED: ("scan",),
}
"""The request fields each kind of notice cannot be written without."""


class InvalidNoticeRequest(ValueError):
    """A notice request lacks what its kind has to tell the customer."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field


def check_complete(request: NoticeRequest) -> None:
    """Refuse a request that lacks a fact its kind needs, naming the field."""
    for field in _NEEDS[request.kind]:
        if not getattr(request, field):
            raise InvalidNoticeRequest(field, f"is required for a {request.kind} notice")
    if request.kind is NoticeKind.REJECTION and request.decision and request.decision.accepted:
        raise InvalidNoticeRequest("decision", "accepts the return: a rejection needs a reason")
    booked = request.method is ReturnMethod.MAILBOX_PICKUP
    if request.kind is NoticeKind.RETURN_LABEL and booked and request.pickup is None:
        raise InvalidNoticeRequest("pickup", "is required for a mailbox pickup label notice")


def template_context(
    request: NoticeRequest, lang: str, *, marketplace: str, portal_url: str
) -> dict[str, Any]:
    """Everything the templates of `request.kind` may show, formatted for the customer."""
    zone = local_zone(request.customer.address.country_code)
    facts: dict[str, Any] = {
        "lang": lang,
        "marketplace": marketplace,
        "customer_name": request.customer.name,
        "product_title": request.order.product.title,
        "price": format_money(request.order.product.price, lang),
        "order_id": request.order.order_id,
        "return_id": request.return_id,
        "ship_by": format_day(request.ship_by, zone, lang),
        "return_page": f"{portal_url.rstrip('/')}/{request.return_id}",
    }
    facts.update(_KIND_FACTS[request.kind](request, WORDINGS[lang], lang, zone))
    return facts


def carrier_name(request: NoticeRequest, code: str) -> str:
    """The name customers know a carrier by, from the offers in the request (else its code)."""
    return next((offer.name for offer in request.carriers if offer.code == code), code)


def _acknowledgement(
    request: NoticeRequest, words: Wording, lang: str, zone: ZoneInfo
) -> dict[str, Any]:
    return {"steps": list(words.next_steps)}


def _rejection(request: NoticeRequest, words: Wording, lang: str, zone: ZoneInfo) -> dict[str, Any]:
    assert request.decision is not None
    assert request.decision.reason is not None
    window_ends = format_day(request.decision.window_ends_at, zone, lang)
    return {"reason": words.reasons[request.decision.reason].format(window_ends=window_ends)}


def _return_address(
    request: NoticeRequest, words: Wording, lang: str, zone: ZoneInfo
) -> dict[str, Any]:
    assert request.return_address is not None
    category = request.order.product.category
    box = " \N{MULTIPLICATION SIGN} ".join(str(side) for side in BOX_SIZES_CM[category]) + " cm"
    deposit_before = format_time(MAILBOX_DEPOSIT_BEFORE, lang)
    offers = [
        {
            "name": offer.name,
            "methods": [
                {
                    "title": words.method_titles[method],
                    "steps": [
                        step.format(carrier=offer.name, deposit_before=deposit_before)
                        for step in words.method_steps[method]
                    ],
                }
                for method in offer.methods()
            ],
        }
        for offer in request.carriers
    ]
    return {
        "address_lines": request.return_address.lines(),
        "offers": [offer for offer in offers if offer["methods"]],
        "packaging": [
            tip.format(box=box, device=words.devices[category]) for tip in words.packaging
        ],
    }


def _return_label(
    request: NoticeRequest, words: Wording, lang: str, zone: ZoneInfo
) -> dict[str, Any]:
    assert request.label is not None
    carrier = carrier_name(request, request.label.carrier)
    pickup = request.pickup
    values = {"carrier": carrier, "ship_by": format_day(request.ship_by, zone, lang)}
    if pickup is not None:
        values |= {
            "pickup_date": format_date(pickup.pickup_date, lang),
            "deposit_before": format_time(pickup.deposit_before, lang),
            "confirmation": pickup.confirmation,
        }
    how = ReturnMethod.MAILBOX_PICKUP if pickup else ReturnMethod.POST_OFFICE_DROP_OFF
    return {
        "carrier_name": carrier,
        "tracking_number": request.label.tracking_number,
        "attachment": label_filename(request.label.tracking_number),
        "steps": [step.format(**values) for step in words.label_steps[how]],
    }


def _counter_code(
    request: NoticeRequest, words: Wording, lang: str, zone: ZoneInfo
) -> dict[str, Any]:
    assert request.counter_code is not None
    code = request.counter_code
    carrier = carrier_name(request, code.carrier)
    ship_by = format_day(request.ship_by, zone, lang)
    return {
        "carrier_name": carrier,
        "code": code.code,
        "code_expires": format_moment(code.expires_at, zone, lang),
        "tracking_number": code.tracking_number,
        "steps": [step.format(carrier=carrier, ship_by=ship_by) for step in words.counter_steps],
    }


def _pickup_confirmed(
    request: NoticeRequest, words: Wording, lang: str, zone: ZoneInfo
) -> dict[str, Any]:
    assert request.scan is not None
    return {
        "carrier_name": carrier_name(request, request.scan.carrier),
        "tracking_number": request.scan.tracking_number,
        "scanned_at": format_moment(request.scan.occurred_at, zone, lang),
        "scan_location": request.scan.location,
    }


def label_filename(tracking_number: str) -> str:
    return f"return-label-{tracking_number}.pdf"


_KIND_FACTS: dict[NoticeKind, Callable[[NoticeRequest, Wording, str, ZoneInfo], dict[str, Any]]] = {
    NoticeKind.ACKNOWLEDGEMENT: _acknowledgement,
    NoticeKind.REJECTION: _rejection,
    NoticeKind.RETURN_ADDRESS: _return_address,
    NoticeKind.RETURN_LABEL: _return_label,
    NoticeKind.COUNTER_CODE: _counter_code,
    NoticeKind.PICKUP_CONFIRMED: _pickup_confirmed,
}
