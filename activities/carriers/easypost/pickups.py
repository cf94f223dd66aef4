"""Mailbox pickups: a Pickup created for the bought return shipment, one rate bought, cancelled.

docs.easypost.com/docs/pickups: `POST /pickups` (address, shipment, `min_datetime` /
`max_datetime`, `is_account_address`, `instructions`, `reference`) answers with `pickup_rates`;
`POST /pickups/{id}/buy` with a rate's `carrier` and `service` books it (`status` "scheduled",
`confirmation`); `POST /pickups/{id}/cancel` calls it off (`status` "canceled"). A pickup is
bought once per step like a label (see purchases.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from activities.carriers.easypost.config import EasyPostConfig
from activities.carriers.easypost.purchases import Purchase, buy_once
from activities.carriers.easypost.wire import EasyPostApi, Json, address
from activities.carriers.ledger import CarrierLedger
from activities.carriers.protocol import CarrierUnavailable
from domain.addresses import PostalAddress
from domain.calendar import known_time_zone
from domain.carriers import (
    Cancellation,
    CancellationOutcome,
    Pickup,
    PickupDatesRequest,
    PickupRequest,
)

_SCHEDULED = "scheduled"
_CANCELED = "canceled"  # the spelling in the Pickup docs and in every recorded answer


class MailboxPickups:
    def __init__(
        self,
        api: EasyPostApi,
        ledger: CarrierLedger,
        config: EasyPostConfig,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._api = api
        self._ledger = ledger
        self._config = config
        self._clock = clock

    def dates(self, request: PickupDatesRequest) -> list[dt.date]:
        """EasyPost has no endpoint listing pickup days (none under docs.easypost.com/docs/
        pickups): we offer the next weekdays, from tomorrow in the customers' time zone. Public
        holidays are not known here; the carrier refuses such a day when the pickup is bought
        (CarrierRejected, so the customer is asked to choose again)."""
        days: list[dt.date] = []
        day = self._clock().astimezone(self._zone(request.address)).date()
        while len(days) < self._config.pickup_days_ahead:
            day += dt.timedelta(days=1)
            if day.isoweekday() <= 5:
                days.append(day)
        return days

    async def book(self, request: PickupRequest) -> Pickup:
        purchase = Purchase(
            objects="pickups",
            rates="pickup_rates",
            is_bought=lambda pickup: pickup.get("status") == _SCHEDULED,
            buy_body=lambda rate: {"carrier": rate["carrier"], "service": rate["service"]},
            only_carrier=self._config.preferred_carrier,
            only_service=self._config.pickup_service,
        )
        return await buy_once(
            self._api,
            self._ledger,
            request.idempotency_key,
            purchase,
            lambda: {"pickup": self._pickup(request)},
            Pickup,
            lambda found: self._booked(request, found),
        )

    def _booked(self, request: PickupRequest, found: Json) -> Pickup:
        if found.get("status") != _SCHEDULED or not found.get("confirmation"):
            status = found.get("status")
            raise CarrierUnavailable(self._api.carrier, f"pickup not confirmed (status {status})")
        opens, _ = self._window(request)
        return Pickup(
            carrier=self._api.carrier,
            pickup_id=str(found["id"]),
            pickup_date=request.pickup_date,
            # EasyPost has no deposit deadline: the parcel must be in the mailbox when the
            # window we asked for opens (`min_datetime`), so that is the deposit-before time,
            # and the instant the return counts from.
            deposit_before=self._config.pickup_ready_time,
            confirmation=str(found["confirmation"]),
            deposit_by=opens,
        )

    async def cancel(self, pickup: Pickup) -> Cancellation:
        path = f"pickups/{pickup.pickup_id}"
        if (await self._api.get(path)).get("status") == _CANCELED:
            return self._cancellation(pickup, CancellationOutcome.ALREADY_DONE)
        status = (await self._api.post(f"{path}/cancel")).get("status")
        if status != _CANCELED:
            raise CarrierUnavailable(self._api.carrier, f"pickup still {status} after cancel")
        return self._cancellation(pickup, CancellationOutcome.DONE)

    def _zone(self, address: PostalAddress) -> ZoneInfo:
        """The customer's local time: their country's, as every carrier's return counts it, or
        `PICKUP_TIMEZONE` for a country with no single zone known here."""
        return known_time_zone(address.country_code) or self._config.zone

    def _window(self, request: PickupRequest) -> tuple[dt.datetime, dt.datetime]:
        zone = self._zone(request.address)
        opens = dt.datetime.combine(request.pickup_date, self._config.pickup_ready_time, zone)
        closes = dt.datetime.combine(request.pickup_date, self._config.pickup_close_time, zone)
        return opens, closes

    def _pickup(self, request: PickupRequest) -> Json:
        opens, closes = self._window(request)
        return {
            "reference": request.reference,
            "address": address(request.address),
            "shipment": {"id": request.label_id},
            # The docs' examples give local times without a zone and answers come back in UTC;
            # which zone a zoneless time means is not documented, so ours carry their offset.
            "min_datetime": opens.isoformat(),
            "max_datetime": closes.isoformat(),
            "is_account_address": False,
            "instructions": self._config.pickup_instructions,
        }

    def _cancellation(self, pickup: Pickup, outcome: CancellationOutcome) -> Cancellation:
        return Cancellation(
            carrier=self._api.carrier,
            object_id=pickup.pickup_id,
            outcome=outcome,
            detail=f"pickup {_CANCELED}",
        )
