"""The event feed: what a marketplace learns of each return as it happens (docs/event-feed.md).

Each change a marketplace cares about is an event: a type, the moment, and its data. A return
numbers its events 1, 2, 3, ... (`sequence`); an event's ID is the return's ID and its number,
so a redelivery carries the same ID and a subscriber sees a gap, or a duplicate, at once. Events
are delivered as Standard Webhooks: the body is `{"type", "timestamp", "data"}` (`Webhook`),
signed over the event's ID, the time of sending and the body.

Fields marked personal (the customer's contact, the address a parcel is collected from) are
delivered only to the subscribers configured to receive them; the others get the event without
them.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.addresses import PostalAddress
from domain.base import DomainModel, Email, Identifier, Locale, Money, ShortText, personal
from domain.carriers import ReturnMethod
from domain.events import DeviceCategory
from domain.feed_plan import FeedPlan
from domain.returns import ReturnStage


class FeedEventType(StrEnum):
    """Every event a return publishes."""

    STARTED = "return.started"
    ACCEPTED = "return.accepted"
    REJECTED = "return.rejected"
    ADDRESS_SENT = "return.address_sent"
    METHOD_CHOSEN = "return.method_chosen"
    LABEL_CREATED = "return.label_created"
    PICKUP_BOOKED = "return.pickup_booked"
    PICKED_UP = "return.picked_up"
    DELIVERED = "return.delivered"
    REFUND_REQUESTED = "return.refund_requested"
    EXPIRED = "return.expired"
    CANCELLED = "return.cancelled"
    CLOSED = "return.closed"
    NEEDS_ATTENTION = "return.needs_attention"
    ATTENTION_RESOLVED = "return.attention_resolved"


class EventData(DomainModel):
    """What every event says: which return, where it stands, its number in the return's feed."""

    event_id: str = Field(
        description="`{return_id}:{sequence}`: the same on every delivery of the event (the "
        "webhook-id header): a subscriber drops what it has seen."
    )
    sequence: int = Field(ge=1, description="1, 2, 3, ... per return, in the order they happened.")
    return_id: str
    order_id: Identifier
    line_id: Identifier
    seller_id: Identifier
    stage: ReturnStage = Field(
        description="The return's stage after the step this event belongs to (a step that does "
        "several things tells each, with the stage it ended in)."
    )
    occurred_at: AwareDatetime = Field(
        description="When the return took the step this event belongs to."
    )


class CustomerContact(DomainModel):
    """The customer, for subscribers configured to receive personal data."""

    customer_id: Identifier
    name: ShortText = personal("The customer's full name.")
    email: Email = personal("The customer's email.")
    locale: Locale


class Started(EventData):
    """A withdrawal was received: the return exists."""

    type: Literal[FeedEventType.STARTED] = FeedEventType.STARTED
    product_category: DeviceCategory
    notice_at: AwareDatetime = Field(description="When the customer withdrew.")
    customer: CustomerContact | None = personal(
        "The customer (subscribers with personal data only).", default=None
    )


class Accepted(EventData):
    """The withdrawal is a return the marketplace takes back: its legal clocks run."""

    type: Literal[FeedEventType.ACCEPTED] = FeedEventType.ACCEPTED
    ship_by: AwareDatetime = Field(description="The customer's deadline to send the goods.")
    refund_due_by: AwareDatetime = Field(description="The refund's legal deadline.")
    overridden_by: str | None = Field(
        default=None, description="Who in operations accepted a withdrawal rejected at first."
    )


class Rejected(EventData):
    """The withdrawal is not a return (ineligible, or out of time): nothing to send back."""

    type: Literal[FeedEventType.REJECTED] = FeedEventType.REJECTED
    reason: str | None = Field(default=None, description="Why the withdrawal is not a return.")


class AddressSent(EventData):
    """The seller's return address went to the customer: the shipping clock is the customer's."""

    type: Literal[FeedEventType.ADDRESS_SENT] = FeedEventType.ADDRESS_SENT
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the return ends expired if nothing is sent."
    )
    ship_by: AwareDatetime | None = Field(
        default=None,
        description="The customer's deadline to send the goods as it stands once they have "
        "the address: later than `return.accepted`'s when the address reached them late (14 "
        "days from then). This one counts.",
    )


