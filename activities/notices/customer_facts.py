"""The facts each customer notice shows, written for the customer (`context.check_complete`
has made sure the fields a kind needs are there)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from activities.notices.formats import (
    format_date,
    format_distance,
    format_money,
    format_opening_hours,
    format_time,
)
from activities.notices.view import View, carrier_name, refund_facts, scan_facts
from activities.notices.wording import WORDINGS, Wording
from domain.carriers import (
    CarrierOffer,
    LabelCostBearer,
    PostOffice,
    ReturnMethod,
    TrackingStatus,
)
from domain.events import DeviceCategory
from domain.notices import NoticeRequest
from domain.returns import AttentionReason

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

PROBLEM_STATUSES = frozenset({TrackingStatus.EXCEPTION, TrackingStatus.RETURNED_TO_SENDER})
"""The scans a shipment_problem notice is about."""


def acknowledgement(request: NoticeRequest, view: View) -> dict[str, Any]:
    return {
        "steps": list(view.words.next_steps),
        "expense": view.words.acknowledged_expense[request.label_paid_by],
    }


def rejection(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.decision is not None
    assert request.decision.reason is not None
    window_ends = view.day(request.decision.window_ends_at)
    return {"reason": view.words.reasons[request.decision.reason].format(window_ends=window_ends)}


def return_address(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.return_address is not None
    words = view.words
    category = request.order.product.category
    values = {"deposit_before": format_time(MAILBOX_DEPOSIT_BEFORE, view.lang)}
    refunded = request.refund is not None
    offers = []
    for offer in request.carriers:
        methods = [
            {
                "title": words.method_titles[method],
                "steps": way_steps(offer, method, words, values),
                "cost": label_cost(
                    offer, method, view.lang, paid_by=request.label_paid_by, refunded=refunded
                ),
            }
            for method in offer.methods()
        ]
        if methods:
            offers.append({"name": offer.name, "methods": methods})
    who_pays = own_expense(request.carriers, paid_by=request.label_paid_by, refunded=refunded)
    return {
        "acknowledges": request.acknowledges,
        "address_lines": request.return_address.lines(),
        "offers": offers,
        "own_expense": words.own_expense[who_pays],
        "packaging": packaging(category, words),
        # What the customer is owed, its delivery included (Art. 13(1)).
        "refund_owed": refund_facts(request, view)["refund_owed"],
        **nearby(request, view),
    }


def box_size(category: DeviceCategory) -> str:
    """A box that fits the device, its three sides in centimetres."""
    return " \N{MULTIPLICATION SIGN} ".join(str(side) for side in BOX_SIZES_CM[category]) + " cm"


def packaging(category: DeviceCategory, words: Wording) -> list[str]:
    """How to pack a device of `category`."""
    device = words.devices[category]
    return [tip.format(box=box_size(category), device=device) for tip in words.packaging]


def way_steps(
    offer: CarrierOffer, method: ReturnMethod, words: Wording, values: dict[str, str]
) -> list[str]:
    """How sending with `offer` by `method` works, step by step, before the customer chooses;
    `values` fill the steps' other fields (`deposit_before`, ...)."""
    steps = words.method_steps[method]
    if method is ReturnMethod.POST_OFFICE_COUNTER and not offer.has_counter_code:
        steps = words.counter_steps_without_code
    return [step.format(**{**values, "carrier": offer.name}) for step in steps]


def label_cost(
    offer: CarrierOffer,
    method: ReturnMethod,
    lang: str,
    *,
    paid_by: LabelCostBearer,
    refunded: bool,
) -> str | None:
    """What the label of `method` costs the customer, shown before they choose (Art. 14(1));
    nothing for a way of sending that buys none. Once the refund is requested (`refunded`),
    nothing more comes off it: every label is free."""
    if not offer.buys_label(method):
        return None
    costs = WORDINGS[lang].label_costs
    if paid_by is LabelCostBearer.SELLER:
        return costs["seller"]
    if offer.label_price is None or refunded:
        return costs["free"]
    return costs["customer"].format(price=format_money(offer.label_price, lang))


