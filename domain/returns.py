"""A return's stages, the messages people send it, and the state it reports."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Self

from pydantic import AwareDatetime, Field, model_validator

from domain.addresses import PostalAddress
from domain.base import DomainModel, Identifier
from domain.carriers import CarrierOffer, CounterCode, Label, Pickup, ReturnMethod, TrackingScan
from domain.events import DeviceCategory

SHIPPING_PERIOD = dt.timedelta(days=14)
"""Directive 2011/83/EU Art. 14(1): the consumer sends the goods back within 14 days of the
withdrawal notice."""

REFUND_PERIOD = dt.timedelta(days=14)
"""Art. 13(1): the trader refunds within 14 days of being informed of the withdrawal."""


class ReturnStage(StrEnum):
    """Where a return stands. Kept current in the `ReturnStage` search attribute."""

    CHECKING_ELIGIBILITY = "checking_eligibility"
    REJECTED = "rejected"
    AWAITING_RETURN_ADDRESS = "awaiting_return_address"
    AWAITING_CUSTOMER_CHOICE = "awaiting_customer_choice"
    PREPARING_SHIPMENT = "preparing_shipment"
    AWAITING_PICKUP = "awaiting_pickup"
    AWAITING_DROP_OFF = "awaiting_drop_off"
    AWAITING_COUNTER_DROP_OFF = "awaiting_counter_drop_off"
    PICKED_UP = "picked_up"


AWAITING_SHIPMENT_STAGE: dict[ReturnMethod, ReturnStage] = {
    ReturnMethod.MAILBOX_PICKUP: ReturnStage.AWAITING_PICKUP,
    ReturnMethod.POST_OFFICE_DROP_OFF: ReturnStage.AWAITING_DROP_OFF,
    ReturnMethod.POST_OFFICE_COUNTER: ReturnStage.AWAITING_COUNTER_DROP_OFF,
}
"""The stage a return waits in for the carrier's first scan, by how the parcel leaves."""


class RejectionReason(StrEnum):
    """Why a withdrawal is not accepted as a return (machine-readable)."""

    OUTSIDE_RETURN_WINDOW = "outside_return_window"
    ORDER_NOT_SHIPPED = "order_not_shipped"
    ORDER_CANCELLED = "order_cancelled"


class EligibilityDecision(DomainModel):
    """Whether the line can be returned, and the sentence that tells the customer why."""

    accepted: bool
    reason: RejectionReason | None = None
    explanation: str = Field(description="One sentence for the customer.")
    window_ends_at: AwareDatetime = Field(description="Last moment the withdrawal was in time.")

    @model_validator(mode="after")
    def _reason_iff_rejected(self) -> Self:
        if self.accepted == (self.reason is not None):
            raise ValueError("reason is required when, and only when, accepted is false")
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
        pattern=r"^(seller|operations:[A-Za-z0-9][A-Za-z0-9._-]{0,63})$",
        description="Who gave it: 'seller', or 'operations:<staff id>' (an ID, not a name).",
    )


class TimelineEntry(DomainModel):
    """One thing that happened to a return. No personal data."""

    at: AwareDatetime
    actor: str = Field(description="system, customer, seller, carrier:<code> or operations:<who>")
    event: str


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
