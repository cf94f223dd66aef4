"""Return labels from SLS `generateLabel`: which product, what to send, what comes back."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from activities.carriers.colissimo.wire import (
    SlsAnswer,
    UnreadableAnswer,
    address,
    address_fits,
)
from activities.carriers.protocol import CarrierRejected
from domain.carriers import LabelRequest

PARIS = ZoneInfo("Europe/Paris")

FRANCE = "FR"

RETURN_FROM_FRANCE = "CORE"
"""Colissimo Retour France (8R): from France back to France."""
RETURN_TO_FRANCE = "CORI"
"""Colissimo Retour International (7R), "foreign country to France" (also from overseas)."""
RETURN_FROM_FRANCE_ABROAD = "CORF"
"""Colissimo Retour International (CQ), "France to foreign country"."""

REFERENCE_PREFIX = "return-"

LABEL_PART = "label"
"""The Content-ID of the label's PDF in the multipart answer."""


def product_code(request: LabelRequest, carrier: str) -> str:
    """The return product for who sends the parcel (the customer) to whom (the seller).

    Chosen by the customer's country: CORE from France, CORI from anywhere else to France
    (product names as Colissimo's product table lists them, reproduced by karrio's Colissimo
    connector; planPickup's Swagger names CORE and CORF). CORF covers a customer in France
    sending back to a seller abroad. Colissimo has no return between two other countries.
    """
    from_france = request.sender.country_code == FRANCE
    to_france = request.recipient.country_code == FRANCE
    if from_france:
        return RETURN_FROM_FRANCE if to_france else RETURN_FROM_FRANCE_ABROAD
    if to_france:
        return RETURN_TO_FRANCE
    raise CarrierRejected(
        carrier,
        "a Colissimo return leaves from France or comes back to France",
        field="recipient.country_code",
    )


def label_body(request: LabelRequest, carrier: str, output: str, today: dt.date) -> dict[str, Any]:
    """The JSON body of `generateLabel` (credentials added by the caller).

    Not handled: the customs declaration (CN23) a return from outside the EU needs; the SLS
    then answers with an error naming the customsDeclarations block.
    """
    printed = request.reference.removeprefix(REFERENCE_PREFIX)
    with address_fits(carrier, "sender"):
        sender = address(request.sender)
    with address_fits(carrier, "recipient"):
        addressee = address(request.recipient, company_required=True)
    service: dict[str, Any] = {
        "productCode": product_code(request, carrier),
        # "Scheduled deposit date"; before today is refused (message 30002).
        "depositDate": today.isoformat(),
    }
    if len(request.reference) <= 30:
        # AN1..30, "not on the label but in the Colissimo IT system, returned in tracking".
        service["orderNumber"] = request.reference
    return {
        "outputFormat": {"x": 0, "y": 0, "outputPrintingType": output},
        "letter": {
            "service": service,
            # Kilograms, at least 0.01, at most two decimals: rounded up, never declared
            # lighter than it is (2,004 g is 2.01 kg, in the band above 2 kg).
            "parcel": {"weight": max(math.ceil(request.parcel.weight_grams / 10) / 100, 0.01)},
            "sender": {
                # AN1..17, printed on the label only: the return ID without its prefix.
                "senderParcelRef": printed[-17:],
                "address": sender,
            },
            "addressee": {"address": addressee},
        },
    }


def parcel_number(answer: SlsAnswer) -> str:
    """The label's parcel (tracking) number, in `labelV2Response.parcelNumber`."""
    response = answer.data.get("labelV2Response") or {}
    number = response.get("parcelNumber") if isinstance(response, dict) else None
    if not isinstance(number, str) or not number:
        raise UnreadableAnswer("label answer without labelV2Response.parcelNumber")
    return number


def label_pdf(answer: SlsAnswer) -> bytes:
    """The label's PDF: the `<label>` part; the SLS hands it over in this answer only."""
    pdf = answer.attachments.get(LABEL_PART)
    if not pdf or not pdf.startswith(b"%PDF"):
        raise UnreadableAnswer("label answer without its PDF part")
    return pdf


def paris_today() -> dt.date:
    """Today in France, where the deposit date is judged."""
    return dt.datetime.now(PARIS).date()