class MethodChosen(EventData):
    """The customer chose how to send the parcel, and with which carrier."""

    type: Literal[FeedEventType.METHOD_CHOSEN] = FeedEventType.METHOD_CHOSEN
    method: ReturnMethod
    carrier: Identifier


class LabelCreated(EventData):
    """The carrier made the return label (a counter return code is no label: none is told)."""

    type: Literal[FeedEventType.LABEL_CREATED] = FeedEventType.LABEL_CREATED
    carrier: Identifier
    label_id: Identifier
    tracking_number: Identifier


class PickupBooked(EventData):
    """The carrier will collect the parcel from a mailbox on `pickup_date`."""

    type: Literal[FeedEventType.PICKUP_BOOKED] = FeedEventType.PICKUP_BOOKED
    carrier: Identifier
    pickup_id: Identifier
    pickup_date: dt.date
    pickup_address: PostalAddress | None = personal(
        "Where the parcel is collected (subscribers with personal data only).", default=None
    )


class PickedUp(EventData):
    """The carrier has the parcel: the proof of dispatch."""

    type: Literal[FeedEventType.PICKED_UP] = FeedEventType.PICKED_UP
    carrier: Identifier | None = None
    tracking_number: Identifier | None = None


class Delivered(EventData):
    """The parcel is back with the seller."""

    type: Literal[FeedEventType.DELIVERED] = FeedEventType.DELIVERED
    carrier: Identifier | None = None
    tracking_number: Identifier | None = None


class RefundRequested(EventData):
    """The refund was asked of the order service (under its idempotency key)."""

    type: Literal[FeedEventType.REFUND_REQUESTED] = FeedEventType.REFUND_REQUESTED
    refund_id: Identifier
    amount: Money
    due_by: AwareDatetime = Field(description="The refund's legal deadline.")


class Expired(EventData):
    """Not sent by the shipping deadline and its grace: the return ended."""

    type: Literal[FeedEventType.EXPIRED] = FeedEventType.EXPIRED


class Cancelled(EventData):
    """The return was cancelled: it ends here."""

    type: Literal[FeedEventType.CANCELLED] = FeedEventType.CANCELLED
    before_shipment: bool = Field(
        description="True: the order had not shipped, the seller stops it; false: the customer "
        "cancelled the return before sending the parcel."
    )


class Closed(EventData):
    """Operations closed the return."""

    type: Literal[FeedEventType.CLOSED] = FeedEventType.CLOSED


class NeedsAttention(EventData):
    """Something needs a person in operations: the return waits for them."""

    type: Literal[FeedEventType.NEEDS_ATTENTION] = FeedEventType.NEEDS_ATTENTION
    reason: str = Field(description="An attention reason (docs/operations.md), `reason:argument`.")


class AttentionResolved(EventData):
    """Operations dealt with an attention reason."""

    type: Literal[FeedEventType.ATTENTION_RESOLVED] = FeedEventType.ATTENTION_RESOLVED
    reason: str


AnyEventData = Annotated[
    Started
    | Accepted
    | Rejected
    | AddressSent
    | MethodChosen
    | LabelCreated
    | PickupBooked
    | PickedUp
    | Delivered
    | RefundRequested
    | Expired
    | Cancelled
    | Closed
    | NeedsAttention
    | AttentionResolved,
    Field(discriminator="type"),
]

DATA_MODELS: dict[FeedEventType, type[EventData]] = {
    FeedEventType.STARTED: Started,
    FeedEventType.ACCEPTED: Accepted,
    FeedEventType.REJECTED: Rejected,
    FeedEventType.ADDRESS_SENT: AddressSent,
    FeedEventType.METHOD_CHOSEN: MethodChosen,
    FeedEventType.LABEL_CREATED: LabelCreated,
    FeedEventType.PICKUP_BOOKED: PickupBooked,
    FeedEventType.PICKED_UP: PickedUp,
    FeedEventType.DELIVERED: Delivered,
    FeedEventType.REFUND_REQUESTED: RefundRequested,
    FeedEventType.EXPIRED: Expired,
    FeedEventType.CANCELLED: Cancelled,
    FeedEventType.CLOSED: Closed,
    FeedEventType.NEEDS_ATTENTION: NeedsAttention,
    FeedEventType.ATTENTION_RESOLVED: AttentionResolved,
}


