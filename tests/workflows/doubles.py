"""Activities registered under the real names, for the workflow's logic under time skipping.

They record what the workflow asked for, answer like the real adapters do, and can be told to
fail the way the real ones fail (a carrier refusing, a relay refusing a recipient).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.failures import (
    carrier_auth_failed,
    carrier_rejected,
    no_scan_yet,
    notices_undelivered,
    refund_conflict,
)
from activities.notices.compose import NoticeComposer
from activities.notices.context import InvalidNoticeRequest, check_complete
from activities.orders.service import refund_id_for
from activities.parcels.activities import LETTERS_AND_DIGITS
from domain.addresses import PostalAddress
from domain.base import Money
from domain.carriers import (
    Cancellation,
    CancellationOutcome,
    CarrierCapability,
    CarrierOffer,
    CounterCode,
    CounterCodeRequest,
    Label,
    LabelPricesRequest,
    LabelRequest,
    ParcelDestination,
    Pickup,
    PickupRequest,
    TrackingQuery,
    TrackingScan,
    TrackingStatus,
)
from domain.eligibility import EligibilityPolicy, return_calendar
from domain.events import RetractEvent
from domain.failures import FailureType
from domain.feed import BatchDelivered, Delivery, DeliveryBatch, DeliveryOutcome
from domain.feed_plan import FeedPlan
from domain.ids import idempotency_key
from domain.inspection import Claim, ClaimRequest
from domain.notices import (
    NoticeBatch,
    NoticeKind,
    NoticeReceipt,
    NoticeRequest,
    SellerChatMessage,
)
from domain.returns import AcceptanceLookups, Refund, RefundReason, RefundRequest, ReturnIntake
from domain.timings import ReturnTimings
from plumbing.settings import Settings
from tests.factories import SELLER_ADDRESS, SELLER_WITHOUT_ADDRESS

MESSAGE_IDS = NoticeComposer(Settings())
"""The real composer's Message-IDs (derived from the request and the mail domain)."""

SANDBOX_OFFER = CarrierOffer(
    code="sandbox",
    name="Sandbox Post",
    capabilities=frozenset(
        {
            CarrierCapability.ONLINE_RETURN_LABEL,
            CarrierCapability.COUNTER_RETURN_CODE,
            CarrierCapability.MAILBOX_PICKUP,
            CarrierCapability.DROP_OFF,
            CarrierCapability.POST_OFFICE_LOCATOR,
            CarrierCapability.TRACKING_WEBHOOK,
            CarrierCapability.TRACKING_POLLING,
        }
    ),
)

COUNTER_LABEL_POST = CarrierOffer(
    code="colissimo",
    name="Colissimo",
    capabilities=frozenset(
        {
            CarrierCapability.ONLINE_RETURN_LABEL,
            CarrierCapability.DROP_OFF,
            CarrierCapability.COUNTER_LABEL,
            CarrierCapability.POST_OFFICE_LOCATOR,
            CarrierCapability.TRACKING_POLLING,
        }
    ),
)

DROP_OFF_ONLY = CarrierOffer(
    code="dropoff-only",
    name="Drop-off Only Post",
    capabilities=frozenset({CarrierCapability.ONLINE_RETURN_LABEL, CarrierCapability.DROP_OFF}),
)


