"""What a carrier of the sandbox charges for a return label: its tariff's band for the parcel's
weight, domestic when the sender and the recipient are in one country."""

from __future__ import annotations

from typing import Any

from carrier_sandbox.booking import check_countries, check_weight
from carrier_sandbox.carriers import CarrierConfig
from carrier_sandbox.errors import ApiError
from carrier_sandbox.schemas import QuoteBody


def quote(carrier: CarrierConfig, body: QuoteBody) -> dict[str, Any]:
    """The price of the label `body` describes; nothing is bought or recorded."""
    tariff = carrier.tariff
    if tariff is None:
        raise ApiError(404, "not_offered", f"{carrier.name} does not quote prices.")
    check_countries(carrier, body.sender, body.recipient)
    check_weight(carrier, body.parcel)
    band = tariff.band(body.parcel.weight_grams)
    assert band is not None
    domestic = body.sender.country_code == body.recipient.country_code
    return {
        "price": {
            "amount": str(band.domestic if domestic else band.international),
            "currency": tariff.currency,
        },
        "zone": "domestic" if domestic else "international",
        "up_to_grams": band.up_to_grams,
    }
