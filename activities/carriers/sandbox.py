"""A carrier of the embedded carrier sandbox, over its HTTP API (see carrier_sandbox/API.md).

The sandbox plays several carriers, each under `{sandbox_url}/carriers/{code}/v1/`; one
`SandboxCarrier` speaks to one of them. What the carrier can do is what it says it can do
(`GET .../v1/carrier`, asked once): an operation it does not offer fails with
`CarrierUnsupported` before any request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from functools import partial
from typing import Any

import httpx

from activities.carriers.http_errors import send
from activities.carriers.protocol import (
    CarrierRejected,
    CarrierUnsupported,
    WebhookRejected,
)
from activities.carriers.scans import carrier_text, readable_scan
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
    OpeningHours,
    ParcelDestination,
    Pickup,
    PickupDatesRequest,
    PickupRequest,
    PostOffice,
    PostOfficeQuery,
    TrackingScan,
    TrackingStatus,
    WebhookScans,
)
from plumbing import json_input, signing

WEBHOOK_TOLERANCE_SECONDS = 300
"""A webhook signed longer ago (or further ahead) than this is refused: a replay, or a clock
gone wrong."""

STATUSES: dict[str, TrackingStatus] = {
    "pre_transit": TrackingStatus.PRE_TRANSIT,
    "accepted": TrackingStatus.ACCEPTED,
    "in_transit": TrackingStatus.IN_TRANSIT,
    "out_for_delivery": TrackingStatus.OUT_FOR_DELIVERY,
    "delivered": TrackingStatus.DELIVERED,
    "exception": TrackingStatus.EXCEPTION,
    "returned_to_sender": TrackingStatus.RETURNED_TO_SENDER,
}
"""The sandbox's statuses, normalised. They happen to share their names; the table is still the
one place that says so, and a status it lacks is skipped rather than guessed."""


class SandboxCarrier:
    """A `Carrier` backed by one carrier of the carrier sandbox service."""

    def __init__(
        self,
        sandbox_url: str,
        code: str,
        api_key: str,
        *,
        webhook_secret: str | None = None,
        timeout: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._code = code
        self._webhook_secret = webhook_secret
        self._offer: CarrierOffer | None = None
        self._http = httpx.AsyncClient(
            base_url=f"{sandbox_url.rstrip('/')}/carriers/{code}",
            headers={"X-Api-Key": api_key},
            timeout=timeout,
            transport=transport,
        )

    @property
    def code(self) -> str:
        return self._code

    async def describe(self) -> CarrierOffer:
        if self._offer is None:
            data = await self._get("/v1/carrier")
            known = {c.value for c in CarrierCapability}
            self._offer = CarrierOffer(
                code=self._code,
                name=data["name"],
                capabilities=frozenset(
                    CarrierCapability(c) for c in data["capabilities"] if c in known
                ),
            )
        return self._offer

    async def quote_return_label(self, request: LabelQuoteRequest) -> Money | None:
        if CarrierCapability.ONLINE_RETURN_LABEL not in (await self.describe()).capabilities:
            return None
        body = {
            "sender": _address(request.sender),
            "recipient": _address(request.recipient),
            "parcel": request.parcel.model_dump(mode="json"),
        }
        try:
            data = await self._post("/v1/quotes", body)
        except CarrierRejected as err:
            if err.status == 404:  # a carrier without a tariff quotes nothing
                return None
            raise
        price = data["price"]
        return Money(amount=Decimal(str(price["amount"])), currency=str(price["currency"]))

    async def create_return_label(self, request: LabelRequest) -> Label:
        await self._require(CarrierCapability.ONLINE_RETURN_LABEL, "online return labels")
        data = await self._post("/v1/labels", _shipment(request), request.idempotency_key)
        return Label(
            carrier=self._code,
            label_id=data["label_id"],
            tracking_number=data["tracking_number"],
            created_at=_datetime(data["created_at"]),
        )

    async def fetch_label_pdf(self, label: Label) -> bytes:
        await self._require(CarrierCapability.ONLINE_RETURN_LABEL, "online return labels")
        response = await self._send("GET", f"/v1/labels/{label.label_id}/pdf")
        return response.content

    async def void_label(self, label: Label) -> Cancellation:
        await self._require(CarrierCapability.ONLINE_RETURN_LABEL, "online return labels")
        data = await self._post(f"/v1/labels/{label.label_id}/void")
        return self._cancellation(
            label.label_id, data["already_voided"], f"voided at {data['voided_at']}"
        )

    async def mailbox_pickup_dates(self, request: PickupDatesRequest) -> list[dt.date]:
        await self._require(CarrierCapability.MAILBOX_PICKUP, "mailbox pickups")
        where = {
            "postal_code": request.address.postal_code,
            "country_code": request.address.country_code,
        }
        data = await self._get("/v1/pickup-dates", params=where)
        return [dt.date.fromisoformat(day) for day in data["dates"]]

    async def book_mailbox_pickup(self, request: PickupRequest) -> Pickup:
        await self._require(CarrierCapability.MAILBOX_PICKUP, "mailbox pickups")
        body = {
            "reference": request.reference,
            "label_id": request.label_id,
            "pickup_date": request.pickup_date.isoformat(),
            "address": _address(request.address),
        }
        data = await self._post("/v1/pickups", body, request.idempotency_key)
        return Pickup(
            carrier=self._code,
            pickup_id=data["pickup_id"],
            pickup_date=dt.date.fromisoformat(data["pickup_date"]),
            deposit_before=dt.time.fromisoformat(data["deposit_before"]),
            confirmation=data["confirmation"],
        )

    async def cancel_pickup(self, pickup: Pickup) -> Cancellation:
        await self._require(CarrierCapability.MAILBOX_PICKUP, "mailbox pickups")
        data = await self._post(f"/v1/pickups/{pickup.pickup_id}/cancel")
        detail = f"cancelled at {data['cancelled_at']}"
        return self._cancellation(pickup.pickup_id, data["already_cancelled"], detail)

    async def request_counter_code(self, request: CounterCodeRequest) -> CounterCode:
        await self._require(CarrierCapability.COUNTER_RETURN_CODE, "counter return codes")
        data = await self._post("/v1/counter-codes", _shipment(request), request.idempotency_key)
        return CounterCode(
            carrier=self._code,
            code=data["code"],
            tracking_number=data["tracking_number"],
            expires_at=_datetime(data["expires_at"]),
        )

    async def find_post_offices(self, query: PostOfficeQuery) -> list[PostOffice]:
        await self._require(CarrierCapability.POST_OFFICE_LOCATOR, "a post-office locator")
        where = {
            "postal_code": query.near.postal_code,
            "city": query.near.city,
            "country_code": query.near.country_code,
            "limit": query.limit,
        }
        data = await self._get("/v1/post-offices", params=where)
        return [self._post_office(site) for site in data["post_offices"]]

    async def track(self, tracking_number: str) -> list[TrackingScan]:
        await self._require(CarrierCapability.TRACKING_POLLING, "tracking")
        data = await self._get(f"/v1/tracking/{tracking_number}")
        return self._scans(data["tracking_number"], data["events"])

    async def parcel_destination(self, tracking_number: str) -> ParcelDestination | None:
        if CarrierCapability.TRACKING_POLLING not in (await self.describe()).capabilities:
            return None
        where = (await self._get(f"/v1/tracking/{tracking_number}")).get("destination")
        if not where:
            return None
        return ParcelDestination(
            country_code=str(where["country_code"]), postal_code=where.get("postal_code")
        )

    def read_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        received_at: dt.datetime | None = None,
    ) -> WebhookScans:
        offer = self._offer
        if offer is not None and CarrierCapability.TRACKING_WEBHOOK not in offer.capabilities:
            raise CarrierUnsupported(self._code, "tracking webhooks")
        self._verify(headers, body, received_at)
        try:
            event = json_input.loads(body)
            if event.get("type") != "tracking.updated":
                raise WebhookRejected("not a tracking event (type)")
            if event.get("carrier") != self._code:
                raise WebhookRejected("an event of another carrier (carrier)")
            number = event["tracking_number"]
            return WebhookScans(
                carrier=self._code,
                tracking_number=number,
                reference=event.get("reference"),
                scans=self._scans(number, [event["scan"]]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            # Pydantic's ValidationError is a ValueError. Say what, never quoting the body.
            raise WebhookRejected(f"unreadable tracking event ({type(err).__name__})") from None

    async def aclose(self) -> None:
        await self._http.aclose()

    def _verify(
        self, headers: Mapping[str, str], body: bytes, received_at: dt.datetime | None
    ) -> None:
        """The signature is ours and fresh, or `WebhookRejected`."""
        secrets = [self._webhook_secret] if self._webhook_secret else []
        try:
            signing.verify(
                headers,
                body,
                secrets,
                tolerance_seconds=WEBHOOK_TOLERANCE_SECONDS,
                timestamp_header="x-sandbox-timestamp",
                signature_header="x-sandbox-signature",
                now=received_at.timestamp() if received_at else None,
            )
        except signing.SignatureRejected as err:
            raise WebhookRejected(str(err)) from None

    def _scans(self, number: str, events: list[dict[str, Any]]) -> list[TrackingScan]:
        """The scans of the sandbox's events; one that cannot be a scan is left out
        (`activities.carriers.scans`)."""
        found = [
            readable_scan(self._code, number, partial(self._scan, number, event))
            for event in events
            if isinstance(event, dict)
            and isinstance(event.get("status"), str)
            and event["status"] in STATUSES
        ]
        return [scan for scan in found if scan is not None]

    def _scan(self, number: str, event: dict[str, Any]) -> TrackingScan:
        return TrackingScan(
            carrier=self._code,
            tracking_number=number,
            scan_id=event["scan_id"],
            status=STATUSES[event["status"]],
            occurred_at=_datetime(event["occurred_at"]),
            location=carrier_text(event.get("location")),
            description=carrier_text(event.get("description")),
            carrier_code=event["status"],
        )

    def _post_office(self, site: dict[str, Any]) -> PostOffice:
        return PostOffice(
            carrier=self._code,
            site_id=site["site_id"],
            name=site["name"],
            kind=site["kind"],
            line1=site["line1"],
            postal_code=site["postal_code"],
            city=site["city"],
            country_code=site["country_code"],
            distance_m=site.get("distance_m"),
            opening_hours=[
                OpeningHours(weekday=day["weekday"], hours=day["hours"])
                for day in site.get("opening_hours", [])
            ],
        )

    def _cancellation(self, object_id: str, repeat: bool, detail: str) -> Cancellation:
        outcome = CancellationOutcome.ALREADY_DONE if repeat else CancellationOutcome.DONE
        return Cancellation(carrier=self._code, object_id=object_id, outcome=outcome, detail=detail)

    async def _require(self, capability: CarrierCapability, operation: str) -> None:
        if capability not in (await self.describe()).capabilities:
            raise CarrierUnsupported(self._code, operation)

    async def _get(self, path: str, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = (await self._send("GET", path, **kwargs)).json()
        return data

    async def _post(
        self, path: str, body: Mapping[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key is not None else None
        response = await self._send("POST", path, json=body, headers=headers)
        data: dict[str, Any] = response.json()
        return data

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await send(self._http, self._code, method, path, **kwargs)


def _address(address: PostalAddress) -> dict[str, Any]:
    return address.model_dump(mode="json")


def _shipment(request: LabelRequest | CounterCodeRequest) -> dict[str, Any]:
    """Who sends what to whom: the body of a label and of a counter-code request alike."""
    return {
        "reference": request.reference,
        "sender": _address(request.sender),
        "recipient": _address(request.recipient),
        "parcel": request.parcel.model_dump(mode="json"),
    }


def _datetime(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)
