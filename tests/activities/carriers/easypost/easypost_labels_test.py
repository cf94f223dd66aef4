"""EasyPost return labels: bought once, fetched as PDF, refunded once."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal
from typing import Any

import httpx
import pypdf
import pytest

from activities.carriers.easypost import EASYPOST_CAPABILITIES, EasyPostCarrier
from activities.carriers.easypost.wire import ounces
from activities.carriers.ledger import CarrierLedger
from activities.carriers.protocol import CarrierRejected, CarrierUnavailable
from activities.carriers.registry import CarrierRegistry
from domain.base import Money
from tests.activities.carriers.easypost.builders import easypost, easypost_config, label_request
from tests.activities.carriers.replay.easypost import US_CUSTOMER, US_SELLER, EasyPostReplay
from tests.factories import quote_of


async def test_easypost_declares_labels_pickups_and_tracking(carrier: EasyPostCarrier) -> None:
    offer = await carrier.describe()

    assert offer.code == carrier.code == "easypost" and offer.name == "EasyPost"
    assert offer.capabilities == EASYPOST_CAPABILITIES


async def test_a_return_label_goes_from_the_customer_back_to_the_seller(
    carrier: EasyPostCarrier, replay: EasyPostReplay, ledger: CarrierLedger
) -> None:
    label = await carrier.create_return_label(label_request())

    [created] = replay.bodies("shipment.create")
    shipment = created["shipment"]
    assert shipment["is_return"] is True
    # Returns docs: addresses as on the original shipment (seller -> customer), EasyPost swaps.
    assert shipment["to_address"]["street1"] == US_CUSTOMER.line1
    assert shipment["to_address"]["street2"] == US_CUSTOMER.line2
    assert shipment["from_address"]["company"] == US_SELLER.company
    assert shipment["parcel"] == {"weight": 17.0}
    assert shipment["reference"] == "return-ORD1-1"
    assert shipment["options"] == {"label_format": "PDF"}
    bought = replay.shipments[label.label_id]
    assert replay.bodies("shipment.buy") == [{"rate": {"id": bought["selected_rate"]["id"]}}]
    assert bought["selected_rate"]["service"] == "GroundAdvantage", "the cheapest rate"
    assert label.tracking_number == bought["tracking_code"] and label.carrier == "easypost"
    asked = len(replay.requests)
    another_worker = easypost(replay, ledger)
    assert await carrier.create_return_label(label_request()) == label
    assert await another_worker.create_return_label(label_request()) == label
    assert len(replay.requests) == asked, "the same key gives the label without asking again"
    await another_worker.aclose()


@pytest.mark.parametrize(
    ("lost", "shipments"),
    # A lost creation answer makes a second, unbought (free) shipment; a lost purchase answer
    # is found on the retry by reading the shipment back.
    [("shipment.create", 2), ("shipment.buy", 1)],
)
async def test_a_label_whose_answer_was_lost_is_never_bought_twice(
    carrier: EasyPostCarrier, replay: EasyPostReplay, lost: str, shipments: int
) -> None:
    replay.lose_answer(lost, 503)
    with pytest.raises(CarrierUnavailable):
        await carrier.create_return_label(label_request())
    label = await carrier.create_return_label(label_request())

    assert replay.calls("shipment.create") == shipments and replay.calls("shipment.buy") == 1
    assert replay.calls("shipment.get") == (1 if lost == "shipment.buy" else 0)
    assert label.tracking_number == replay.shipments[label.label_id]["tracking_code"]


class HeldPurchase(httpx.AsyncBaseTransport):
    """The replay, with this attempt's purchase held on its way until `go` is set."""

    def __init__(self, replay: EasyPostReplay) -> None:
        self.replay = replay
        self.at_purchase, self.go = asyncio.Event(), asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/buy"):
            self.at_purchase.set()
            await self.go.wait()
        return await self.replay.transport.handle_async_request(request)


async def test_two_attempts_of_one_label_that_overlap_buy_it_once_and_both_give_it(
    replay: EasyPostReplay, ledger: CarrierLedger
) -> None:
    """Temporal timed the first attempt out while its purchase was on its way: the retry read
    the shipment unbought, and EasyPost refuses its purchase once the first one lands."""
    first, retry = HeldPurchase(replay), HeldPurchase(replay)
    lost, again = (EasyPostCarrier(easypost_config(), ledger, transport=t) for t in (first, retry))
    try:
        lost_attempt = asyncio.create_task(lost.create_return_label(label_request()))
        await first.at_purchase.wait()
        retried = asyncio.create_task(again.create_return_label(label_request()))
        await retry.at_purchase.wait()
        first.go.set()
        bought = await lost_attempt
        retry.go.set()
        given = await retried
    finally:
        await lost.aclose()
        await again.aclose()

    assert given == bought
    assert replay.calls("shipment.create") == 1 and replay.calls("shipment.buy") == 2
    assert [s["postage_label"] is not None for s in replay.shipments.values()] == [True]


class HeldCreation(httpx.AsyncBaseTransport):
    """The replay, with this attempt's shipment creation answered but its answer held until
    `go` is set (Temporal timed the attempt out meanwhile)."""

    def __init__(self, replay: EasyPostReplay) -> None:
        self.replay = replay
        self.created, self.go = asyncio.Event(), asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.replay.transport.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/shipments"):
            self.created.set()
            await self.go.wait()
        return answer


