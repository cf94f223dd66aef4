"""Colissimo (La Poste) behind the `Carrier` protocol.

Labels and mailbox pickups through the SLS label web service, post offices through Point
Retrait, tracking through La Poste's Suivi v2 API. Colissimo keys nothing by idempotency key
and hands a label's PDF over once, in the answer that makes it: the `CarrierLedger` keeps both
what each step bought and the PDFs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import httpx

from activities.carriers.colissimo import labels, locator, pickups, tracking, wire
from activities.carriers.colissimo.client import ColissimoWeb
from activities.carriers.colissimo.config import ColissimoConfig
from activities.carriers.ledger import CarrierLedger
from activities.carriers.protocol import (
    CarrierRejected,
    CarrierUnavailable,
    CarrierUnsupported,
    WebhookRejected,
)
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

CAPABILITIES = frozenset(
    {
        CarrierCapability.ONLINE_RETURN_LABEL,
        # A Colissimo return label is handed in at any post office (or put in the mailbox).
        CarrierCapability.DROP_OFF,
        # Any post office counter prints a Colissimo return label from the address ("retour
        # au guichet"): the customer then reports the number on the receipt.
        CarrierCapability.COUNTER_LABEL,
        CarrierCapability.MAILBOX_PICKUP,
        CarrierCapability.POST_OFFICE_LOCATOR,
        CarrierCapability.TRACKING_POLLING,
        # Not declared: COUNTER_RETURN_CODE, see `request_counter_code`; TRACKING_WEBHOOK,
        # see `read_webhook`.
    }
)

UNUSED_LABEL = "Colissimo invoices a label only once the parcel is handed over; SLS has no void."
UNUSED_PICKUP = "The postman collects only a parcel found in the mailbox; SLS has no cancel."


class ColissimoCarrier:
    """A `Carrier` backed by Colissimo's web services and La Poste's tracking API."""

    def __init__(
        self,
        config: ColissimoConfig,
        ledger: CarrierLedger,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._ledger = ledger
        self._offer = CarrierOffer(code=config.code, name="Colissimo", capabilities=CAPABILITIES)
        self._web = ColissimoWeb(config, transport=transport)

    @property
    def code(self) -> str:
        return self._config.code

    async def describe(self) -> CarrierOffer:
        return self._offer

    # --- Labels ----------------------------------------------------------------------------

    async def quote_return_label(self, request: LabelQuoteRequest) -> Money | None:
        price = self._config.label_price
        return None if price is None else Money(amount=price, currency="EUR")

    async def create_return_label(self, request: LabelRequest) -> Label:
        kept = await self._ledger.recall(self.code, request.idempotency_key)
        if kept is not None:
            return Label.model_validate_json(json.dumps(kept))
        body = labels.label_body(
            request, self.code, self._config.label_format, labels.paris_today()
        )
        answer = await self._web.sls("generateLabel", body)
        try:
            number, pdf = labels.parcel_number(answer), labels.label_pdf(answer)
        except wire.UnreadableAnswer as err:
            # Nothing is lost by asking again: an unused label is never invoiced.
            raise CarrierUnavailable(self.code, f"generateLabel: {err}") from None
        label = Label(
            carrier=self.code,
            label_id=number,
            tracking_number=number,
            created_at=dt.datetime.now(dt.UTC),
        )
        # PDF first: a label remembered under the key must always have its document.
        await self._ledger.keep_label(self.code, label.label_id, pdf)
        await self._ledger.remember(
            self.code, request.idempotency_key, label.model_dump(mode="json")
        )
        return label

    async def fetch_label_pdf(self, label: Label) -> bytes:
        pdf = await self._ledger.label(self.code, label.label_id)
        if pdf is None:
            # SLS `getLabel` exists in the Swagger, but its answer is not documented there.
            raise CarrierRejected(
                self.code,
                "no PDF kept for this label: Colissimo hands it over once",
                field="label_id",
            )
        return pdf

    async def void_label(self, label: Label) -> Cancellation:
        # The SLS Swagger lists no cancellation; Colissimo's FAQ: "Labels are invoiced when
        # they are used on a parcel delivered in the Colissimo network".
        return self._nothing_to_undo(label.label_id, UNUSED_LABEL)

    async def request_counter_code(self, request: CounterCodeRequest) -> CounterCode:
        # SLS `generateToken` ("retour sécurisé", an option of the contract) makes a code the
        # customer shows at a post office to have the label printed. Not in the published
        # documentation: its answer (the Swagger types it as a bare JAX-RS Response), so the
        # code and its expiry cannot be read reliably; the capability is not declared.
        raise CarrierUnsupported(self.code, "counter return codes")

    # --- Mailbox pickup --------------------------------------------------------------------

    async def mailbox_pickup_dates(self, request: PickupDatesRequest) -> list[dt.date]:
        if not pickups.is_served(request.address):
            return []  # the SLS allows only "FR" for mailbox pickups
        return (await self._picking_dates(request.address)).dates

    async def book_mailbox_pickup(self, request: PickupRequest) -> Pickup:
        kept = await self._ledger.recall(self.code, request.idempotency_key)
        if kept is not None:
            return Pickup.model_validate_json(json.dumps(kept))
        if not pickups.is_served(request.address):
            raise CarrierRejected(
                self.code, "mailbox pickup is offered in France only", field="address.country_code"
            )
        # planPickup answers messages only: the deposit hour comes from the dates' answer,
        # which also tells whether the chosen day is still offered.
        offered = await self._picking_dates(request.address)
        if request.pickup_date not in offered.dates:
            days = ", ".join(d.isoformat() for d in offered.dates) or "none"
            raise CarrierRejected(
                self.code,
                f"no mailbox pickup on {request.pickup_date.isoformat()} (offered: {days})",
                field="pickup_date",
            )
        with wire.address_fits(self.code, "address"):
            body = pickups.plan_body(request.tracking_number, request.pickup_date, request.address)
        await self._web.sls("planPickup", body)
        pickup = Pickup(
            carrier=self.code,
            pickup_id=f"{request.tracking_number}:{request.pickup_date.isoformat()}",
            pickup_date=request.pickup_date,
            deposit_before=offered.deposit_before,
            # Not in the published documentation: a confirmation number; the parcel number
            # is what Colissimo knows the pickup by.
            confirmation=request.tracking_number,
        )
        await self._ledger.remember(
            self.code, request.idempotency_key, pickup.model_dump(mode="json")
        )
        return pickup

    async def cancel_pickup(self, pickup: Pickup) -> Cancellation:
        # The SLS Swagger lists no way to call a planned pickup off; nothing is collected (or
        # invoiced) unless the customer puts the labelled parcel in the mailbox.
        return self._nothing_to_undo(pickup.pickup_id, UNUSED_PICKUP)

    def _nothing_to_undo(self, object_id: str, why: str) -> Cancellation:
        return Cancellation(
            carrier=self.code,
            object_id=object_id,
            outcome=CancellationOutcome.NOTHING_TO_UNDO,
            detail=why,
        )

    async def _picking_dates(self, where: PostalAddress) -> pickups.PickingDates:
        with wire.address_fits(self.code, "address"):
            body = pickups.dates_body(where)
        answer = await self._web.sls("getListMailBoxPickingDates", body)
        try:
            return pickups.picking_dates(answer)
        except wire.UnreadableAnswer as err:
            raise CarrierUnavailable(self.code, f"getListMailBoxPickingDates: {err}") from None

    # --- Post offices and tracking --------------------------------------------------------

    async def find_post_offices(self, query: PostOfficeQuery) -> list[PostOffice]:
        body = locator.search_body(
            query, labels.paris_today(), include_relays=self._config.include_relay_points
        )
        status, data = await self._web.locate(body)
        return locator.offices_from(self.code, status, data, query)

    async def track(self, tracking_number: str) -> list[TrackingScan]:
        data = await self._suivi_if_shown(tracking_number)
        return [] if data is None else tracking.scans(self.code, tracking_number, data)

    async def parcel_destination(self, tracking_number: str) -> ParcelDestination | None:
        data = await self._suivi_if_shown(tracking_number)
        return None if data is None else tracking.destination(tracking_number, data)

    async def _suivi_if_shown(self, tracking_number: str) -> object | None:
        """Suivi's answer; None while it does not show the number (its own answer, code 404):
        a label printed at a counter appears there hours later, and is polled again. A
        malformed number (400), or a 404 that is not Suivi's, stays refused."""
        try:
            return await self._web.suivi(tracking_number)
        except CarrierRejected as err:
            if err.status == tracking.NOT_SHOWN and err.field == "tracking_number":
                return None
            raise

    def read_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        received_at: dt.datetime | None = None,
    ) -> WebhookScans:
        # Neither Colissimo nor La Poste's Suivi v2 publishes a tracking webhook: nothing
        # pushed in Colissimo's name can be believed (tracking is polled).
        raise WebhookRejected("Colissimo sends no tracking webhooks")

    async def aclose(self) -> None:
        await self._web.aclose()
