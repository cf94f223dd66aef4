"""The embedded carrier sandbox, over its HTTP API (see carrier_sandbox/API.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import httpx

from activities.carriers.http_errors import raise_for_carrier
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
    TrackingScan,
    TrackingStatus,
)

SANDBOX_OFFER = CarrierOffer(
    code="sandbox",
    name="Sandbox Post",
    capabilities=frozenset(
        {
            CarrierCapability.ONLINE_RETURN_LABEL,
            CarrierCapability.COUNTER_RETURN_CODE,
            CarrierCapability.MAILBOX_PICKUP,
            CarrierCapability.DROP_OFF,
            CarrierCapability.TRACKING_POLLING,
        }
    ),
)


class SandboxCarrier:
    """A `Carrier` backed by the carrier sandbox service."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        offer: CarrierOffer = SANDBOX_OFFER,
        timeout: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._offer = offer
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"X-Api-Key": api_key},
            timeout=timeout,
            transport=transport,
        )

    @property
    def offer(self) -> CarrierOffer:
        return self._offer

    async def create_return_label(self, request: LabelRequest) -> Label:
        data = await self._post("/v1/labels", _shipment(request), request.idempotency_key)
        return Label(
            carrier=self._offer.code,
            label_id=data["label_id"],
            tracking_number=data["tracking_number"],
            created_at=_datetime(data["created_at"]),
        )

    async def fetch_label_pdf(self, label: Label) -> bytes:
        response = await self._send("GET", f"/v1/labels/{label.label_id}/pdf")
        return response.content

    async def book_mailbox_pickup(self, request: PickupRequest) -> Pickup:
        body = {
            "reference": request.reference,
            "label_id": request.label_id,
            "pickup_date": request.pickup_date.isoformat(),
            "address": _address(request.address),
        }
        data = await self._post("/v1/pickups", body, request.idempotency_key)
        return Pickup(
            carrier=self._offer.code,
            pickup_id=data["pickup_id"],
            pickup_date=dt.date.fromisoformat(data["pickup_date"]),
            deposit_before=dt.time.fromisoformat(data["deposit_before"]),
            confirmation=data["confirmation"],
        )

    async def request_counter_code(self, request: CounterCodeRequest) -> CounterCode:
        data = await self._post("/v1/counter-codes", _shipment(request), request.idempotency_key)
        return CounterCode(
            carrier=self._offer.code,
            code=data["code"],
            tracking_number=data["tracking_number"],
            expires_at=_datetime(data["expires_at"]),
        )

    async def track(self, tracking_number: str) -> list[TrackingScan]:
        response = await self._send("GET", f"/v1/tracking/{tracking_number}")
        data = response.json()
        return [
            TrackingScan(
                carrier=self._offer.code,
                tracking_number=data["tracking_number"],
                scan_id=event["scan_id"],
                status=TrackingStatus(event["status"]),
                occurred_at=_datetime(event["occurred_at"]),
                location=event.get("location"),
                description=event.get("description"),
            )
            for event in data["events"]
        ]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: Mapping[str, Any], key: str) -> dict[str, Any]:
        response = await self._send("POST", path, json=body, headers={"Idempotency-Key": key})
        data: dict[str, Any] = response.json()
        return data

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        code = self._offer.code
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as err:
            raise_for_carrier(code, None, f"timed out: {type(err).__name__}")
        except httpx.TransportError as err:
            raise_for_carrier(code, None, f"unreachable: {type(err).__name__}")
        if response.is_error:
            raise_for_carrier(code, response)
        return response


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
