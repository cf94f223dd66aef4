"""What a customer's return page shows, from the return's status and what was looked up for
it: plain data for the template, every date, amount and sentence in the page's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from activities.notices.customer_facts import (
    MAILBOX_DEPOSIT_BEFORE,
    label_cost,
    own_expense,
    packaging,
    post_office,
    way_steps,
)
from activities.notices.formats import (
    format_date,
    format_day,
    format_moment,
    format_money,
    format_time,
)
from activities.notices.wording import WORDINGS
from customer_page.wording import STAGE_NOW, WORDS
from domain.addresses import PostalAddress
from domain.calendar import counted_zone
from domain.carriers import CarrierOffer, LabelCostBearer, PostOffice, ReturnMethod
from domain.events import RetractEvent
from domain.money import refund_breakdown
from domain.returns import ReturnStage, ReturnStatus
from workflows.transitions import Message, refusal

STEP_VALUES = ("carrier", "deposit_before", "ship_by", "pickup_date", "confirmation")


@dataclass(frozen=True)
class Way:
    """One way of sending the parcel with one carrier, as the page offers it."""

    key: str
    """`<carrier>:<method>`: the form's value."""
    carrier: str
    carrier_name: str
    method: ReturnMethod
    title: str
    steps: list[str]
    cost: str | None
    chosen: bool
    pickup_days: list[tuple[str, str]] | None = field(default_factory=list)
    """(ISO date, the day as the customer reads it) a pickup can be booked for; None: the
    carrier could not be asked just now."""


@dataclass(frozen=True)
class Moment:
    when: str
    what: str


@dataclass
class ReturnPage:
    lang: str
    words: Mapping[str, str]
    title: str
    order_line: str
    stage: ReturnStage
    now: str
    deadline: str | None
    expiry: str | None
    return_address: list[str] | None
    address_pending: bool
    own_expense: str | None
    ways: list[Way]
    may_choose: bool
    may_report: bool
    may_cancel: bool
    carrier_offices: dict[str, list[dict[str, str | None]] | None]
    """Each carrier's nearest counters; None: the carrier could not be asked just now."""
    packaging: list[str]
    label_ready: bool
    pickup: str | None
    counter_code: str | None
    counter_help: str | None
    tracking_number: str | None
    refund: list[str]
    timeline: list[Moment]


def return_page(
    *,
    lang: str,
    status: ReturnStatus,
    event: RetractEvent,
    return_address: PostalAddress | None,
    pickup_days: Mapping[str, Sequence[dt.date] | None],
    offices: Mapping[str, Sequence[PostOffice] | None],
    label_paid_by: LabelCostBearer,
    now: dt.datetime,
) -> ReturnPage:
    words = WORDS[lang]
    notice_words = WORDINGS[lang]
    refunded = status.refund is not None
    zone = counted_zone(status.time_zone, event.customer.address.country_code)
    stage = status.stage
    may_choose = refusal(stage, Message.CHOOSE) is None and now < (
        status.expires_at or status.ship_by
    )
    may_report = refusal(stage, Message.REPORT_SHIPMENT) is None and status.method in (
        ReturnMethod.POST_OFFICE_COUNTER,
        ReturnMethod.POST_OFFICE_DROP_OFF,
    )
    may_cancel = refusal(stage, Message.CANCEL) is None and status.refund is None
    unshipped = stage in (
        ReturnStage.AWAITING_CUSTOMER_CHOICE,
        ReturnStage.PREPARING_SHIPMENT,
        ReturnStage.AWAITING_PICKUP,
        ReturnStage.AWAITING_DROP_OFF,
        ReturnStage.AWAITING_COUNTER_DROP_OFF,
    )

    def day(at: dt.datetime) -> str:
        return format_day(at, zone, lang)

    ship_by = day(status.ship_by)
    values = {
        "deposit_before": format_time(MAILBOX_DEPOSIT_BEFORE, lang),
        "ship_by": ship_by,
        "pickup_date": format_date(status.pickup.pickup_date, lang) if status.pickup else "",
        "confirmation": status.pickup.confirmation if status.pickup else "",
    }
    ways: list[Way] = []
    if may_choose or unshipped:
        for offer in status.carriers_offered:
            for method in offer.methods():
                ways.append(_way(offer, method, status, values, pickup_days, lang, label_paid_by))
    names = {offer.code: offer.name for offer in status.carriers_offered}
    carrier_offices = {
        names.get(code, code): [post_office(o, lang) for o in found] if found is not None else None
        for code, found in offices.items()
    }
    page = ReturnPage(
        lang=lang,
        words=words,
        title=words["return_title"],
        order_line=words["order"].format(
            order_id=status.order_id, product=event.order.product.title
        ),
        stage=stage,
        now=STAGE_NOW[lang][stage],
        deadline=words["ship_by"].format(day=ship_by) if unshipped else None,
        expiry=(
            words["expires"].format(day=day(status.expires_at))
            if unshipped and status.expires_at
            else None
        ),
        return_address=return_address.lines() if return_address else None,
        address_pending=stage is ReturnStage.AWAITING_RETURN_ADDRESS,
        own_expense=(
            notice_words.own_expense[
                own_expense(status.carriers_offered, paid_by=label_paid_by, refunded=refunded)
            ]
            if ways
            else None
        ),
        ways=ways,
        may_choose=may_choose,
        may_report=may_report,
        may_cancel=may_cancel,
        carrier_offices=carrier_offices if unshipped else {},
        packaging=packaging(event.order.product.category, notice_words) if unshipped else [],
        label_ready=status.label is not None and unshipped,
        pickup=(
            words[
                # Its day gone by with no scan (a missed pickup): not a day to wait for.
                "pickup_passed"
                if status.pickup.gone_by(now.astimezone(zone).date())
                else "pickup_booked"
            ].format(
                day=format_date(status.pickup.pickup_date, lang),
                time=format_time(status.pickup.deposit_before, lang),
                confirmation=status.pickup.confirmation,
            )
            if status.pickup and unshipped
            else None
        ),
        counter_code=status.counter_code.code if status.counter_code and unshipped else None,
        counter_help=(
            words["counter_code_help"].format(
                carrier=names.get(status.counter_code.carrier, status.counter_code.carrier),
                day=day(status.counter_code.expires_at),
            )
            if status.counter_code
            else None
        ),
        tracking_number=status.tracking_number,
        refund=_refund(status, event, lang, zone),
        timeline=_timeline(status, lang, zone),
    )
    return page


