"""The emails a return sends, and what each one needs to say."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import AwareDatetime, Field

from domain.addresses import PostalAddress
from domain.base import DomainModel, Email, Identifier, Locale, Money, ShortText
from domain.carriers import (
    CarrierOffer,
    CounterCode,
    Label,
    LabelCostBearer,
    Pickup,
    ReturnMethod,
    TrackingScan,
)
from domain.events import Customer, Order
from domain.inspection import InspectionReport
from domain.returns import EligibilityDecision, Refund


class NoticeKind(StrEnum):
    """One kind of email, sent at most once per return (its Message-ID says so)."""

    ACKNOWLEDGEMENT = "acknowledgement"
    """Withdrawal accepted: what happens next and the shipping deadline (Art. 11(3))."""
    REJECTION = "rejection"
    """Withdrawal not accepted as a return, and why."""
    RETURN_ADDRESS = "return_address"
    """The seller's return address and the ways to send the parcel back."""
    RETURN_LABEL = "return_label"
    """The prepaid label (PDF attached), with the pickup booking or drop-off instructions."""
    COUNTER_CODE = "counter_code"
    """The code to show at the post office counter."""
    PICKUP_CONFIRMED = "pickup_confirmed"
    """The carrier has the parcel: the proof of dispatch (and, when the refund is requested on
    proof of dispatch, the refund under way)."""
    COUNTER_INSTRUCTIONS = "counter_instructions"
    """Counter option with a carrier that has no counter code: what to bring, and how to report
    the tracking number from the counter receipt."""
    SHIPMENT_PROBLEM = "shipment_problem"
    """The carrier reported a problem (pickup failed, parcel returned): what to do now."""
    REFUND_REQUESTED = "refund_requested"
    """The goods are back with the seller and the refund is requested (refund on delivery)."""
    CANCELLATION_CONFIRMED = "cancellation_confirmed"
    """The order had not shipped: it is cancelled and refunded, nothing to send back."""
    RETURN_CANCELLED = "return_cancelled"
    """The customer cancelled the return: the label is void, the pickup cancelled."""
    RETURN_EXPIRED = "return_expired"
    """The parcel was not sent by the deadline plus the grace period: the return has ended."""
    PARCEL_NOT_DELIVERED = "parcel_not_delivered"
    """The parcel left but did not reach the seller (taken as lost, or going back to the
    customer): what happens now."""
    REFUND_BEFORE_RETURN = "refund_before_return"
    """The refund is requested before the goods have left: the refund deadline came while the
    seller's address was missing, or while the collection the marketplace booked was still to
    come (Art. 13(3)), or operations refunded without a return (`keeps_goods`)."""
    DEDUCTION_APPROVED = "deduction_approved"
    """The seller found the goods damaged or incomplete and operations approved a deduction:
    the amount, the reason, and how it is taken from the refund (Art. 14(2))."""
    SHIPPING_REMINDER = "shipping_reminder"
    """The parcel is not sent yet: by when to send it, how (for the chosen way, or choose one),
    and when the return ends. At most one a day, from the reminder sweep; each is a revision."""

    SELLER_STOP_SHIPMENT = "seller_stop_shipment"
    """To the seller: the customer withdrew before shipment, do not ship the order."""
    SELLER_PARCEL_INBOUND = "seller_parcel_inbound"
    """To the seller: a returned parcel is on its way, with its tracking number."""
    SELLER_PARCEL_DELIVERED = "seller_parcel_delivered"
    """To the seller: the returned parcel was delivered to the return address."""
    SELLER_RETURN_CANCELLED = "seller_return_cancelled"
    """To the seller: the customer cancelled the return, no parcel is coming."""
    SELLER_RETURN_EXPIRED = "seller_return_expired"
    """To the seller: the customer did not send the parcel in time, the return has ended."""

    OPERATIONS_ATTENTION = "operations_attention"
    """To operations: a return needs a person (seller silent, step failed), with the reason."""

    @property
    def audience(self) -> Audience:
        if self.value.startswith("seller_"):
            return Audience.SELLER
        if self.value.startswith("operations_"):
            return Audience.OPERATIONS
        return Audience.CUSTOMER


class Audience(StrEnum):
    """Who a notice is for: the customer (event's email), the seller (the directory's contact
    email) or operations (the configured team address)."""

    CUSTOMER = "customer"
    SELLER = "seller"
    OPERATIONS = "operations"


