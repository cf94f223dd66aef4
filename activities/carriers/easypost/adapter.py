"""EasyPost (api.easypost.com/v2) behind the `Carrier` protocol.

What EasyPost does for a return, and how: an online return label (a return Shipment, bought),
a drop-off anywhere the label's carrier takes parcels, a mailbox pickup booked for that
shipment, tracking by polling (Trackers) and by signed webhooks (`tracker.updated` Events).
EasyPost has no counter return code and no post-office locator: none is among the API's
resources (docs.easypost.com/docs, and EasyPost/examples `official/docs` lists every endpoint),
so neither is declared and both are refused without a request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import httpx

from activities.carriers.easypost.config import EasyPostConfig
from activities.carriers.easypost.pickups import MailboxPickups
from activities.carriers.easypost.shipments import ReturnLabels
from activities.carriers.easypost.trackers import Trackers
from activities.carriers.easypost.webhooks import read_tracker_event
from activities.carriers.easypost.wire import EasyPostApi
from activities.carriers.ledger import CarrierLedger
from activities.carriers.protocol import CarrierUnsupported
from domain.base import Money
from domain.carriers import (
    Cancellation,
    CarrierCapability,
    CarrierOffer,
    CounterCode,
    CounterCodeRequest,
    Label,
    LabelQuoteRequest,
    LabelRequest,
    ParcelDestination,
    Pickup,
    PickupDatesRequest,
    PickupRequest,
    PostOffice,
    PostOfficeQuery,
    TrackingScan,
    WebhookScans,
)

EASYPOST_CAPABILITIES = frozenset(
    {
        CarrierCapability.ONLINE_RETURN_LABEL,
        CarrierCapability.DROP_OFF,
        CarrierCapability.MAILBOX_PICKUP,
        CarrierCapability.TRACKING_WEBHOOK,
        CarrierCapability.TRACKING_POLLING,
    }
)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class EasyPostCarrier:
    """A `Carrier` on one EasyPost account; remembers its purchases in the ledger."""

    def __init__(
        self,
        config: EasyPostConfig,
        ledger: CarrierLedger,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self._config = config
        self._clock = clock
        self._api = EasyPostApi(config, transport)
        self._labels = ReturnLabels(self._api, ledger, config)
        self._pickups = MailboxPickups(self._api, ledger, config, clock)
        self._trackers = Trackers(self._api)
        self._offer = CarrierOffer(
            code=config.code, name=config.name, capabilities=EASYPOST_CAPABILITIES
        )

    @property
    def code(self) -> str:
        return self._config.code

    async def describe(self) -> CarrierOffer:
        return self._offer

    async def quote_return_label(self, request: LabelQuoteRequest) -> Money | None:
        return await self._labels.quote(request)

    async def create_return_label(self, request: LabelRequest) -> Label:
        return await self._labels.create(request)

    async def fetch_label_pdf(self, label: Label) -> bytes:
        return await self._labels.pdf(label)

    async def void_label(self, label: Label) -> Cancellation:
        return await self._labels.void(label)

    async def mailbox_pickup_dates(self, request: PickupDatesRequest) -> list[dt.date]:
        return self._pickups.dates(request)

    async def book_mailbox_pickup(self, request: PickupRequest) -> Pickup:
        return await self._pickups.book(request)

    async def cancel_pickup(self, pickup: Pickup) -> Cancellation:
        return await self._pickups.cancel(pickup)

    async def request_counter_code(self, request: CounterCodeRequest) -> CounterCode:
        raise CarrierUnsupported(self.code, CarrierCapability.COUNTER_RETURN_CODE.value)

    async def find_post_offices(self, query: PostOfficeQuery) -> list[PostOffice]:
        raise CarrierUnsupported(self.code, CarrierCapability.POST_OFFICE_LOCATOR.value)

    async def track(self, tracking_number: str) -> list[TrackingScan]:
        return await self._trackers.track(tracking_number)

    async def parcel_destination(self, tracking_number: str) -> ParcelDestination | None:
        return await self._trackers.destination(tracking_number)

    def read_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        received_at: dt.datetime | None = None,
    ) -> WebhookScans:
        secret = self._config.webhook_secret
        return read_tracker_event(
            self.code,
            headers,
            body,
            secret=secret.get_secret_value() if secret is not None else None,
            tolerance=dt.timedelta(seconds=self._config.webhook_tolerance_seconds),
            now=received_at or self._clock(),
        )

    async def aclose(self) -> None:
        await self._api.aclose()
