"""A return's stages, the messages people send it, and the state it reports."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Self

from pydantic import AwareDatetime, Field, model_validator

from domain.addresses import PostalAddress
from domain.base import OPERATIONS_ACTOR, DomainModel, Identifier, Money
from domain.carriers import CarrierOffer, CounterCode, Label, Pickup, ReturnMethod, TrackingScan
from domain.events import DeviceCategory
from domain.feed_plan import FeedPlan
from domain.inspection import Inspection
from domain.money import RefundBreakdown
from domain.periods import LegalCalendar
from domain.timings import ReturnTimings

SHIPPING_DAYS = 14
"""Directive 2011/83/EU Art. 14(1): the consumer sends the goods back within 14 days of the
withdrawal notice (counted as Regulation 1182/71 counts: `domain.periods`)."""

REFUND_DAYS = 14
"""Art. 13(1): the trader refunds within 14 days of being informed of the withdrawal."""

SHIPPING_PERIOD = dt.timedelta(days=SHIPPING_DAYS)
REFUND_PERIOD = dt.timedelta(days=REFUND_DAYS)
"""The same periods as instants (`notice + 14 days of 24 h`): how a return whose intake holds no
legal calendar counts, so that its recorded history replays as it ran."""


class ReturnStage(StrEnum):
    """Where a return stands. Kept current in the `ReturnStage` search attribute."""

    CHECKING_ELIGIBILITY = "checking_eligibility"
    REJECTED = "rejected"
    AWAITING_REVIEW = "awaiting_review"
    """The order service gave a status this version does not know: nobody has decided yet.
    Operations accept the withdrawal (`override_eligibility`) or end the return (`close`); they
    are reminded every review period until they do, and no clock ever rejects it."""
    AWAITING_RETURN_ADDRESS = "awaiting_return_address"
    AWAITING_CUSTOMER_CHOICE = "awaiting_customer_choice"
    PREPARING_SHIPMENT = "preparing_shipment"
    AWAITING_PICKUP = "awaiting_pickup"
    AWAITING_DROP_OFF = "awaiting_drop_off"
    AWAITING_COUNTER_DROP_OFF = "awaiting_counter_drop_off"
    PICKED_UP = "picked_up"
    """The carrier has the parcel (proof of dispatch): the return follows it to the seller
    (the refund requested at once by default). It ends here only when the parcel does not reach
    the seller (lost, or sent back to the customer), with operations told."""
    DELIVERED = "delivered"
    """Back with the seller, who reports what came back within the inspection period (silence
    means as sold); the return completes once the report is settled."""
    CANCELLED_BEFORE_SHIPMENT = "cancelled_before_shipment"
    """The order had not shipped: the seller was told to stop it, no parcel moves."""
    CANCELLED = "cancelled"
    """The customer cancelled the return before sending the parcel."""
    EXPIRED = "expired"
    """Not sent by the shipping deadline plus the grace period."""
    CLOSED = "closed"
    """Closed by operations, with a reason."""


FINAL_STAGES = frozenset(
    {
        ReturnStage.REJECTED,
        ReturnStage.PICKED_UP,
        ReturnStage.DELIVERED,
        ReturnStage.CANCELLED_BEFORE_SHIPMENT,
        ReturnStage.CANCELLED,
        ReturnStage.EXPIRED,
        ReturnStage.CLOSED,
    }
)
"""Stages a return can complete in (`picked_up` only once the refund is requested, `rejected`
once its review period is over): the workflow's result names one of them."""

ENDED_STAGES = frozenset(
    {
        ReturnStage.CANCELLED_BEFORE_SHIPMENT,
        ReturnStage.CANCELLED,
        ReturnStage.EXPIRED,
        ReturnStage.CLOSED,
    }
)
"""Stages that end a return without a parcel on its way: nothing booked with a carrier may stay
live in them (or `NeedsAttention` says why)."""


