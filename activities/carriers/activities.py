"""Temporal activities that talk to carriers.

Failures are classified here, once for every carrier: the carrier refusing our data is a
non-retryable `CarrierRejected` (the workflow decides what to tell whom), bad credentials are a
non-retryable `CarrierAuthFailed` logged loudly for operators, and everything else is retried
by Temporal, after `Retry-After` when the carrier sent one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.carriers.protocol import CarrierAuthFailed, CarrierRejected, CarrierUnavailable
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

CARRIER_REJECTED = "CarrierRejected"
CARRIER_AUTH_FAILED = "CarrierAuthFailed"
CARRIER_UNAVAILABLE = "CarrierUnavailable"


class CarrierActivities:
    """Carrier calls, each idempotent through the request's `Idempotency-Key`."""

    def __init__(self, registry: CarrierRegistry) -> None:
        self._registry = registry

    @activity.defn
    async def list_carrier_offers(self) -> list[CarrierOffer]:
        return self._registry.offers()

    @activity.defn
    async def create_return_label(self, request: LabelRequest) -> Label:
        with _classified(request.carrier):
            label = await self._registry.get(request.carrier).create_return_label(request)
        activity.logger.info(
            "return label created",
            extra={"carrier": label.carrier, "tracking_number": label.tracking_number},
        )
        return label

    @activity.defn
    async def book_mailbox_pickup(self, request: PickupRequest) -> Pickup:
        with _classified(request.carrier):
            pickup = await self._registry.get(request.carrier).book_mailbox_pickup(request)
        activity.logger.info(
            "mailbox pickup booked",
            extra={"carrier": pickup.carrier, "pickup_date": pickup.pickup_date.isoformat()},
        )
        return pickup

    @activity.defn
    async def request_counter_code(self, request: CounterCodeRequest) -> CounterCode:
        with _classified(request.carrier):
            code = await self._registry.get(request.carrier).request_counter_code(request)
        activity.logger.info(
            "counter return code issued",
            extra={"carrier": code.carrier, "tracking_number": code.tracking_number},
        )
        return code


@contextmanager
def _classified(carrier: str) -> Iterator[None]:
    try:
        yield
    except CarrierRejected as err:
        raise ApplicationError(
            err.message, {"field": err.field}, type=CARRIER_REJECTED, non_retryable=True
        ) from err
    except CarrierAuthFailed as err:
        activity.logger.error(
            "carrier refused our credentials: fix the carrier configuration",
            extra={"carrier": carrier, "http_status": err.status},
        )
        raise ApplicationError(err.message, type=CARRIER_AUTH_FAILED, non_retryable=True) from err
    except CarrierUnavailable as err:
        delay = dt.timedelta(seconds=err.retry_after) if err.retry_after is not None else None
        raise ApplicationError(
            err.message, type=CARRIER_UNAVAILABLE, next_retry_delay=delay
        ) from err
