"""The emails a return sends, and what each one needs to say."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from domain.addresses import PostalAddress
from domain.base import DomainModel
from domain.carriers import CarrierOffer, CounterCode, Label, Pickup, ReturnMethod, TrackingScan
from domain.events import Customer, Order
from domain.returns import EligibilityDecision


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
    """The carrier has the parcel: the proof of dispatch."""


class NoticeRequest(DomainModel):
    """Send one notice of a return to its customer. The facts a kind does not need stay empty."""

    kind: NoticeKind
    return_id: str
    customer: Customer
    order: Order
    ship_by: AwareDatetime
    decision: EligibilityDecision | None = None
    return_address: PostalAddress | None = None
    carriers: list[CarrierOffer] = Field(default_factory=list)
    method: ReturnMethod | None = None
    label: Label | None = None
    pickup: Pickup | None = None
    counter_code: CounterCode | None = None
    scan: TrackingScan | None = None
    revision: int = Field(
        default=1, ge=1, description="Bumped when a notice legitimately goes out again."
    )


class NoticeReceipt(DomainModel):
    """What was sent: the Message-ID, which a retry reuses."""

    message_id: str
    sent: bool = Field(description="False when an earlier attempt had already sent it.")