REMINDABLE_STAGES = frozenset(
    {
        ReturnStage.AWAITING_CUSTOMER_CHOICE,
        ReturnStage.AWAITING_PICKUP,
        ReturnStage.AWAITING_DROP_OFF,
        ReturnStage.AWAITING_COUNTER_DROP_OFF,
    }
)
"""Unshipped returns whose next move is the customer's (choose a way, send the parcel): the ones
a shipping reminder is for. Not `awaiting_return_address`: the customer has no address to send
the parcel to yet, so a reminder would ask for the impossible (the seller is the one chased,
in the seller chat); not `preparing_shipment`: the label or code is on its way to them."""


AWAITING_SHIPMENT_STAGE: dict[ReturnMethod, ReturnStage] = {
    ReturnMethod.MAILBOX_PICKUP: ReturnStage.AWAITING_PICKUP,
    ReturnMethod.POST_OFFICE_DROP_OFF: ReturnStage.AWAITING_DROP_OFF,
    ReturnMethod.POST_OFFICE_COUNTER: ReturnStage.AWAITING_COUNTER_DROP_OFF,
}
"""The stage a return waits in for the carrier's first scan, by how the parcel leaves."""


class RejectionReason(StrEnum):
    """Why a withdrawal is not accepted as a return (machine-readable)."""

    OUTSIDE_RETURN_WINDOW = "outside_return_window"
    ORDER_CANCELLED = "order_cancelled"
    ALREADY_BEING_RETURNED = "already_being_returned"
    ALREADY_RETURNED = "already_returned"
    UNKNOWN_ORDER_STATUS = "unknown_order_status"
    NOT_RETURNABLE = "not_returnable"


class RefundReason(StrEnum):
    WITHDRAWAL = "withdrawal"
    """Goods sent back under the right of withdrawal."""
    CANCELLED_BEFORE_SHIPMENT = "cancelled_before_shipment"
    """The order was withdrawn from before it shipped."""
    WITHOUT_RETURN = "refunded_without_return"
    """Operations refunded the customer without the goods coming back (the seller never gave
    a return address)."""


class EligibilityDecision(DomainModel):
    """Whether the line can be returned, and the sentence that tells the customer why."""

    accepted: bool
    cancellation: bool = Field(
        default=False,
        description="Accepted as a cancellation: the order has not shipped, nothing to send back.",
    )
    reason: RejectionReason | None = None
    explanation: str = Field(description="One sentence for the customer.")
    window_ends_at: AwareDatetime = Field(description="Last moment the withdrawal was in time.")
    overridden_by: str | None = Field(
        default=None, description="The operations staff member who overrode a rejection."
    )

    @property
    def awaits_review(self) -> bool:
        """Nothing decided: an order status this version does not know, for operations to
        review (the withdrawal is taken, its return waits in `awaiting_review`)."""
        return self.reason is RejectionReason.UNKNOWN_ORDER_STATUS

    @model_validator(mode="after")
    def _reason_iff_rejected(self) -> Self:
        if self.accepted == (self.reason is not None):
            raise ValueError("reason is required when, and only when, accepted is false")
        if self.cancellation and not self.accepted:
            raise ValueError("a cancellation is an accepted withdrawal")
        return self


class ReturnMethodChoice(DomainModel):
    """The customer's choice of how to send the parcel back (update `choose_return_method`)."""

    method: ReturnMethod
    carrier: Identifier = Field(description="Code of one of the carriers offered.")
    pickup_date: dt.date | None = Field(
        default=None, description="Mailbox pickup only: the day the carrier collects."
    )
    pickup_address: PostalAddress | None = Field(
        default=None, description="Mailbox pickup only: if not the customer's home address."
    )

    @model_validator(mode="after")
    def _pickup_fields_match_method(self) -> Self:
        pickup = self.method is ReturnMethod.MAILBOX_PICKUP
        if pickup and self.pickup_date is None:
            raise ValueError("pickup_date is required for a mailbox_pickup")
        if not pickup and (self.pickup_date or self.pickup_address):
            raise ValueError("pickup_date and pickup_address are only for a mailbox_pickup")
        return self