def _way(
    offer: CarrierOffer,
    method: ReturnMethod,
    status: ReturnStatus,
    values: dict[str, str],
    pickup_days: Mapping[str, Sequence[dt.date] | None],
    lang: str,
    paid_by: LabelCostBearer,
) -> Way:
    wording = WORDINGS[lang]
    days: list[tuple[str, str]] | None = []
    if method is ReturnMethod.MAILBOX_PICKUP:
        offered = pickup_days.get(offer.code, ())
        days = None if offered is None else [(d.isoformat(), format_date(d, lang)) for d in offered]
    return Way(
        key=f"{offer.code}:{method.value}",
        carrier=offer.code,
        carrier_name=offer.name,
        method=method,
        title=f"{offer.name}: {wording.method_titles[method]}",
        steps=way_steps(offer, method, wording, values),
        cost=label_cost(offer, method, lang, paid_by=paid_by, refunded=status.refund is not None),
        chosen=status.method is method and status.carrier == offer.code,
        pickup_days=days,
    )


def _refund(status: ReturnStatus, event: RetractEvent, lang: str, zone: ZoneInfo) -> list[str]:
    words = WORDS[lang]

    def day(at: dt.datetime) -> str:
        return format_day(at, zone, lang)

    if status.refund is not None:
        return [
            words["refund_requested"].format(
                amount=format_money(status.refund.amount, lang),
                day=day(status.refund.requested_at),
            ),
            words["refund_due"].format(day=day(status.refund_due_by)),
        ]
    if status.stage in (
        ReturnStage.REJECTED,
        ReturnStage.CANCELLED,
        ReturnStage.CANCELLED_BEFORE_SHIPMENT,
        ReturnStage.EXPIRED,
        ReturnStage.CLOSED,
        ReturnStage.CHECKING_ELIGIBILITY,
        ReturnStage.AWAITING_REVIEW,
    ):
        return []
    # The return's own figure: less the label the customer pays for, as the refund will be.
    owed = status.refund_owed or refund_breakdown(event.order).total
    return [
        words["refund_pending"].format(
            amount=format_money(owed, lang), day=day(status.refund_due_by)
        )
    ]


def _timeline(status: ReturnStatus, lang: str, zone: ZoneInfo) -> list[Moment]:
    words = WORDS[lang]

    def moment(at: dt.datetime) -> str:
        return format_moment(at, zone, lang)

    moments = [Moment(moment(status.notice_at), words["withdrawn"])]
    if status.label is not None:
        moments.append(Moment(moment(status.label.created_at), words["label_made"]))
    for scan in status.scans:
        what = words.get(f"scan_{scan.status.value}")
        if what:
            place = f" ({scan.location})" if scan.location else ""
            moments.append(Moment(moment(scan.occurred_at), what + place))
    if status.refund is not None:
        moments.append(
            Moment(
                moment(status.refund.requested_at),
                words["refund_requested"].format(
                    amount=format_money(status.refund.amount, lang),
                    day=format_day(status.refund.requested_at, zone, lang),
                ),
            )
        )
    return moments
