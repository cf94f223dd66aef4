"""Colissimo's errors, classified."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from activities.carriers.colissimo import ColissimoCarrier
from activities.carriers.colissimo.wire import our_field
from activities.carriers.protocol import CarrierAuthFailed, CarrierRejected, CarrierUnavailable
from domain.carriers import PostOfficeQuery
from tests.activities.carriers.colissimo.builders import (
    Colissimo,
    dates_request,
    label_request,
    open_colissimo,
)
from tests.activities.carriers.ledgers import FileLedger
from tests.activities.carriers.replay.colissimo import replay_config
from tests.factories import HOME


async def test_a_message_naming_a_field_is_a_rejection_naming_that_field(
    colissimo: Colissimo,
) -> None:
    colissimo.replay.answer_next("generate_label_field_missing.json", 400, as_multipart=True)

    with pytest.raises(CarrierRejected) as refused:
        await colissimo.carrier.create_return_label(label_request())

    assert refused.value.field == "letter.service.depositDate"
    assert refused.value.status == 400
    assert "50005" in refused.value.message


async def test_an_error_inside_an_http_200_is_a_rejection_too(colissimo: Colissimo) -> None:
    colissimo.replay.answer_next("generate_label_deposit_date_past.json", 200, as_multipart=True)

    with pytest.raises(CarrierRejected) as refused:
        await colissimo.carrier.create_return_label(label_request())

    assert type(refused.value) is CarrierRejected
    assert refused.value.field == "letter.service.depositDate"


@pytest.mark.parametrize("status", [200, 400])
async def test_a_refused_login_is_an_authentication_failure(
    colissimo: Colissimo, status: int
) -> None:
    colissimo.replay.answer_next("generate_label_bad_credentials.json", status, as_multipart=True)

    with pytest.raises(CarrierAuthFailed, match="30000"):
        await colissimo.carrier.create_return_label(label_request())


async def test_wrong_credentials_are_refused_by_every_service(tmp_path: Path) -> None:
    opened = await open_colissimo(tmp_path)
    opened.replay.refuse_credentials()
    carrier = opened.carrier
    try:
        with pytest.raises(CarrierAuthFailed):
            await carrier.create_return_label(label_request())
        with pytest.raises(CarrierAuthFailed):
            await carrier.mailbox_pickup_dates(dates_request())
        with pytest.raises(CarrierAuthFailed):
            await carrier.find_post_offices(PostOfficeQuery(carrier="colissimo", near=HOME))
        with pytest.raises(CarrierAuthFailed):
            await carrier.track("8R00000000001")
    finally:
        await carrier.aclose()
        opened.ledger.close()


async def test_a_refused_api_key_is_an_authentication_failure(colissimo: Colissimo) -> None:
    colissimo.replay.queue(httpx.Response(403, text="Token KO"))

    with pytest.raises(CarrierAuthFailed):
        await colissimo.carrier.create_return_label(label_request())


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_is_an_outage_to_retry(colissimo: Colissimo, status: int) -> None:
    colissimo.replay.fail_next(status)

    with pytest.raises(CarrierUnavailable) as down:
        await colissimo.carrier.create_return_label(label_request())

    assert down.value.status == status
    assert colissimo.replay.calls("generateLabel"), "the request was checked all the same"


async def test_too_many_requests_says_when_to_come_back(colissimo: Colissimo) -> None:
    colissimo.replay.fail_next(429, 7)

    with pytest.raises(CarrierUnavailable) as limited:
        await colissimo.carrier.track("8R00000000001")

    assert limited.value.retry_after == 7.0


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")],
    ids=["timeout", "unreachable"],
)
async def test_no_answer_is_an_outage_to_retry(tmp_path: Path, failure: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    ledger = FileLedger(tmp_path)
    carrier = ColissimoCarrier(replay_config(), ledger, transport=httpx.MockTransport(fail))
    try:
        with pytest.raises(CarrierUnavailable):
            await carrier.create_return_label(label_request())
        with pytest.raises(CarrierUnavailable):
            await carrier.track("8R00000000001")
    finally:
        await carrier.aclose()
        ledger.close()


async def test_an_unreadable_answer_is_an_outage_to_retry(colissimo: Colissimo) -> None:
    colissimo.replay.queue(httpx.Response(200, text="<html>maintenance</html>"))

    with pytest.raises(CarrierUnavailable):
        await colissimo.carrier.create_return_label(label_request())


@pytest.mark.parametrize(
    ("path", "ours"),
    [
        ("letter.sender.address.zipCode", "sender.postal_code"),
        ("letter.sender.address.line2", "sender.line1"),
        ("letter.addressee.address.companyName", "recipient.company"),
        ("letter.addressee.address.countryCode", "recipient.country_code"),
        ("letter.parcel.weight", "parcel.weight_grams"),
        ("sender.zipCode", "address.postal_code"),
        ("parcelNumber", "tracking_number"),
        ("mailBoxPickingDate", "pickup_date"),
        ("letter.service.productCode", "letter.service.productCode"),
    ],
)
def test_a_field_colissimo_blames_is_named_as_we_sent_it(path: str, ours: str) -> None:
    assert our_field(path) == ours