class FeedEvent(DomainModel):
    """One event as the return hands it to its feed (personal fields included)."""

    data: AnyEventData

    @property
    def event_id(self) -> str:
        return self.data.event_id

    @property
    def sequence(self) -> int:
        return self.data.sequence


def event_id(return_id: str, sequence: int) -> str:
    return f"{return_id}:{sequence}"


class Webhook(BaseModel):
    """The body of one delivery, as Standard Webhooks lays it out."""

    model_config = ConfigDict(extra="forbid")

    type: FeedEventType
    timestamp: AwareDatetime = Field(description="When the event happened (data.occurred_at).")
    data: dict[str, Any] = Field(description="The event's data: its type's schema.")


def webhook_body(event: FeedEvent, *, personal_data: bool) -> Webhook:
    """What a subscriber receives: without the personal fields unless it is configured for
    them; a field without a value, at any depth, is left out."""
    data = event.data.model_dump(mode="json", exclude={"type"}, exclude_none=True)
    if not personal_data:
        for name, field in type(event.data).model_fields.items():
            extra = field.json_schema_extra
            if isinstance(extra, dict) and extra.get("x-personal") is True:
                data.pop(name, None)
    return Webhook(type=event.data.type, timestamp=event.data.occurred_at, data=data)


class FeedStart(DomainModel):
    """The input of a return's feed workflow, and who sends it news."""

    return_id: str
    run_id: str = Field(
        description="The run of the return that sends the news: a return started again (after "
        "its run failed or was terminated) or reset goes on in the same feed, numbered on."
    )
    plan: FeedPlan


class FeedNews(DomainModel):
    """What a return hands its feed at one step: the publishing activity's input."""

    start: FeedStart = Field(description="How to start the feed, if it has not started.")
    events: list[FeedEvent] = Field(default_factory=list)
    published: int = Field(ge=0, description="The sequence of the return's last event so far.")
    ended: bool = Field(default=False, description="The return has ended: nothing more comes.")


class Delivery(DomainModel):
    """One event for one subscriber: the delivery activity's input."""

    subscriber: Identifier
    event: FeedEvent


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    """The subscriber answered 2xx."""


DELIVERY_BATCH = 20
"""The most events one delivery activity sends one subscriber, in sequence."""


class DeliveryBatch(DomainModel):
    """The next events for one subscriber, in sequence: the batch delivery activity's input."""

    subscriber: Identifier
    events: list[FeedEvent] = Field(min_length=1, max_length=DELIVERY_BATCH)


class BatchDelivered(DomainModel):
    """What came of a batch: its first `delivered` events were acknowledged, in sequence."""

    delivered: int = Field(ge=1)
    stopped_by: str | None = Field(
        default=None,
        description="Why the batch stopped before its end (the rest go in the next batch).",
    )


class ParkedDelivery(DomainModel):
    """A delivery that failed its every attempt: waiting for operations to replay it."""

    subscriber: Identifier
    event_id: str
    sequence: int
    type: FeedEventType
    parked_at: AwareDatetime
    reason: str = Field(description="The last attempt's failure.")


class ForgetRequest(DomainModel):
    subscriber: Identifier
    by: ShortText = Field(description="Who in operations asked for it.")
    reason: ShortText = Field(description="Why, kept in the feed's view.")


class SubscriberProgress(DomainModel):
    subscriber: Identifier
    delivered: int = Field(description="Events delivered, in sequence: 1 to this number.")
    parked: ParkedDelivery | None = None
    forgotten: ForgetRequest | None = Field(
        default=None,
        description="Operations took the subscriber off this feed (it was removed for good): "
        "nothing more is delivered to it, and the feed ends without it.",
    )


class FeedView(DomainModel):
    """A return's feed, as its `view` query tells it."""

    return_id: str
    published: int = Field(description="Events the return has published.")
    ended: bool = Field(description="The return has ended: no more events will come.")
    subscribers: list[SubscriberProgress]


class ReplayRequest(DomainModel):
    subscriber: Identifier
    by: ShortText = Field(description="Who in operations asked for it.")


class ReplayResult(DomainModel):
    subscriber: Identifier
    from_sequence: int = Field(description="The parked event, delivered again first.")
