"""What the EasyPost tests send: the adapter over the replay at a fixed time, requests."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from activities.carriers.easypost import EasyPostCarrier, EasyPostConfig
from activities.carriers.ledger import CarrierLedger
from domain.carriers import Label, LabelRequest, Parcel, PickupRequest, TrackingStatus
from tests.activities.carriers.replay.easypost import (
    API_KEY,
    US_CUSTOMER,
    US_SELLER,
    WEBHOOK_SECRET,
    EasyPostReplay,
)

S = TrackingStatus
WAITING = [S.PRE_TRANSIT, S.PRE_TRANSIT]
"""The replayed Tracker before the carrier has the parcel: label data sent, label created."""
MOVING = [*WAITING, S.ACCEPTED, S.IN_TRANSIT]
"""The same once the carrier has it: its first scan in transit, then the next facility."""
NEW_YORK = ZoneInfo("America/New_York")
FRIDAY_EVENING = dt.datetime(2026, 2, 13, 23, 30, tzinfo=NEW_YORK)


def easypost_config(**settings: Any) -> EasyPostConfig:
    secrets = {"api_key": SecretStr(API_KEY), "webhook_secret": SecretStr(WEBHOOK_SECRET)}
    return EasyPostConfig(**{**secrets, **settings})


def easypost(replay: EasyPostReplay, ledger: CarrierLedger, **settings: Any) -> EasyPostCarrier:
    return EasyPostCarrier(
        easypost_config(**settings),
        ledger,
        transport=replay.transport,
        clock=lambda: FRIDAY_EVENING,
    )


def label_request(key: str = "return-ORD1-1:label:1") -> LabelRequest:
    return LabelRequest(
        idempotency_key=key,
        carrier="easypost",
        reference="return-ORD1-1",
        sender=US_CUSTOMER,
        recipient=US_SELLER,
        parcel=Parcel(weight_grams=480, description="Smartphone"),
    )


def pickup_request(label: Label, key: str = "return-ORD1-1:pickup:1") -> PickupRequest:
    return PickupRequest(
        idempotency_key=key,
        carrier="easypost",
        reference="return-ORD1-1",
        label_id=label.label_id,
        tracking_number=label.tracking_number,
        pickup_date=dt.date(2026, 2, 16),
        address=US_CUSTOMER,
    )
