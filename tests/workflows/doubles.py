"""Activities registered under the real names, for the workflow's logic under time skipping.

They record what the workflow asked for, answer like the real adapters do, and can be told to
fail the way the real ones fail (a carrier refusing, a relay refusing a recipient).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.carriers.activities import NO_SCAN_YET
from domain.addresses import PostalAddress
from domain.carriers import (
    Cancellation,
    CancellationOutcome,
    CarrierCapability,
    CarrierOffer,
    CounterCode,
    CounterCodeRequest,
    Label,
    LabelRequest,
    Pickup,
    PickupRequest,
    TrackingQuery,
    TrackingScan,
    TrackingStatus,
)
from domain.eligibility import EligibilityPolicy
from domain.events import RetractEvent
from domain.notices import (
    NoticeBatch,
    NoticeKind,
    NoticeReceipt,
    NoticeRequest,
    SellerChatMessage,
)
from domain.returns import (
    EligibilityDecision,
    Refund,
    RefundRequest,
    ReturnIntake,
    ReturnTimings,
)
from tests.factories import SELLER_ADDRESS, SELLER_WITHOUT_ADDRESS

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
    refuse_pickups: int = 0
    """How many pickup bookings the carrier refuses before accepting one."""
    refuse_credentials: int = 0
    """How many label requests the carrier answers with 401 before accepting one."""
    undeliverable: set[NoticeKind] = field(default_factory=set)
    timings: ReturnTimings = field(default_factory=ReturnTimings)
    offers: list[CarrierOffer] = field(default_factory=lambda: [SANDBOX_OFFER, DROP_OFF_ONLY])
    chat: list[SellerChatMessage] = field(default_factory=list)
    refunds: list[RefundRequest] = field(default_factory=list)
    voided: list[Label] = field(default_factory=list)
    cancelled_pickups: list[Pickup] = field(default_factory=list)
    carrier_scans: dict[str, list[TrackingScan]] = field(default_factory=dict)
    """What the carrier answers when polled, by tracking number."""
    polls: list[TrackingQuery] = field(default_factory=list)
    refuse_refunds: int = 0
    """How many refund requests the order service refuses for good before accepting one."""
    held: dict[NoticeKind, asyncio.Event] = field(default_factory=dict)
    """Notices whose sending waits until the test sets the event (a slow relay)."""

    @property
    def notice_kinds(self) -> list[NoticeKind]:
        return [n.kind for n in self.notices]

    def notices_to(self, audience: str) -> list[NoticeKind]:
        return [n.kind for n in self.notices if n.kind.audience == audience]

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.take_in,
            self.return_timings,
            self.check_eligibility,
            self.get_seller_return_address,
            self.list_carrier_offers,
            self.create_return_label,
            self.book_mailbox_pickup,
            self.request_counter_code,
            self.void_label,
            self.cancel_pickup,
            self.track_parcel,
            self.poll_parcel_scans,
            self.send_notice,
            self.send_notices,
            self.message_seller,
            self.request_refund,
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
        decision = await self.check_eligibility(event)
        if not decision.accepted or decision.cancellation:
            return ReturnIntake(timings=self.timings, decision=decision)
        return ReturnIntake(
            timings=self.timings,
            decision=decision,
            return_address=await self.get_seller_return_address(event.order.seller_id),
            offers=self.offers,
        )

    @activity.defn(name="return_timings")
    async def return_timings(self) -> ReturnTimings:
        return self.timings

    @activity.defn(name="message_seller")
    async def message_seller(self, message: SellerChatMessage) -> bool:
        self.chat.append(message)
        return True

    @activity.defn(name="request_refund")
    async def request_refund(self, request: RefundRequest) -> Refund:
        if self.refuse_refunds > 0:
            self.refuse_refunds -= 1
            raise ApplicationError(
                "refund key already used for another amount",
                type="RefundConflict",
                non_retryable=True,
            )
        self.refunds.append(request)
        return Refund(
            refund_id=f"RF-{len(self.refunds)}",
            requested_at=dt.datetime.now(dt.UTC),
            amount=request.amount,
            created=True,
        )

    @activity.defn(name="void_label")
    async def void_label(self, label: Label) -> Cancellation:
        self.voided.append(label)
        return Cancellation(
            carrier=label.carrier, object_id=label.label_id, outcome=CancellationOutcome.DONE
        )

    @activity.defn(name="cancel_pickup")
    async def cancel_pickup(self, pickup: Pickup) -> Cancellation:
        self.cancelled_pickups.append(pickup)
        return Cancellation(
            carrier=pickup.carrier, object_id=pickup.pickup_id, outcome=CancellationOutcome.DONE
        )

    @activity.defn(name="track_parcel")
    async def track_parcel(self, query: TrackingQuery) -> list[TrackingScan]:
        self.polls.append(query)
        return list(self.carrier_scans.get(query.tracking_number, []))

    @activity.defn(name="poll_parcel_scans")
    async def poll_parcel_scans(self, query: TrackingQuery) -> list[TrackingScan]:
        self.polls.append(query)
        scans = self.carrier_scans.get(query.tracking_number, [])
        news = [s for s in scans if s.scan_id not in query.known_scan_ids]
        if not news:
            raise ApplicationError(
                "no new scan yet", type=NO_SCAN_YET, category=ApplicationErrorCategory.BENIGN
            )
        return news

    @activity.defn(name="check_eligibility")
    async def check_eligibility(self, event: RetractEvent) -> EligibilityDecision:
        return EligibilityPolicy().evaluate(event)

    @activity.defn(name="get_seller_return_address")
    async def get_seller_return_address(self, seller_id: str) -> PostalAddress | None:
        return None if seller_id == SELLER_WITHOUT_ADDRESS else SELLER_ADDRESS

    @activity.defn(name="list_carrier_offers")
    async def list_carrier_offers(self) -> list[CarrierOffer]:
        return self.offers

    @activity.defn(name="create_return_label")
    async def create_return_label(self, request: LabelRequest) -> Label:
        if self.refuse_credentials > 0:
            self.refuse_credentials -= 1
            raise ApplicationError(
                "credentials refused (401): unknown API key",
                type="CarrierAuthFailed",
                non_retryable=True,
            )
        self.labels.append(request)
        return Label(
            carrier=request.carrier,
            label_id=f"LBL-{len(self.labels)}",
            tracking_number=f"SB00000000{len(self.labels)}FR",
            created_at=dt.datetime.now(dt.UTC),
        )

    @activity.defn(name="book_mailbox_pickup")
    async def book_mailbox_pickup(self, request: PickupRequest) -> Pickup:
        self.pickups.append(request)
        if self.refuse_pickups > 0:
            self.refuse_pickups -= 1
            raise ApplicationError(
                "no collection on 25 December (public holiday)",
                {"field": "pickup_date"},
                type="CarrierRejected",
                non_retryable=True,
            )
        return Pickup(
            carrier=request.carrier,
            pickup_id=f"PU-{len(self.pickups)}",
            pickup_date=request.pickup_date,
            deposit_before=dt.time(8, 0),
            confirmation=f"CONF-{len(self.pickups)}",
        )

    @activity.defn(name="request_counter_code")
    async def request_counter_code(self, request: CounterCodeRequest) -> CounterCode:
        self.counter_codes.append(request)
        return CounterCode(
            carrier=request.carrier,
            code="K7Q2M9XA",
            tracking_number="SB000000900FR",
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=14),
        )

    @activity.defn(name="send_notice")
    async def send_notice(self, request: NoticeRequest) -> NoticeReceipt:
        (receipt,) = await self.send_notices(NoticeBatch(notices=[request]))
        return receipt

    @activity.defn(name="send_notices")
    async def send_notices(self, batch: NoticeBatch) -> list[NoticeReceipt]:
        receipts, refused = [], []
        for request in batch.notices:
            if request.kind in self.held:
                await self.held[request.kind].wait()
            if request.kind in self.undeliverable:
                refused.append(request.kind.value)
                continue
            self.notices.append(request)
            receipts.append(
                NoticeReceipt(
                    message_id=f"<{request.return_id}.{request.kind}.{request.revision}>",
                    sent=True,
                )
            )
        if refused:
            raise ApplicationError(
                "recipient refused by the relay (550)",
                refused,
                type="RecipientRejected",
                non_retryable=True,
            )
        return receipts
