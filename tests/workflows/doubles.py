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
from temporalio.exceptions import ApplicationError

from domain.addresses import PostalAddress
from domain.carriers import (
    CarrierCapability,
    CarrierOffer,
    CounterCode,
    CounterCodeRequest,
    Label,
    LabelRequest,
    Pickup,
    PickupRequest,
)
from domain.eligibility import EligibilityPolicy
from domain.events import RetractEvent
from domain.notices import NoticeKind, NoticeReceipt, NoticeRequest
from domain.returns import EligibilityDecision
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
    held: dict[NoticeKind, asyncio.Event] = field(default_factory=dict)
    """Notices whose sending waits until the test sets the event (a slow relay)."""

    @property
    def notice_kinds(self) -> list[NoticeKind]:
        return [n.kind for n in self.notices]

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.check_eligibility,
            self.get_seller_return_address,
            self.list_carrier_offers,
            self.create_return_label,
            self.book_mailbox_pickup,
            self.request_counter_code,
            self.send_notice,
        ]

    @activity.defn(name="check_eligibility")
    async def check_eligibility(self, event: RetractEvent) -> EligibilityDecision:
        return EligibilityPolicy().evaluate(event)

    @activity.defn(name="get_seller_return_address")
    async def get_seller_return_address(self, seller_id: str) -> PostalAddress | None:
        return None if seller_id == SELLER_WITHOUT_ADDRESS else SELLER_ADDRESS

    @activity.defn(name="list_carrier_offers")
    async def list_carrier_offers(self) -> list[CarrierOffer]:
        return [SANDBOX_OFFER, DROP_OFF_ONLY]

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
        if request.kind in self.held:
            await self.held[request.kind].wait()
        if request.kind in self.undeliverable:
            raise ApplicationError(
                "recipient refused by the relay (550)", type="RecipientRejected", non_retryable=True
            )
        self.notices.append(request)
        return NoticeReceipt(message_id=f"<{request.return_id}.{request.kind}>", sent=True)
