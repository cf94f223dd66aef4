"""How one notice is written for its reader: language, clock, and what was looked up for it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from activities.notices.formats import format_day, format_moment, format_money
from activities.notices.wording import WORDINGS, Wording
from domain.base import Money
from domain.carriers import PostOffice
from domain.money import RefundBreakdown, refund_breakdown
from domain.notices import NoticeRequest


@dataclass(frozen=True)
class View:
    """The reader's terms: dates in their zone and language, greeted by their name."""

    lang: str
    zone: ZoneInfo
    reader: str = ""
    """The name in the greeting: the customer's, the seller's display name; none for operations."""
    post_offices: Sequence[PostOffice] = ()
    """The nearest counters of `request.locator_carrier`, when the lookup answered."""
    workflow_link: str = ""
    """The return's page in the Temporal Web UI (operations notices)."""

    @property
    def words(self) -> Wording:
        return WORDINGS[self.lang]

    def day(self, at: dt.datetime) -> str:
        return format_day(at, self.zone, self.lang)

    def moment(self, at: dt.datetime) -> str:
        """A time of day says its zone when it falls back to UTC (a reader we cannot place)."""
        written = format_moment(at, self.zone, self.lang)
        return f"{written} UTC" if self.zone.key == "UTC" else written

    def money(self, money: Money) -> str:
        return format_money(money, self.lang)


def carrier_name(request: NoticeRequest, code: str) -> str:
    """The name people know a carrier by, from the offers in the request (else its code)."""
    return next((offer.name for offer in request.carriers if offer.code == code), code)


def scan_facts(request: NoticeRequest, view: View) -> dict[str, str]:
    """The carrier's scan a notice tells of: who scanned which parcel, when."""
    assert request.scan is not None
    return {
        "carrier_name": carrier_name(request, request.scan.carrier),
        "tracking_number": request.scan.tracking_number,
        "scanned_at": view.moment(request.scan.occurred_at),
    }


def refund_facts(request: NoticeRequest, view: View) -> dict[str, str | None]:
    """The refund requested, when the notice tells of it (`refund_due_by` comes with it): its
    amount with its parts when delivery is refunded too (`refund_amount`), and what the customer
    is owed before it is requested (`refund_owed`)."""
    refund, due_by = request.refund, request.refund_due_by
    owed = refund_breakdown(request.order, request.label_withheld)
    requested = None
    if refund is not None:
        same = refund.amount == owed.total
        requested = _with_parts(owed, view) if same else view.money(refund.amount)
    return {
        "refund_amount": requested,
        "refund_owed": _with_parts(owed, view),
        "refund_due_by": view.day(due_by) if due_by else None,
    }


def _with_parts(owed: RefundBreakdown, view: View) -> str:
    """The total, and its parts when there is more than the goods: the delivery refunded, the
    label withheld."""
    goods_and_delivery = Money(
        amount=owed.goods.amount + owed.delivery.amount, currency=owed.total.currency
    )
    before_label = view.money(goods_and_delivery)
    if owed.delivery.amount:
        before_label = view.words.refund_parts.format(
            total=before_label,
            goods=view.money(owed.goods),
            delivery=view.money(owed.delivery),
        )
    if owed.label is None:
        return before_label
    return view.words.refund_less_label.format(
        total=view.money(owed.total), owed=before_label, label=view.money(owed.label)
    )