async def test_two_attempts_that_overlap_from_the_creation_buy_one_label_and_both_give_it(
    replay: EasyPostReplay, ledger: CarrierLedger
) -> None:
    """The first attempt's shipment is made but its answer is late; the retry makes its own
    and buys it. The late attempt then finds the retry's shipment recorded: its own stays
    unbought (free), and nothing is bought twice."""
    held = HeldCreation(replay)
    late, again = (
        EasyPostCarrier(easypost_config(), ledger, transport=held),
        easypost(replay, ledger),
    )
    try:
        late_attempt = asyncio.create_task(late.create_return_label(label_request()))
        await held.created.wait()
        given = await again.create_return_label(label_request())
        held.go.set()
        bought = await late_attempt
        recalled = await again.create_return_label(label_request())
    finally:
        await late.aclose()
        await again.aclose()

    assert bought == given == recalled
    assert replay.calls("shipment.create") == 2
    assert [s["id"] for s in replay.shipments.values() if s["postage_label"]] == [given.label_id]


@pytest.mark.parametrize(
    ("settings", "service"),
    [
        ({"preferred_carrier": "usps", "preferred_service": "Priority"}, "Priority"),
        ({"carrier_accounts": ["ca_1"]}, "GroundAdvantage"),
        ({"preferred_carrier": "UPS"}, None),
    ],
)
async def test_the_configured_carrier_service_and_accounts_are_used(
    carrier: EasyPostCarrier, replay: EasyPostReplay, settings: dict[str, Any], service: str | None
) -> None:
    if service is None:
        with pytest.raises(CarrierRejected) as refused:
            await carrier.create_return_label(label_request())
        assert refused.value.field == "rate" and replay.calls("shipment.buy") == 0
        return
    label = await carrier.create_return_label(label_request())

    assert replay.shipments[label.label_id]["selected_rate"]["service"] == service
    created = replay.bodies("shipment.create")[0]["shipment"]
    assert created.get("carrier_accounts") == settings.get("carrier_accounts")


async def test_the_label_pdf_is_downloaded_without_our_credentials(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    label = await carrier.create_return_label(label_request())
    pdf = await carrier.fetch_label_pdf(label)

    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1
    [download] = [seen for seen in replay.requests if seen.path.endswith(".pdf")]
    assert download.authorization is None
    assert replay.calls("shipment.label") == 0


async def test_a_label_link_the_file_host_refuses_is_tried_again_not_blamed_on_credentials(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    label = await carrier.create_return_label(label_request())
    replay.expire_next_file_link()

    with pytest.raises(CarrierUnavailable, match="the label file host") as refused:
        await carrier.fetch_label_pdf(label)
    pdf = await carrier.fetch_label_pdf(label)  # the retry reads the shipment's link again

    assert refused.value.status == 403
    assert pdf.startswith(b"%PDF")


async def test_a_page_in_place_of_the_label_file_is_tried_again_never_handed_on(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    label = await carrier.create_return_label(label_request())
    replay.garble_next_file()

    registry = CarrierRegistry([carrier])  # what the label email and the return page ask

    with pytest.raises(CarrierUnavailable, match="the label file is not a PDF"):
        await registry.label_pdf(label)
    assert (await registry.label_pdf(label)).startswith(b"%PDF")


@pytest.mark.parametrize("pdf_labels", [False])
async def test_a_label_the_carrier_made_as_png_is_converted_to_pdf(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    pdf = await carrier.fetch_label_pdf(await carrier.create_return_label(label_request()))

    assert pdf.startswith(b"%PDF")
    [convert] = [seen for seen in replay.requests if seen.path.endswith("/label")]
    assert convert.query == {"file_format": "PDF"}


@pytest.mark.parametrize(
    ("refund_status", "first", "again"),
    [
        ("submitted", "done", "already_done"),
        ("refunded", "done", "already_done"),
        ("not_applicable", "nothing_to_undo", "nothing_to_undo"),
        ("rejected", None, None),
    ],
)
async def test_a_voided_label_is_refunded_once(
    carrier: EasyPostCarrier,
    replay: EasyPostReplay,
    refund_status: str,
    first: str | None,
    again: str | None,
) -> None:
    label = await carrier.create_return_label(label_request())
    replay.refund_answer = refund_status
    if first is None:
        with pytest.raises(CarrierRejected, match="refund rejected"):
            await carrier.void_label(label)
        return
    voided, repeated = await carrier.void_label(label), await carrier.void_label(label)

    assert (voided.outcome, repeated.outcome) == (first, again)
    assert voided.object_id == label.label_id and replay.calls("shipment.refund") == 1


def test_grams_become_ounces_to_a_tenth_never_lighter_than_the_parcel() -> None:
    # 455 g is 16.05 oz: declared 16.1, not 16.0; 2,835 g is 100.0016 oz.
    grams = (1, 455, 480, 1000, 2835, 30_000)
    assert [ounces(g) for g in grams] == [0.1, 16.1, 17.0, 35.3, 100.1, 1058.3]


async def test_a_quote_is_the_rate_a_label_would_be_bought_at_and_buys_nothing(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    quote = quote_of(label_request())

    price = await carrier.quote_return_label(quote)

    assert price == Money(amount=Decimal("6.45"), currency="USD"), "GroundAdvantage, cheapest"
    [created] = replay.bodies("shipment.create")
    assert created["shipment"]["is_return"] is True and "reference" not in created["shipment"]
    assert replay.bodies("shipment.buy") == [], "nothing bought"


async def test_a_quote_honours_the_preferred_service(
    replay: EasyPostReplay, ledger: CarrierLedger
) -> None:
    carrier = easypost(replay, ledger, preferred_service="Priority")
    quote = quote_of(label_request())

    try:
        price = await carrier.quote_return_label(quote)
    finally:
        await carrier.aclose()

    assert price == Money(amount=Decimal("8.15"), currency="USD")