class ReturnAddressReply(DomainModel):
    """The seller's return address, given by the seller or by operations (update)."""

    address: PostalAddress
    given_by: str = Field(
        pattern=rf"^(seller|{OPERATIONS_ACTOR})$",
        description="Who gave it: 'seller', or 'operations:<staff id>' (an ID, not a name).",
    )


class ShipmentReport(DomainModel):
    """The customer sent the parcel at the counter and gives its tracking number (update)."""

    tracking_number: str = Field(
        min_length=8,
        max_length=40,
        pattern=r"^[A-Za-z0-9]+$",
        description="As printed on the counter receipt: 8 to 40 letters and digits.",
    )


class CancelRequest(DomainModel):
    """The customer no longer wants to send the goods back (update `cancel`)."""

    reason: str | None = Field(
        default=None, max_length=500, description="Optional, in the customer's words."
    )


ORIGIN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$"
"""Who asks for a shipping reminder, as a return's timeline records it: IDs only."""


class ShippingReminder(DomainModel):
    """Remind the customer to send the parcel (signal `remind_to_ship`, from the reminder
    sweep). A return sends at most one reminder a day, and none where the customer cannot act."""

    day: dt.date = Field(
        description="The reminder's calendar day in the reminder time zone "
        "(RETURNFLOW_REMINDER_TIME_ZONE): a second reminder for the same day is skipped."
    )
    origin: str = Field(
        pattern=ORIGIN_PATTERN,
        description="Who asks, recorded in the return's timeline: the sweep's "
        "'<workflow id>/<run id>', or 'operations:<staff id>' (IDs only, no names).",
    )


class AttentionReason(StrEnum):
    """Why a return needs operations (its `attention` list, the `NeedsAttention` attribute).

    A listed reason is its value, or `value:argument` for the reasons about one thing (a
    carrier, a notice kind): `carrier_credentials_refused:colissimo`.
    """

    SELLER_ADDRESS_MISSING = "seller_return_address_missing"
    """The seller gave no return address after the request, the reminder and the escalation
    delay (operations are emailed)."""
    CARRIER_REJECTED_REQUEST = "carrier_rejected_request"
    """The carrier refused our data for a choice (4xx)."""
    CARRIER_CREDENTIALS_REFUSED = "carrier_credentials_refused"
    """The carrier (argument) refused our credentials (401/403)."""
    SHIPMENT_PREPARATION_FAILED = "shipment_preparation_failed"
    """Preparing a choice failed with an unexpected error."""
    CARRIER_NOT_ANSWERING = "carrier_not_answering"
    """Several choices in a row went unanswered by the carrier (argument) within the bound
    (operations are emailed)."""
    CHOICE_CHANGES_EXHAUSTED = "choice_changes_exhausted"
    """The customer changed their mind more often than allowed (operations are emailed)."""
    CARRIER_EXCEPTION = "carrier_exception"
    """The carrier reported a problem with the parcel (operations are emailed)."""
    NOTICE_UNDELIVERABLE = "notice_undeliverable"
    """An email of the kind (argument) was refused for good."""
    UNKNOWN_ORDER_STATUS = "eligibility_unknown_order_status"
    """The order's status is unknown to this version: the return waits in `awaiting_review`
    for operations to decide (they are emailed, and reminded every review period)."""
    CARRIER_POLLING_FAILED = "carrier_polling_failed"
    """The carrier refused the polling for good."""
    REFUND_REQUEST_FAILED = "refund_request_failed"
    """The order service refused the refund request for good."""
    CARRIER_CANCELLATION_FAILED = "carrier_cancellation_failed"
    """A pickup could not be cancelled, or a label voided, for good."""
    LATE_PARCEL = "late_parcel"
    """The parcel was sent after the return expired: it is back on the refund path, and
    operations are emailed (the seller may have a claim for the delay)."""
    CARRIER_CALL_UNANSWERED = "carrier_call_unanswered"
    """A carrier call on the choice path went unanswered within the bound, and the return
    ended without learning whether the label, pickup or code exists."""
    PARCEL_LOST = "parcel_lost"
    """The parcel left but no delivery scan came within RETURNFLOW_DELIVERY_OVERDUE: operations
    open an inquiry with the carrier (the customer is told)."""
    PARCEL_RETURNED = "parcel_returned_to_customer"
    """After leaving, the parcel is going back to the customer: operations settle it with them
    (the customer is told)."""
    DEDUCTION_TO_APPROVE = "deduction_to_approve"
    """The seller reported goods back damaged or incomplete and asks a deduction (Art. 14(2)):
    operations approve or decline it."""
    REFUND_DUE_WITHOUT_ADDRESS = "refund_due_without_address"
    """The refund deadline nears and the seller has still given no return address: operations
    give a fallback address or refund without a return (emailed); at the deadline the refund is
    requested anyway (Art. 13(1))."""
    REFUNDED_NOT_RETURNED = "refunded_goods_not_returned"
    """The return expired after the refund was requested (the refund deadline came before the
    goods left): the goods are still with the customer (operations are emailed)."""
    CLAIM_FAILED = "claim_failed"
    """The order service refused for good the claim of an approved deduction."""
    INSPECTION_DISPUTE = "inspection_dispute"
    """The seller reported the device still locked to the customer's account, or another
    device than the one sold: operations settle it with both sides."""

    def about(self, argument: str | None = None) -> str:
        """The code listed in `attention`: the value, with its argument if it has one."""
        return f"{self.value}:{argument}" if argument else self.value

    @classmethod
    def of(cls, code: str) -> AttentionReason | None:
        """The reason of a listed code (its part before ':'); None for a code not known here."""
        reason = code.partition(":")[0]
        return cls(reason) if reason in cls._value2member_map_ else None

    @classmethod
    def label(cls, code: str) -> str:
        """A listed code's reason without its detail, `other` for one not known here: what the
        `AttentionReasons` attribute and the metrics show."""
        reason = cls.of(code)
        return reason.value if reason is not None else "other"


