"""The configurable clocks of a return, fixed when it starts (the worker's settings), and
when its refund is requested."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field

from domain.base import DomainModel
from domain.carriers import LabelCostBearer


class RefundTrigger(StrEnum):
    """When the refund is requested (Art. 13(3): the trader may wait for the earlier of the
    goods being back and proof of dispatch)."""

    DISPATCH_PROOF = "dispatch_proof"
    """At the carrier's first acceptance scan (the earlier of the two, usually)."""
    DELIVERY = "delivery"
    """When the parcel is back with the seller, or at the refund deadline if that is first."""


class ReturnTimings(DomainModel):
    """The configurable clocks of a return, read once when it starts (a worker setting)."""

    seller_reminder_after: dt.timedelta = Field(
        gt=dt.timedelta(0),
        default=dt.timedelta(days=2),
        description="Remind a seller who has not given an address.",
    )
    escalate_after: dt.timedelta = Field(
        gt=dt.timedelta(0),
        default=dt.timedelta(days=2),
        description="After the reminder, tell operations the seller has not answered.",
    )
    scan_overdue_after: dt.timedelta = Field(
        gt=dt.timedelta(0),
        default=dt.timedelta(hours=12),
        description="After the pickup time (or a reported shipment), poll the carrier if no "
        "scan has arrived.",
    )
    poll_interval: dt.timedelta = Field(
        gt=dt.timedelta(0),
        default=dt.timedelta(hours=6),
        description="Between two polls of the carrier.",
    )
    expiry_grace: dt.timedelta = Field(
        ge=dt.timedelta(0),
        default=dt.timedelta(days=3),
        description="After ShipBy, before an unshipped return ends.",
    )
    late_parcel_watch: dt.timedelta = Field(
        ge=dt.timedelta(0),
        default=dt.timedelta(days=30),
        description="After expiring, how long a return whose parcel has a tracking number "
        "listens for a late dispatch (Art. 14(1) breached, the refund still owed).",
    )
    refund_trigger: RefundTrigger = RefundTrigger.DISPATCH_PROOF
    label_paid_by: LabelCostBearer = Field(
        default=LabelCostBearer.CUSTOMER,
        description="Who pays for a return label the marketplace buys: the customer (its "
        "price, shown before they choose, is withheld from the refund) or the seller.",
    )
    refund_decision_before: dt.timedelta = Field(
        gt=dt.timedelta(0),
        default=dt.timedelta(days=3),
        description="How long before the refund deadline operations are asked to decide on a "
        "return whose seller has still given no address.",
    )
    refund_request_ahead: dt.timedelta = Field(
        gt=dt.timedelta(0),
        default=dt.timedelta(days=1),
        description="How long before the refund deadline a refund the deadline itself calls "
        "for is requested, so that it is paid within it (Art. 13(1)).",
    )
    delivery_overdue: dt.timedelta = Field(
        gt=dt.timedelta(0),
        default=dt.timedelta(days=21),
        description="After the proof of dispatch, how long the parcel may take to reach the "
        "seller before it is taken as lost (operations and the customer are told).",
    )
    inspection_period: dt.timedelta = Field(
        gt=dt.timedelta(0),
        default=dt.timedelta(days=7),
        description="After delivery, how long the seller has to report what came back; "
        "silence means as sold.",
    )
    rejection_review: dt.timedelta = Field(
        gt=dt.timedelta(0),
        default=dt.timedelta(days=14),
        description="How long a rejected return stays open for operations to override it; "
        "how often operations are reminded of a return awaiting their review.",
    )
    carrier_answer_within: dt.timedelta = Field(
        gt=dt.timedelta(0),
        default=dt.timedelta(minutes=3),
        description="How long the carrier calls of one choice (label, pickup, counter code) may "
        "take in all, retries included, before the choice is refused as unanswered.",
    )
    max_choice_changes: int = Field(
        ge=0,
        default=5,
        description="How many times the customer may change their mind after a first choice "
        "went through; past it, operations decide.",
    )