class NoticeRequest(DomainModel):
    """Send one notice of a return to its customer. The facts a kind does not need stay empty."""

    kind: NoticeKind
    return_id: str
    customer: Customer
    order: Order
    ship_by: AwareDatetime
    time_zone: str | None = Field(
        default=None,
        description="The customer's time zone as the return counts their days (its calendar's); "
        "absent: their country's mainland zone.",
    )
    decision: EligibilityDecision | None = None
    return_address: PostalAddress | None = None
    carriers: list[CarrierOffer] = Field(default_factory=list)
    method: ReturnMethod | None = None
    label: Label | None = None
    pickup: Pickup | None = None
    counter_code: CounterCode | None = None
    scan: TrackingScan | None = None
    acknowledges: bool = Field(
        default=False,
        description="return_address only: the email is also the acknowledgement (Art. 11(3)), "
        "sent when the seller's address was on file at once.",
    )
    locator_carrier: str | None = Field(
        default=None,
        description="return_address and counter_instructions: the carrier whose nearest post "
        "offices are listed (for the address, the customer's preferred one, else the first "
        "offered with a locator; for the counter, the chosen one).",
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the unshipped return ends (reminders, expiry)."
    )
    chosen_carrier: Identifier | None = Field(
        default=None,
        description="shipping_reminder: the carrier the customer chose, if they have chosen "
        "(a counter without a code has no label or code to name it).",
    )
    reminder_day: dt.date | None = Field(
        default=None,
        description="shipping_reminder: the reminder's day (past ShipBy, the email says the "
        "deadline has passed). Fixed by the return, so a retry writes the same email.",
    )
    refund: Refund | None = Field(
        default=None, description="The refund requested, when the notice tells of it."
    )
    refund_due_by: AwareDatetime | None = None
    label_paid_by: LabelCostBearer = Field(
        default=LabelCostBearer.CUSTOMER,
        description="Who pays for a label the marketplace buys (return_address shows it with "
        "each carrier's price).",
    )
    label_withheld: Money | None = Field(
        default=None,
        description="The label's price withheld from the refund (Art. 14(1)), once the "
        "customer's choice bought one they pay for.",
    )
    attention: str | None = Field(
        default=None,
        description="operations_attention: the reason code operations need; "
        "parcel_not_delivered: why (parcel_lost or parcel_returned_to_customer).",
    )
    keeps_goods: bool = Field(
        default=False,
        description="refund_before_return: the customer need not send the goods back.",
    )
    inspection_due_by: AwareDatetime | None = Field(
        default=None, description="seller_parcel_delivered: by when the seller reports."
    )
    inspection: InspectionReport | None = Field(
        default=None, description="deduction_approved: the seller's report and its deduction."
    )
    detail: str | None = Field(
        default=None,
        max_length=500,
        description="A short free sentence: the carrier's words on a problem, a reason.",
    )
    revision: int = Field(
        default=1, ge=1, description="Bumped when a notice legitimately goes out again."
    )


class NoticeReceipt(DomainModel):
    """What was sent: the Message-ID, which a retry reuses."""

    message_id: str
    sent: bool = Field(description="False when an earlier attempt had already sent it.")


class NoticeBatch(DomainModel):
    """Notices about the same moment of a return, sent by one activity (one action): the
    customer's and the seller's emails when the parcel is picked up, for instance. Each keeps
    its own Message-ID; a retry sends only those not sent yet."""

    notices: list[NoticeRequest] = Field(min_length=1, max_length=5)


class SellerChatKind(StrEnum):
    ADDRESS_REQUEST = "address_request"
    """Asks the seller for the return address, in the seller chat."""
    ADDRESS_REMINDER = "address_reminder"
    """Reminds the seller who has not answered the request."""


class SellerChatMessage(DomainModel):
    """A message to the seller in the marketplace's seller chat (idempotent by message_id)."""

    message_id: str = Field(description="Derived from the return and the step: a retry keeps it.")
    kind: SellerChatKind
    return_id: str
    seller_id: Identifier
    order_id: Identifier
    line_id: Identifier
    reply_by: AwareDatetime | None = Field(
        default=None, description="When the request is escalated to operations if unanswered."
    )


class SellerContact(DomainModel):
    """How the seller gets email notices. Business data, not a private person's."""

    seller_id: Identifier
    display_name: ShortText
    email: Email
    locale: Locale = "fr"