class AttentionAction(StrEnum):
    """What operations can do about a return that needs them (update `resolve_attention`)."""

    RETRY = "retry"
    """Run the failed step again: a notice not delivered, a shipment not prepared."""
    GIVE_ADDRESS = "give_address"
    """Give the seller's return address on the seller's behalf."""
    OVERRIDE_ELIGIBILITY = "override_eligibility"
    """Accept a rejected withdrawal anyway."""
    CLOSE = "close"
    """End the return here (handled outside returnflow, customer withdrew by phone, ...)."""
    REFUND_WITHOUT_RETURN = "refund_without_return"
    """Refund the customer now and let them keep the goods (the seller gave no address)."""
    APPROVE_DEDUCTION = "approve_deduction"
    """Approve the seller's deduction: the customer is told, and it is claimed from the refund."""
    DECLINE_DEDUCTION = "decline_deduction"
    """Decline the seller's deduction: the refund stands whole."""


class AttentionResolution(DomainModel):
    """An operations action on a return, recorded with who did it and why."""

    action: AttentionAction
    by: str = Field(
        pattern=rf"^{OPERATIONS_ACTOR}$",
        description="'operations:<staff id>' (an ID, not a name).",
    )
    reason: str = Field(
        min_length=3, max_length=500, description="Why: kept in the return's timeline."
    )
    address: PostalAddress | None = Field(
        default=None, description="give_address only: the seller's return address."
    )

    @model_validator(mode="after")
    def _address_iff_given(self) -> Self:
        giving = self.action is AttentionAction.GIVE_ADDRESS
        if giving and self.address is None:
            raise ValueError("address is required for give_address")
        if not giving and self.address is not None:
            raise ValueError("address is only for give_address")
        return self


class RefundRequest(DomainModel):
    """Ask the order service to refund the line (idempotent by key)."""

    idempotency_key: str
    return_id: str
    order_id: Identifier
    line_id: Identifier
    amount: Money = Field(description="The total refunded: the breakdown's total.")
    breakdown: RefundBreakdown | None = Field(
        default=None, description="The refund part by part: goods and delivery."
    )
    reason: RefundReason
    due_by: AwareDatetime = Field(description="Art. 13(1): 14 days after the withdrawal notice.")