def own_expense(offers: Sequence[CarrierOffer], *, paid_by: LabelCostBearer, refunded: bool) -> str:
    """Whose expense the labels on offer are: `own_expense`'s key."""
    if paid_by is LabelCostBearer.SELLER:
        return "seller"
    priced = any(offer.label_price is not None for offer in offers)
    return "customer" if priced and not refunded else "free"


def return_label(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.label is not None
    carrier = carrier_name(request, request.label.carrier)
    pickup = request.pickup
    values = {"carrier": carrier, "ship_by": view.day(request.ship_by)}
    if pickup is not None:
        values |= {
            "pickup_date": format_date(pickup.pickup_date, view.lang),
            "deposit_before": format_time(pickup.deposit_before, view.lang),
            "confirmation": pickup.confirmation,
        }
    how = ReturnMethod.MAILBOX_PICKUP if pickup else ReturnMethod.POST_OFFICE_DROP_OFF
    return {
        "carrier_name": carrier,
        "tracking_number": request.label.tracking_number,
        "attachment": label_filename(request.label.tracking_number),
        "steps": [step.format(**values) for step in view.words.label_steps[how]],
        # A later revision follows a new choice: any label sent before no longer works.
        "replaces": request.revision > 1,
    }


def counter_code(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.counter_code is not None
    code = request.counter_code
    carrier = carrier_name(request, code.carrier)
    ship_by = view.day(request.ship_by)
    return {
        "carrier_name": carrier,
        "code": code.code,
        "code_expires": view.moment(code.expires_at),
        "tracking_number": code.tracking_number,
        "steps": [
            step.format(carrier=carrier, ship_by=ship_by) for step in view.words.counter_steps
        ],
    }


def pickup_confirmed(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.scan is not None
    return {
        **scan_facts(request, view),
        "scan_location": request.scan.location,
        **refund_facts(request, view),
    }


def counter_instructions(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.return_address is not None
    assert request.locator_carrier is not None
    carrier = carrier_name(request, request.locator_carrier)
    ship_by = view.day(request.ship_by)
    steps = view.words.counter_label_steps
    return {
        "carrier_name": carrier,
        "address_lines": request.return_address.lines(),
        "steps": [step.format(carrier=carrier, ship_by=ship_by) for step in steps],
        **nearby(request, view),
    }


def shipment_problem(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.scan is not None
    facts = scan_facts(request, view)
    key = problem_key(request)
    values = {
        "carrier": facts["carrier_name"],
        "tracking_number": facts["tracking_number"],
        "deposit_before": format_time(MAILBOX_DEPOSIT_BEFORE, view.lang),
    }
    return {
        **facts,
        "carrier_words": request.detail or request.scan.description,
        "problem": key,
        "steps": [step.format(**values) for step in view.words.problem_steps[key]],
    }


def problem_key(request: NoticeRequest) -> str:
    """Which problem the scan tells of: the parcel coming back, a missed mailbox pickup, or
    another exception."""
    assert request.scan is not None
    if request.scan.status is TrackingStatus.RETURNED_TO_SENDER:
        return "returned_to_sender"
    if request.method is ReturnMethod.MAILBOX_PICKUP:
        return "pickup_missed"
    return "exception"


def refund_requested(request: NoticeRequest, view: View) -> dict[str, Any]:
    """The refund requested once the parcel reached the seller, or at its legal deadline while
    the parcel is still on its way (`delivered` false)."""
    scan = request.scan
    return {
        "delivered": scan is not None and scan.status is TrackingStatus.DELIVERED,
        **refund_facts(request, view),
    }


def parcel_not_delivered(request: NoticeRequest, view: View) -> dict[str, Any]:
    """The parcel left (the proof of dispatch stands) but will not reach the seller: taken as
    lost, or going back to the customer."""
    assert request.scan is not None
    return {
        **scan_facts(request, view),
        "lost": request.attention == AttentionReason.PARCEL_LOST,
        **refund_facts(request, view),
    }


def refund_before_return(request: NoticeRequest, view: View) -> dict[str, Any]:
    """The refund requested before the goods left: kept by the customer, or still to be sent
    (the address to come, or the collection booked)."""
    pickup = request.pickup
    return {
        "keeps_goods": request.keeps_goods,
        "address_known": request.return_address is not None,
        "pickup_date": format_date(pickup.pickup_date, view.lang) if pickup else None,
        **refund_facts(request, view),
    }


def deduction_approved(request: NoticeRequest, view: View) -> dict[str, Any]:
    """What the seller found, the amount deducted and why (Art. 14(2))."""
    report = request.inspection
    assert report is not None and report.deduction is not None and report.reason is not None
    return {
        "found": view.words.inspection_outcomes[report.outcome],
        "deduction": view.money(report.deduction),
        "why": report.reason,
        "evidence_count": len(report.evidence),
        **refund_facts(request, view),
    }


def cancellation_confirmed(request: NoticeRequest, view: View) -> dict[str, Any]:
    return refund_facts(request, view)


def return_cancelled(request: NoticeRequest, view: View) -> dict[str, Any]:
    pickup = request.pickup
    return {
        "label_number": request.label.tracking_number if request.label else None,
        "pickup_date": format_date(pickup.pickup_date, view.lang) if pickup else None,
        "counter_code": request.counter_code.code if request.counter_code else None,
    }


def return_expired(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.expires_at is not None
    # A refund already requested (its deadline came before the goods left) is said, not denied.
    return {"expired_on": view.day(request.expires_at), **refund_facts(request, view)}


def shipping_reminder(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.expires_at is not None and request.reminder_day is not None
    values = {
        "carrier": carrier_name(request, request.chosen_carrier or ""),
        "deposit_before": format_time(MAILBOX_DEPOSIT_BEFORE, view.lang),
        "code": request.counter_code.code if request.counter_code else "",
    }
    if request.pickup is not None:
        values |= {
            "pickup_date": format_date(request.pickup.pickup_date, view.lang),
            "deposit_before": format_time(request.pickup.deposit_before, view.lang),
        }
    way = reminder_way(request)
    return {
        # Past ShipBy (on the customer's calendar) the email says so: the return is open
        # until it expires, the parcel is late.
        "overdue": request.reminder_day > request.ship_by.astimezone(view.zone).date(),
        "expires_on": view.day(request.expires_at),
        "chosen": way != "choose",
        "steps": [step.format(**values) for step in view.words.reminder_steps[way]],
    }


def reminder_way(request: NoticeRequest) -> str:
    """Which steps a shipping reminder gives: `choose`, the chosen method,
    `counter_without_code`, `pickup_today` (the reminder's day is the pickup's: its deposit time
    may have passed when the sweep runs), or `pickup_passed` (the mailbox pickup's day is behind
    the reminder's, and no scan has come: the return still waits in `awaiting_pickup`)."""
    if request.method is None:
        return "choose"
    pickup = request.pickup
    if (
        request.method is ReturnMethod.MAILBOX_PICKUP
        and pickup is not None
        and request.reminder_day is not None
    ):
        if pickup.gone_by(request.reminder_day):
            return "pickup_passed"
        if pickup.pickup_date == request.reminder_day:
            return "pickup_today"
    if request.method is ReturnMethod.POST_OFFICE_COUNTER and request.counter_code is None:
        return "counter_without_code"
    return request.method.value


def nearby(request: NoticeRequest, view: View) -> dict[str, Any]:
    """The nearest counters of the locator carrier, or only its name when none were found
    (the templates then say where to look instead)."""
    code = request.locator_carrier
    return {
        "locator_name": carrier_name(request, code) if code else None,
        "post_offices": [post_office(office, view.lang) for office in view.post_offices],
    }


def post_office(office: PostOffice, lang: str) -> dict[str, str | None]:
    """A counter as the customer reads it: name, address, distance, opening hours."""
    return {
        "name": office.name,
        "address": f"{office.line1}, {office.postal_code} {office.city}",
        "distance": (
            format_distance(office.distance_m, lang) if office.distance_m is not None else None
        ),
        "hours": format_opening_hours(office.opening_hours, lang) or None,
    }


def label_filename(tracking_number: str) -> str:
    return f"return-label-{tracking_number}.pdf"
