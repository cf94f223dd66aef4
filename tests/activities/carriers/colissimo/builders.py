"""What the Colissimo tests send: the adapter over the replay, requests, addresses."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from activities.carriers.colissimo import ColissimoCarrier, ColissimoConfig
from domain.addresses import PostalAddress
from domain.carriers import LabelRequest, Parcel, PickupDatesRequest
from tests.activities.carriers.ledgers import FileLedger
from tests.activities.carriers.replay.colissimo import PARIS, ColissimoReplay, replay_config
from tests.factories import HOME, SELLER_ADDRESS

PARCEL = Parcel(weight_grams=450, description="Smartphone")
BRUSSELS = PostalAddress(
    name="Lotte Peeters",
    line1="Rue Neuve 12",
    postal_code="1000",
    city="Bruxelles",
    country_code="BE",
)
MILAN = PostalAddress(
    name="Resi Italia",
    company="Resi Italia Srl",
    line1="Via Torino 5",
    postal_code="20123",
    city="Milano",
    country_code="IT",
)


@dataclass
class Colissimo:
    carrier: ColissimoCarrier
    replay: ColissimoReplay
    ledger: FileLedger


async def open_colissimo(tmp_path: Path, config: ColissimoConfig | None = None) -> Colissimo:
    config = config or replay_config()
    replay = ColissimoReplay(config)
    ledger = FileLedger(tmp_path)
    return Colissimo(ColissimoCarrier(config, ledger, transport=replay.transport), replay, ledger)


def label_request(
    sender: PostalAddress = HOME,
    recipient: PostalAddress = SELLER_ADDRESS,
    key: str = "return-ORD-1-1:label:1",
) -> LabelRequest:
    return LabelRequest(
        idempotency_key=key,
        carrier="colissimo",
        reference="return-ORD-1-1",
        sender=sender,
        recipient=recipient,
        parcel=PARCEL,
    )


def dates_request(where: PostalAddress = HOME) -> PickupDatesRequest:
    return PickupDatesRequest(carrier="colissimo", address=where)


def sent(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def paris_today() -> dt.date:
    return dt.datetime.now(PARIS).date()