class Refund(DomainModel):
    """What the order service answered: the refund it recorded."""

    refund_id: Identifier
    requested_at: AwareDatetime
    amount: Money
    created: bool = Field(description="False when the key had been used already.")


class TimelineEntry(DomainModel):
    """One thing that happened to a return. No personal data."""

    at: AwareDatetime
    actor: str = Field(description="system, customer, seller, carrier:<code> or operations:<who>")
    event: str
    update_id: str | None = Field(
        default=None,
        description="The update this entry answers: every update a return accepted has one.",
    )


class ActionResult(DomainModel):
    """What an update answers once the return has acted on it: small on purpose (the whole
    state is the `status` query's). The choice's answer carries what the customer needs next."""

    stage: ReturnStage
    label: Label | None = None
    pickup: Pickup | None = None
    counter_code: CounterCode | None = None
    tracking_number: Identifier | None = None
    ship_by: AwareDatetime | None = Field(
        default=None, description="The effective shipping deadline, once the address is out."
    )
    attention: list[str] = Field(default_factory=list)
    note: str | None = Field(
        default=None, description="What the action did when it did nothing visible."
    )


class ReturnStatus(DomainModel):
    """Everything about a return, as the `status` query reports it (no personal data)."""

    return_id: str
    order_id: Identifier
    line_id: Identifier
    seller_id: Identifier
    product_category: DeviceCategory
    stage: ReturnStage
    notice_at: AwareDatetime = Field(description="When the customer withdrew.")
    ship_by: AwareDatetime = Field(description="Customer's deadline to send the goods (Art. 14).")
    refund_due_by: AwareDatetime = Field(description="Refund deadline (Art. 13(1)).")
    time_zone: str | None = Field(
        default=None,
        description="The customer's time zone as the return counts their days; absent: their "
        "country's mainland zone.",
    )
    expires_at: AwareDatetime | None = Field(
        default=None,
        description="When an unshipped return ends expired: ShipBy plus the grace (later when "
        "the seller's address reached the customer late).",
    )
    refund: Refund | None = None
    refund_owed: Money | None = Field(
        default=None,
        description="What the customer is refunded (Art. 13(1)): the price and the standard "
        "delivery, less the label or counter code they pay for once their choice has one; once "
        "the refund is requested, what was requested.",
    )
    inspection: Inspection | None = Field(
        default=None, description="Once the parcel is back: the seller's report and its outcome."
    )
    eligibility: EligibilityDecision | None = None
    carriers_offered: list[CarrierOffer] = Field(default_factory=list)
    method: ReturnMethod | None = None
    carrier: Identifier | None = None
    label: Label | None = None
    pickup: Pickup | None = None
    counter_code: CounterCode | None = None
    tracking_number: Identifier | None = None
    scans: list[TrackingScan] = Field(default_factory=list)
    problem: str | None = Field(default=None, description="What went wrong last, if anything.")
    attention: list[str] = Field(
        default_factory=list,
        description="Why operations are needed (the NeedsAttention search attribute), if at all.",
    )
    timeline: list[TimelineEntry] = Field(default_factory=list)


class ReturnIntake(DomainModel):
    """What a return learns on the worker when it starts, in one local activity: its clocks,
    the eligibility decision, the seller's address on file and the carriers on offer."""

    timings: ReturnTimings
    decision: EligibilityDecision
    return_address: PostalAddress | None = None
    offers: list[CarrierOffer] = Field(default_factory=list)
    calendar: LegalCalendar | None = Field(
        default=None,
        description="The customer's country's working days, for the return's legal periods.",
    )
    feed: FeedPlan | None = Field(
        default=None, description="Who the return's events go to; none: no event feed."
    )


class AcceptanceLookups(DomainModel):
    """What a return rejected at first needs once operations accept it: the seller's address on
    file and the carriers on offer, read on the worker in one local activity."""

    return_address: PostalAddress | None = None
    offers: list[CarrierOffer] = Field(default_factory=list)
