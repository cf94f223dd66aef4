"""EasyPost's error answers, classified."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from activities.carriers.easypost import EasyPostCarrier
from activities.carriers.easypost.wire import easypost_error_text
from activities.carriers.protocol import (
    CarrierAuthFailed,
    CarrierError,
    CarrierRejected,
    CarrierUnavailable,
)
from tests.activities.carriers.easypost.builders import label_request
from tests.activities.carriers.replay.easypost import EasyPostReplay


@pytest.mark.parametrize(
    ("status", "error", "field"),
    [
        (422, CarrierRejected, "shipment"),
        (404, CarrierRejected, None),
        (401, CarrierAuthFailed, None),
        (403, CarrierAuthFailed, None),
        (500, CarrierUnavailable, None),
        (503, CarrierUnavailable, None),
    ],
)
async def test_each_error_answer_is_classified(
    carrier: EasyPostCarrier,
    replay: EasyPostReplay,
    status: int,
    error: type[CarrierError],
    field: str | None,
) -> None:
    replay.fail_next(status)
    with pytest.raises(error) as raised:
        await carrier.create_return_label(label_request())

    assert raised.value.status == status
    assert getattr(raised.value, "field", None) == field


async def test_a_rate_limit_says_when_to_come_back_and_a_timeout_is_an_outage(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    replay.fail_next(429, 7)
    with pytest.raises(CarrierUnavailable) as limited:
        await carrier.track("9400100000000000000042")
    replay.time_out_next()
    with pytest.raises(CarrierUnavailable, match="timed out"):
        await carrier.track("9400100000000000000042")

    assert limited.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("status", "body", "read"),
    [
        (422, {"code": "PARAMETER.REQUIRED", "message": "Missing.", "errors": [
            {"field": "parcel.weight", "message": "must be given"}]},
         ("PARAMETER.REQUIRED: Missing. (parcel.weight: must be given)", "parcel.weight")),
        (404, {"code": "NOT_FOUND", "message": "Not found.", "errors": ["no tracker"]},
         ("NOT_FOUND: Not found. (no tracker)", None)),
        (502, None, ("Bad Gateway", None)),
    ],
)  # fmt: skip
def test_error_bodies_give_their_message_and_the_field_blamed(
    status: int, body: dict[str, Any] | None, read: tuple[str, str | None]
) -> None:
    answer = httpx.Response(status, json={"error": body}) if body else httpx.Response(status)

    assert easypost_error_text(answer) == read