@dataclass
class Doubles:
    """What the outside world did for the workflow, and how it should misbehave."""

    labels: list[LabelRequest] = field(default_factory=list)
    pickups: list[PickupRequest] = field(default_factory=list)
    counter_codes: list[CounterCodeRequest] = field(default_factory=list)
    notices: list[NoticeRequest] = field(default_factory=list)
    refused_pickup_dates: set[dt.date] = field(default_factory=set)
    """Days the carrier does not collect on (a public holiday): refused every time."""
    credentials_refused: bool = False
    """The carrier refuses our key (401) until the test says it is fixed."""
    undeliverable: set[NoticeKind] = field(default_factory=set)
    timings: ReturnTimings = field(default_factory=ReturnTimings)
    numbers_held: dict[str, list[str]] = field(default_factory=dict)
    """Tracking numbers other running returns hold, as visibility would list them."""
    label_serial: int = 0
    """Where the labels' tracking numbers start (SB000000001FR by default): a test that routes
    scans by tracking number among other tests' running returns starts elsewhere."""
    offers: list[CarrierOffer] = field(default_factory=lambda: [SANDBOX_OFFER, DROP_OFF_ONLY])
    label_prices: dict[str, Money] = field(default_factory=dict)
    """What each carrier quotes for a label, by code; a carrier not listed quotes nothing."""
    price_requests: list[LabelPricesRequest] = field(default_factory=list)
    destinations: dict[str, ParcelDestination | None] = field(default_factory=dict)
    """Where the carrier's data says a parcel goes, by tracking number; a number not listed
    goes to the seller's return address. Numbers in `unknown_parcels` the carrier never saw."""
    unknown_parcels: set[str] = field(default_factory=set)
    chat: list[SellerChatMessage] = field(default_factory=list)
    refunds: list[RefundRequest] = field(default_factory=list)
    claims: list[ClaimRequest] = field(default_factory=list)
    voided: list[Label] = field(default_factory=list)
    cancelled_pickups: list[Pickup] = field(default_factory=list)
    carrier_scans: dict[str, list[TrackingScan]] = field(default_factory=dict)
    """What the carrier answers when polled, by tracking number."""
    polls: list[TrackingQuery] = field(default_factory=list)
    refunds_on_file: list[RefundRequest] = field(default_factory=list)
    """Refund requests the order service held before the test (see `order_service_holds`)."""
    held: dict[NoticeKind, asyncio.Event] = field(default_factory=dict)
    """Notices whose sending waits until the test sets the event (a slow relay)."""
    hold: dict[str, asyncio.Event] = field(default_factory=dict)
    """Activities (by name) that wait, once they have done their work, until the test sets
    the event: a carrier whose answer is slow, or lost past the return's bound."""
    entered: dict[str, asyncio.Event] = field(default_factory=dict)
    """Set when an activity of that name starts: the test knows it is in flight."""
    created: dict[str, Label | Pickup | CounterCode] = field(default_factory=dict)
    """What the carrier made, by idempotency key: the same key gets the same answer."""
    faults: Callable[[str, str], ApplicationError | None] | None = None
    """A carrier failure for (activity, idempotency key or object ID), or None: decided by the
    test, e.g. from a seed, so a sequence of calls fails the same way every time."""
    undeliverable_when: Callable[[NoticeRequest], bool] | None = None
    """Notices the relay refuses for good, beyond the kinds in `undeliverable`."""
    feed: FeedPlan | None = None
    """The event feed's subscribers the intake names (none: no feed)."""
    delivered: list[Delivery] = field(default_factory=list)
    """Events delivered to the feed's subscribers, in the order they were acknowledged."""
    cut_short: list[BatchDelivered] = field(default_factory=list)
    """Batches of events a failure ended before their last."""

    def _fault(self, activity_name: str, key: str) -> None:
        failure = self.faults(activity_name, key) if self.faults else None
        if failure is not None:
            raise failure

    def live_labels(self) -> list[Label]:
        """Labels made, for any return, and not voided."""
        return self.live_for("")[0]

    def live_for(self, return_id: str) -> tuple[list[Label], list[Pickup]]:
        """The labels and pickups made for one return (every return: "") and not undone."""
        voided = {label.label_id for label in self.voided}
        cancelled = {pickup.pickup_id for pickup in self.cancelled_pickups}
        prefix = f"{return_id}:" if return_id else ""
        mine = [made for key, made in self.created.items() if key.startswith(prefix)]
        labels = [m for m in mine if isinstance(m, Label) and m.label_id not in voided]
        pickups = [m for m in mine if isinstance(m, Pickup) and m.pickup_id not in cancelled]
        return labels, pickups

    def in_flight(self, name: str) -> asyncio.Event:
        return self.entered.setdefault(name, asyncio.Event())

    async def _slow(self, name: str) -> None:
        self.in_flight(name).set()
        if name in self.hold:
            await self.hold[name].wait()

    @property
    def notice_kinds(self) -> list[NoticeKind]:
        return [n.kind for n in self.notices]

    def notices_to(self, audience: str) -> list[NoticeKind]:
        return [n.kind for n in self.notices if n.kind.audience == audience]

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.take_in,
            self.lookups_for_acceptance,
            self.price_return_labels,
            self.create_return_label,
            self.book_mailbox_pickup,
            self.request_counter_code,
            self.void_label,
            self.cancel_pickup,
            self.track_parcel,
            self.poll_parcel_scans,
            self.parcel_destination,
            self.send_notices,
            self.message_seller,
            self.request_refund,
            self.file_claim,
            self.running_holders,
            self.deliver_event,
            self.deliver_events,
        ]

    def carrier_scanned(
        self, tracking_number: str, status: TrackingStatus = TrackingStatus.ACCEPTED
    ) -> TrackingScan:
        """The carrier scans the parcel but its webhook never comes: only polling sees it."""
        scans = self.carrier_scans.setdefault(tracking_number, [])
        scan = TrackingScan(
            carrier="sandbox",
            tracking_number=tracking_number,
            scan_id=f"POLL-{tracking_number}-{len(scans) + 1}",
            status=status,
            occurred_at=dt.datetime.now(dt.UTC),
            location="Lyon sorting centre",
        )
        scans.append(scan)
        return scan

    @activity.defn(name="take_in")
    async def take_in(self, event: RetractEvent) -> ReturnIntake:
        await self._slow("take_in")
        decision = EligibilityPolicy().evaluate(event)
        calendar = return_calendar(event)
        if not decision.accepted or decision.cancellation:
            return ReturnIntake(
                timings=self.timings, decision=decision, calendar=calendar, feed=self.feed
            )
        return ReturnIntake(
            timings=self.timings,
            decision=decision,
            calendar=calendar,
            feed=self.feed,
            return_address=self._address_of(event.order.seller_id),
            offers=self.offers,
        )

    @activity.defn(name="deliver_event")
    async def deliver_event(self, delivery: Delivery) -> DeliveryOutcome:
        """The subscriber acknowledges the event, unless `faults` says otherwise for
        ("deliver_event", "{subscriber}:{event_id}")."""
        await self._slow("deliver_event")
        self._fault("deliver_event", f"{delivery.subscriber}:{delivery.event.event_id}")
        self.delivered.append(delivery)
        return DeliveryOutcome.DELIVERED

    @activity.defn(name="deliver_events")
    async def deliver_events(self, batch: DeliveryBatch) -> BatchDelivered:
        """The subscriber acknowledges the events in sequence, unless `faults` says otherwise for
        ("deliver_event", "{subscriber}:{event_id}") of one: a failure on the first fails the
        batch, a later one ends it with those before."""
        await self._slow("deliver_event")
        for done, event in enumerate(batch.events):
            try:
                self._fault("deliver_event", f"{batch.subscriber}:{event.event_id}")
            except ApplicationError as err:
                if not done:
                    raise
                self.cut_short.append(BatchDelivered(delivered=done, stopped_by=err.message))
                return self.cut_short[-1]
            self.delivered.append(Delivery(subscriber=batch.subscriber, event=event))
        return BatchDelivered(delivered=len(batch.events))

    def delivered_to(self, subscriber: str) -> list[tuple[int, str]]:
        """(sequence, type) of each event the subscriber acknowledged, in order."""
        return [
            (d.event.sequence, d.event.data.type)
            for d in self.delivered
            if d.subscriber == subscriber
        ]

    @activity.defn(name="lookups_for_acceptance")
    async def lookups_for_acceptance(self, seller_id: str) -> AcceptanceLookups:
        return AcceptanceLookups(return_address=self._address_of(seller_id), offers=self.offers)

    def _address_of(self, seller_id: str) -> PostalAddress | None:
        return None if seller_id == SELLER_WITHOUT_ADDRESS else SELLER_ADDRESS

    @activity.defn(name="price_return_labels")
    async def price_return_labels(self, request: LabelPricesRequest) -> list[CarrierOffer]:
        """As the carriers: each quotes its price, or nothing; another currency is dropped."""
        await self._slow("price_return_labels")
        self.price_requests.append(request)
        priced = []
        for offer in request.offers:
            price = self.label_prices.get(offer.code)
            if price is not None and price.currency != request.currency:
                price = None
            priced.append(offer.model_copy(update={"label_price": price}))
        return priced

    @activity.defn(name="parcel_destination")
    async def parcel_destination(self, query: TrackingQuery) -> ParcelDestination | None:
        """As the carrier's tracking: where the parcel goes; an unknown number is refused."""
        await self._slow("parcel_destination")
        self._fault("parcel_destination", query.tracking_number)
        if query.tracking_number in self.unknown_parcels:
            raise carrier_rejected("No parcel has this tracking number.", "tracking_number")
        seller = ParcelDestination(
            country_code=SELLER_ADDRESS.country_code, postal_code=SELLER_ADDRESS.postal_code
        )
        return self.destinations.get(query.tracking_number, seller)

    @activity.defn(name="message_seller")
    async def message_seller(self, message: SellerChatMessage) -> bool:
        """As the seller chat: posted once per `message_id` (False: posted before)."""
        await self._slow("message_seller")
        self._fault("message_seller", message.message_id)
        if any(posted.message_id == message.message_id for posted in self.chat):
            return False
        self.chat.append(message)
        return True

    def order_service_holds(self, return_id: str, amount: str = "1.00") -> RefundRequest:
        """The order service already holds a refund under the return's key, for another
        amount (an earlier request, a manual entry): every request under the key conflicts
        with it, as long as the order service keeps it."""
        held = RefundRequest(
            idempotency_key=idempotency_key(return_id, "refund"),
            return_id=return_id,
            order_id="ORD-HELD",
            line_id="1",
            amount=Money(amount=Decimal(amount), currency="EUR"),
            reason=RefundReason.WITHDRAWAL,
            due_by=dt.datetime.now(dt.UTC),
        )
        self.refunds_on_file.append(held)
        return held

    @activity.defn(name="request_refund")
    async def request_refund(self, request: RefundRequest) -> Refund:
        """As the order service: one refund per key, kept for good; the same request again
        answers it (`created=False`), another request under the key is a conflict."""
        for earlier in [*self.refunds_on_file, *self.refunds]:
            if earlier.idempotency_key == request.idempotency_key:
                if earlier != request:
                    raise refund_conflict(
                        f"Refund key {request.idempotency_key} is already used by refund "
                        f"{refund_id_for(request.idempotency_key)}"
                    )
                return Refund(
                    refund_id=refund_id_for(request.idempotency_key),
                    requested_at=dt.datetime.now(dt.UTC),
                    amount=request.amount,
                    created=False,
                )
        self.refunds.append(request)
        return Refund(
            refund_id=refund_id_for(request.idempotency_key),
            requested_at=dt.datetime.now(dt.UTC),
            amount=request.amount,
            created=True,
        )

    @activity.defn(name="running_holders")
    async def running_holders(self, tracking_number: str) -> list[str]:
        """As visibility: the running returns holding the number; a number that is not letters
        and digits never reaches a query."""
        if not LETTERS_AND_DIGITS.fullmatch(tracking_number):
            raise ValueError("tracking_number: letters and digits only")
        return list(self.numbers_held.get(tracking_number, []))

    @activity.defn(name="file_claim")
    async def file_claim(self, request: ClaimRequest) -> Claim:
        """As the order service: one claim per key, the same request again answers it."""
        claim_id = refund_id_for(request.idempotency_key, "CL")
        for earlier in self.claims:
            if earlier.idempotency_key == request.idempotency_key:
                if earlier != request:
                    raise refund_conflict(f"Claim key {request.idempotency_key} is used")
                return Claim(
                    claim_id=claim_id,
                    filed_at=dt.datetime.now(dt.UTC),
                    amount=request.amount,
                    created=False,
                )
        self.claims.append(request)
        return Claim(
            claim_id=claim_id, filed_at=dt.datetime.now(dt.UTC), amount=request.amount, created=True
        )

    def _scanned(self, tracking_number: str) -> bool:
        return any(
            scan.status is not TrackingStatus.PRE_TRANSIT
            for scan in self.carrier_scans.get(tracking_number, [])
        )

    @activity.defn(name="void_label")
    async def void_label(self, label: Label) -> Cancellation:
        """As the carrier: a label whose parcel it has scanned cannot be voided any more; a
        second void is answered `already_done`."""
        self._fault("void_label", label.label_id)
        if any(v.label_id == label.label_id for v in self.voided):
            outcome = CancellationOutcome.ALREADY_DONE
        elif self._scanned(label.tracking_number):
            raise carrier_rejected("This label's parcel has been scanned: it is used.")
        else:
            self.voided.append(label)
            outcome = CancellationOutcome.DONE
        return Cancellation(carrier=label.carrier, object_id=label.label_id, outcome=outcome)

    @activity.defn(name="cancel_pickup")
    async def cancel_pickup(self, pickup: Pickup) -> Cancellation:
        """As the carrier: a pickup whose parcel it has collected cannot be cancelled; a second
        cancel is answered `already_done`."""
        self._fault("cancel_pickup", pickup.pickup_id)
        booked = next(
            (r for r in self.pickups if self.created.get(r.idempotency_key) == pickup), None
        )
        number = booked.tracking_number if booked else None
        if any(c.pickup_id == pickup.pickup_id for c in self.cancelled_pickups):
            outcome = CancellationOutcome.ALREADY_DONE
        elif number is not None and self._scanned(number):
            raise carrier_rejected("This pickup's parcel was collected: it has passed.")
        else:
            self.cancelled_pickups.append(pickup)
            outcome = CancellationOutcome.DONE
        return Cancellation(carrier=pickup.carrier, object_id=pickup.pickup_id, outcome=outcome)

    @activity.defn(name="track_parcel")
    async def track_parcel(self, query: TrackingQuery) -> list[TrackingScan]:
        self.polls.append(query)
        await self._slow("track_parcel")
        self._fault("track_parcel", query.tracking_number)
        if query.tracking_number in self.unknown_parcels:
            raise carrier_rejected("No parcel has this tracking number.", "tracking_number")
        return list(self.carrier_scans.get(query.tracking_number, []))

    @activity.defn(name="poll_parcel_scans")
    async def poll_parcel_scans(self, query: TrackingQuery) -> list[TrackingScan]:
        self.polls.append(query)
        self._fault("poll_parcel_scans", query.tracking_number)
        scans = self.carrier_scans.get(query.tracking_number, [])
        news = [s for s in scans if s.scan_id not in query.known_scan_ids]
        if not any(s.status is not TrackingStatus.PRE_TRANSIT for s in news):
            raise no_scan_yet(query.carrier)
        return news

    @activity.defn(name="create_return_label")
    async def create_return_label(self, request: LabelRequest) -> Label:
        if self.credentials_refused:
            raise carrier_auth_failed("credentials refused (401): unknown API key")
        label = self.created.get(request.idempotency_key)
        if label is None:
            self._fault("create_return_label", request.idempotency_key)
            self.labels.append(request)
            label = self.created[request.idempotency_key] = Label(
                carrier=request.carrier,
                label_id=f"LBL-{len(self.labels)}",
                tracking_number=f"SB{self.label_serial + len(self.labels):09d}FR",
                created_at=dt.datetime.now(dt.UTC),
            )
        await self._slow("create_return_label")
        assert isinstance(label, Label)
        return label

    @activity.defn(name="book_mailbox_pickup")
    async def book_mailbox_pickup(self, request: PickupRequest) -> Pickup:
        pickup = self.created.get(request.idempotency_key)
        if pickup is None:
            self._fault("book_mailbox_pickup", request.idempotency_key)
            if self._scanned(request.tracking_number):
                raise carrier_rejected(
                    "The parcel of this label is already with the carrier.", "label_id"
                )
            self.pickups.append(request)
            if request.pickup_date in self.refused_pickup_dates:
                raise carrier_rejected(
                    f"no collection on {request.pickup_date} (public holiday)", "pickup_date"
                )
            pickup = self.created[request.idempotency_key] = Pickup(
                carrier=request.carrier,
                pickup_id=f"PU-{len(self.pickups)}",
                pickup_date=request.pickup_date,
                deposit_before=dt.time(8, 0),
                confirmation=f"CONF-{len(self.pickups)}",
            )
        await self._slow("book_mailbox_pickup")
        assert isinstance(pickup, Pickup)
        return pickup

    @activity.defn(name="request_counter_code")
    async def request_counter_code(self, request: CounterCodeRequest) -> CounterCode:
        code = self.created.get(request.idempotency_key)
        if code is None:
            self.counter_codes.append(request)
            code = self.created[request.idempotency_key] = CounterCode(
                carrier=request.carrier,
                code=f"K7Q2M9X{len(self.counter_codes)}",
                tracking_number=f"SB00000090{len(self.counter_codes) - 1}FR",
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=14),
            )
        await self._slow("request_counter_code")
        assert isinstance(code, CounterCode)
        return code

    @activity.defn(name="send_notices")
    async def send_notices(self, batch: NoticeBatch) -> list[NoticeReceipt]:
        """As the real activity: each notice checked for the facts its kind needs, sent once,
        the undeliverable ones named in one `NoticesUndelivered` failure."""
        receipts: list[NoticeReceipt] = []
        undelivered: list[tuple[NoticeKind, ApplicationError]] = []
        for request in batch.notices:
            if request.kind in self.held:
                await self.held[request.kind].wait()  # the worker heartbeats meanwhile
            # A relay that is down for this kind ("send_notices", kind): retried as the real
            # activity's unavailable relay is.
            self._fault("send_notices", str(request.kind))
            try:
                check_complete(request)
            except InvalidNoticeRequest as error:
                failure = ApplicationError(
                    f"Cannot send the notice: {error}",
                    type=FailureType.INVALID_NOTICE,
                    non_retryable=True,
                )
                undelivered.append((request.kind, failure))
                continue
            refused_now = self.undeliverable_when and self.undeliverable_when(request)
            if request.kind in self.undeliverable or refused_now:
                refused = ApplicationError(
                    "The mail relay refused the recipient: 550 5.1.1 no such mailbox",
                    type=FailureType.RECIPIENT_REJECTED,
                    non_retryable=True,
                )
                undelivered.append((request.kind, refused))
                continue
            self.notices.append(request)
            receipts.append(NoticeReceipt(message_id=MESSAGE_IDS.message_id(request), sent=True))
        if undelivered:
            raise notices_undelivered(undelivered)
        return receipts
