"""Return labels: a return Shipment bought once (see purchases.py), given back once, printed.

docs.easypost.com/docs/shipments and /docs/shipments/returns: `POST /shipments` with
`is_return` answers with `rates`; `POST /shipments/{id}/buy` with one rate's ID adds the
`postage_label` and `tracking_code`; `POST /shipments/{id}/refund` gives an unused label back.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from activities.carriers.easypost.config import EasyPostConfig
from activities.carriers.easypost.purchases import Purchase, buy_once
from activities.carriers.easypost.wire import (
    EasyPostApi,
    Json,
    address,
    cheapest,
    ounces,
    timestamp,
)
from activities.carriers.ledger import CarrierLedger
from activities.carriers.protocol import CarrierRejected, CarrierUnavailable
from domain.base import Money
from domain.carriers import (
    Cancellation,
    CancellationOutcome,
    Label,
    LabelQuoteRequest,
    LabelRequest,
)

# docs.easypost.com/docs/shipments/shipping-refund: the values `refund_status` takes.
_REFUND_DONE = frozenset({"submitted", "refunded"})
_REFUND_NOT_APPLICABLE = "not_applicable"
"""Bill-on-scan carriers: nothing was charged for the unused label, nothing to give back."""


class ReturnLabels:
    def __init__(self, api: EasyPostApi, ledger: CarrierLedger, config: EasyPostConfig) -> None:
        self._api = api
        self._ledger = ledger
        self._config = config

    async def create(self, request: LabelRequest) -> Label:
        purchase = Purchase(
            objects="shipments",
            rates="rates",
            is_bought=lambda shipment: bool(shipment.get("postage_label")),
            buy_body=lambda rate: {"rate": {"id": rate["id"]}},
            only_carrier=self._config.preferred_carrier,
            only_service=self._config.preferred_service,
        )
        return await buy_once(
            self._api,
            self._ledger,
            request.idempotency_key,
            purchase,
            lambda: {"shipment": self._return_shipment(request)},
            Label,
            self._label,
        )

    async def quote(self, request: LabelQuoteRequest) -> Money:
        """The rate `create` would buy, from a return Shipment made for it and never bought
        (creating one is free)."""
        shipment = await self._api.post(
            "shipments", {"shipment": self._shipment_of(request, reference=None)}
        )
        rate = cheapest(
            self._api.carrier,
            list(shipment.get("rates") or []),
            only_carrier=self._config.preferred_carrier,
            only_service=self._config.preferred_service,
            messages=list(shipment.get("messages") or []),
            what="rate",
        )
        try:
            amount = Decimal(str(rate["rate"])).quantize(Decimal("0.01"))
            return Money(amount=amount, currency=str(rate["currency"]).upper())
        except (KeyError, InvalidOperation, ValueError):
            carrier = self._api.carrier
            raise CarrierRejected(carrier, "a rate without a price", field="rate") from None

    async def pdf(self, label: Label) -> bytes:
        shipment = await self._api.get(f"shipments/{label.label_id}")
        url = _pdf_url(shipment)
        if url is None:
            # Not every carrier honours `label_format: PDF`; the documented label endpoint
            # converts the bought label (`GET /shipments/{id}/label?file_format=...`, in
            # EasyPost/examples official/docs/curl/current/shipments/label.sh).
            shipment = await self._api.get(
                f"shipments/{label.label_id}/label", {"file_format": "PDF"}
            )
            url = _pdf_url(shipment)
        if url is None:
            raise CarrierUnavailable(self._api.carrier, "the label has no PDF yet")
        return await self._api.download(url)

    async def void(self, label: Label) -> Cancellation:
        path = f"shipments/{label.label_id}"
        before = (await self._api.get(path)).get("refund_status")
        if before in _REFUND_DONE:
            return self._cancellation(label, CancellationOutcome.ALREADY_DONE, before)
        if before == _REFUND_NOT_APPLICABLE:
            return self._cancellation(label, CancellationOutcome.NOTHING_TO_UNDO, before)
        # No refund yet, or "rejected", which the docs say may be submitted again.
        status = (await self._api.post(f"{path}/refund")).get("refund_status")
        if status in _REFUND_DONE:
            return self._cancellation(label, CancellationOutcome.DONE, status)
        if status == _REFUND_NOT_APPLICABLE:
            return self._cancellation(label, CancellationOutcome.NOTHING_TO_UNDO, status)
        raise CarrierRejected(
            self._api.carrier, f"refund {status or 'not submitted'}", field="refund_status"
        )

    def _return_shipment(self, request: LabelRequest) -> Json:
        return self._shipment_of(request, reference=request.reference)

    def _shipment_of(
        self, request: LabelRequest | LabelQuoteRequest, reference: str | None
    ) -> Json:
        # docs.easypost.com/docs/shipments/returns: with `is_return` "leave the addresses the
        # same as the initial Shipment's creation request and we switch the to_address and
        # from_address". The initial shipment went from the seller to the customer, so the
        # customer (our sender) is `to_address` and the seller (our recipient) `from_address`;
        # the label EasyPost prints goes from the customer back to the seller.
        shipment: Json = {
            "is_return": True,
            "to_address": address(request.sender),
            "from_address": address(request.recipient),
            # docs.easypost.com/docs/parcels: weight in ounces is the one required field. Some
            # carriers' services also want dimensions, which our Parcel does not have yet.
            "parcel": {"weight": ounces(request.parcel.weight_grams)},
            "reference": reference,
            # `label_format` is a documented Shipment option (docs.easypost.com/docs/shipments/
            # options); a carrier that ignores it is converted on fetch (see `pdf`).
            "options": {"label_format": "PDF"},
        }
        if reference is None:
            del shipment["reference"]
        if self._config.carrier_accounts:
            shipment["carrier_accounts"] = list(self._config.carrier_accounts)
        return shipment

    def _label(self, shipment: Json) -> Label:
        postage: dict[str, Any] = shipment.get("postage_label") or {}
        tracking = shipment.get("tracking_code")
        if not postage or not tracking:
            raise CarrierUnavailable(self._api.carrier, "bought shipment has no label yet")
        made = postage.get("created_at") or postage.get("label_date") or shipment["created_at"]
        return Label(
            carrier=self._api.carrier,
            label_id=str(shipment["id"]),
            tracking_number=str(tracking),
            created_at=timestamp(str(made)),
        )

    def _cancellation(
        self, label: Label, outcome: CancellationOutcome, status: str
    ) -> Cancellation:
        return Cancellation(
            carrier=self._api.carrier,
            object_id=label.label_id,
            outcome=outcome,
            detail=f"refund_status {status}",
        )


def _pdf_url(shipment: Json) -> str | None:
    postage: dict[str, Any] = shipment.get("postage_label") or {}
    if postage.get("label_pdf_url"):
        return str(postage["label_pdf_url"])
    if postage.get("label_file_type") == "application/pdf" and postage.get("label_url"):
        return str(postage["label_url"])
    return None
