"""Temporal activities that talk to carriers; every failure is classified (see `classify`)."""

from __future__ import annotations

from temporalio import activity

from activities.carriers.classify import classified
from activities.carriers.registry import CarrierRegistry
from domain.carriers import (
    CarrierOffer,
    CounterCode,
    CounterCodeRequest,
    Label,
    LabelRequest,
    Pickup,
    PickupRequest,
)


class CarrierActivities:
    """Carrier calls, each idempotent through the request's `Idempotency-Key`."""

    def __init__(self, registry: CarrierRegistry) -> None:
        self._registry = registry

    @activity.defn
    async def list_carrier_offers(self) -> list[CarrierOffer]:
        return self._registry.offers()

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
    async def book_mailbox_pickup(self, request: PickupRequest) -> Pickup:
        with classified(request.carrier):
            pickup = await self._registry.get(request.carrier).book_mailbox_pickup(request)
        activity.logger.info(
            "mailbox pickup booked",
            extra={"carrier": pickup.carrier, "pickup_date": pickup.pickup_date.isoformat()},
        )
        return pickup

    @activity.defn
    async def request_counter_code(self, request: CounterCodeRequest) -> CounterCode:
        with classified(request.carrier):
            code = await self._registry.get(request.carrier).request_counter_code(request)
        activity.logger.info(
            "counter return code issued",
            extra={"carrier": code.carrier, "tracking_number": code.tracking_number},
        )
        return code
