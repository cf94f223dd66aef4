"""Temporal activities that talk to carriers; every failure is classified (see `classify`)."""

from __future__ import annotations

import asyncio
import datetime as dt

from temporalio import activity

from activities.carriers.classify import classified, counted
from activities.carriers.protocol import CarrierError
from activities.carriers.registry import CarrierRegistry
from activities.failures import no_scan_yet
from domain.carriers import (
    Cancellation,
    CarrierOffer,
    CounterCode,
    CounterCodeRequest,
    Label,
    LabelPricesRequest,
    LabelQuoteRequest,
    LabelRequest,
    ParcelDestination,
    Pickup,
    PickupDatesRequest,
    PickupRequest,
    PostOffice,
    PostOfficeQuery,
    TrackingQuery,
    TrackingScan,
    TrackingStatus,
)


class CarrierActivities:
    """Carrier calls: creating ones idempotent through the step's key, the others repeatable."""

    def __init__(self, registry: CarrierRegistry) -> None:
        self._registry = registry

    @activity.defn
    async def list_carrier_offers(self) -> list[CarrierOffer]:
        """The carriers the customer may choose from, with what each can do."""
        with classified("catalogue"):
            return await self._registry.offers()

    @activity.defn
    async def price_return_labels(self, request: LabelPricesRequest) -> list[CarrierOffer]:
        """The offers, each with what its carrier quotes for this return's label. A carrier
        that cannot quote (it fails, or prices in another currency than the order's) is offered
        without a price: no price shown, nothing withheld. Never fails for a carrier's sake."""
        return list(
            await asyncio.gather(*(self._priced(offer, request) for offer in request.offers))
        )

    async def _priced(self, offer: CarrierOffer, request: LabelPricesRequest) -> CarrierOffer:
        quote = LabelQuoteRequest(
            carrier=offer.code,
            sender=request.sender,
            recipient=request.recipient,
            parcel=request.parcel,
        )
        try:
            with counted(offer.code, "quote_return_label"):
                price = await self._registry.get(offer.code).quote_return_label(quote)
        except CarrierError as err:
            activity.logger.warning(
                "label price not quoted", extra={"carrier": offer.code, "error": err.message}
            )
            return offer.model_copy(update={"label_price": None})
        except Exception:
            # An answer the adapter cannot read: that carrier is offered unpriced (nothing is
            # withheld), the others keep their prices, and the trace says what broke.
            activity.logger.exception("label price unreadable", extra={"carrier": offer.code})
            return offer.model_copy(update={"label_price": None})
        if price is not None and price.currency != request.currency:
            activity.logger.warning(
                "label price in another currency than the order's: not shown",
                extra={"carrier": offer.code, "currency": price.currency},
            )
            price = None
        return offer.model_copy(update={"label_price": price})

    @activity.defn
    async def create_return_label(self, request: LabelRequest) -> Label:
        with classified(request.carrier):
            label = await self._registry.get(request.carrier).create_return_label(request)
        activity.logger.info(
            "return label created",
            extra={"carrier": label.carrier, "tracking_number": label.tracking_number},
        )
        return label

    @activity.defn
    async def void_label(self, label: Label) -> Cancellation:
        with classified(label.carrier):
            done = await self._registry.get(label.carrier).void_label(label)
        activity.logger.info(
            "return label voided",
            extra={"carrier": label.carrier, "label_id": label.label_id, "outcome": done.outcome},
        )
        return done

    @activity.defn
    async def mailbox_pickup_dates(self, request: PickupDatesRequest) -> list[dt.date]:
        with classified(request.carrier):
            return await self._registry.get(request.carrier).mailbox_pickup_dates(request)

    @activity.defn
    async def book_mailbox_pickup(self, request: PickupRequest) -> Pickup:
        with classified(request.carrier):
            pickup = await self._registry.get(request.carrier).book_mailbox_pickup(request)
        activity.logger.info(
            "mailbox pickup booked",
            extra={"carrier": pickup.carrier, "pickup_date": pickup.pickup_date.isoformat()},
        )
        return pickup

    @activity.defn
    async def cancel_pickup(self, pickup: Pickup) -> Cancellation:
        with classified(pickup.carrier):
            done = await self._registry.get(pickup.carrier).cancel_pickup(pickup)
        activity.logger.info(
            "mailbox pickup cancelled",
            extra={
                "carrier": pickup.carrier,
                "pickup_id": pickup.pickup_id,
                "outcome": done.outcome,
            },
        )
        return done

    @activity.defn
    async def request_counter_code(self, request: CounterCodeRequest) -> CounterCode:
        with classified(request.carrier):
            code = await self._registry.get(request.carrier).request_counter_code(request)
        activity.logger.info(
            "counter return code issued",
            extra={"carrier": code.carrier, "tracking_number": code.tracking_number},
        )
        return code

    @activity.defn
    async def find_post_offices(self, query: PostOfficeQuery) -> list[PostOffice]:
        with classified(query.carrier):
            return await self._registry.get(query.carrier).find_post_offices(query)

    @activity.defn
    async def track_parcel(self, query: TrackingQuery) -> list[TrackingScan]:
        """Every scan so far: the fallback when the carrier's webhooks do not come."""
        with classified(query.carrier):
            return await self._registry.get(query.carrier).track(query.tracking_number)

    @activity.defn
    async def parcel_destination(self, query: TrackingQuery) -> ParcelDestination | None:
        """Where the carrier's data says a reported parcel goes (None: it does not say); a
        number the carrier does not know fails for good (`CarrierRejected`)."""
        with classified(query.carrier):
            found = await self._registry.get(query.carrier).parcel_destination(
                query.tracking_number
            )
        return found

    @activity.defn
    async def poll_parcel_scans(self, query: TrackingQuery) -> list[TrackingScan]:
        """The parcel's scans once the carrier has any: the fallback when webhooks are late.

        Until the carrier has scanned the parcel this fails with a *benign* `NoScanYet`, and
        the retry policy's fixed interval does the waiting: polling costs one retry per
        interval, no workflow timer loop, and the failures are not counted as errors.
        """
        with classified(query.carrier):
            scans = await self._registry.get(query.carrier).track(query.tracking_number)
        news = [s for s in scans if s.scan_id not in query.known_scan_ids]
        if not any(s.status is not TrackingStatus.PRE_TRANSIT for s in news):
            raise no_scan_yet(query.carrier)
        activity.logger.info(
            "carrier polled",
            extra={
                "carrier": query.carrier,
                "tracking_number": query.tracking_number,
                "scans": len(news),
            },
        )
        return news
