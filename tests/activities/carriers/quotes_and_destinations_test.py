"""Each offered carrier's price for a return's label, and where a reported parcel goes, asked
of the carrier sandbox over HTTP: a carrier that cannot quote is offered without a price, and
the pricing activity never fails for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.carriers.activities import CarrierActivities
from activities.carriers.registry import CarrierRegistry
from activities.carriers.sandbox import SandboxCarrier
from carrier_sandbox.server import SandboxServer
from domain.carriers import (
    CarrierOffer,
    LabelPricesRequest,
    LabelRequest,
    Parcel,
    ParcelDestination,
    TrackingQuery,
)
from tests.factories import HOME, SELLER_ADDRESS, eur


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(tmp_path / "sandbox.sqlite", rounds=False) as server:
        yield server


@pytest.fixture
async def carriers(sandbox: SandboxServer) -> AsyncIterator[CarrierActivities]:
    registry = CarrierRegistry(
        [SandboxCarrier(sandbox.url, code, sandbox.api_key) for code in ("sandbox", "relay")]
    )
    yield CarrierActivities(registry)
    await registry.aclose()


async def offers(carriers: CarrierActivities) -> list[CarrierOffer]:
    listed: list[CarrierOffer] = await ActivityEnvironment().run(carriers.list_carrier_offers)
    return listed


def prices_request(
    offered: list[CarrierOffer], currency: str = "EUR", weight_grams: int = 480
) -> LabelPricesRequest:
    return LabelPricesRequest(
        offers=offered,
        sender=HOME,
        recipient=SELLER_ADDRESS,
        parcel=Parcel(weight_grams=weight_grams, description="smartphone"),
        currency=currency,
    )


async def test_every_carrier_quotes_its_price_for_this_parcel(carriers: CarrierActivities) -> None:
    offered = await offers(carriers)

    priced = await ActivityEnvironment().run(carriers.price_return_labels, prices_request(offered))

    assert [(o.code, o.label_price) for o in priced] == [
        ("sandbox", eur("6.25")),
        ("relay", eur("4.40")),
    ]
    assert [o.model_copy(update={"label_price": None}) for o in priced] == offered


async def test_a_carrier_that_fails_or_prices_in_another_currency_is_offered_without_a_price(
    carriers: CarrierActivities, sandbox: SandboxServer
) -> None:
    offered = await offers(carriers)
    env = ActivityEnvironment()
    broken = {"endpoint": "POST /carriers/relay/v1/quotes", "error_rate": 1.0, "error_status": 503}
    async with httpx.AsyncClient(base_url=sandbox.url) as bench:
        await bench.put("/sandbox/faults", json={"rules": [broken]})

        failing = await env.run(carriers.price_return_labels, prices_request(offered))
        in_pounds = await env.run(carriers.price_return_labels, prices_request(offered, "GBP"))
        too_heavy = await env.run(
            carriers.price_return_labels, prices_request(offered, weight_grams=25_000)
        )

    assert [o.label_price for o in failing] == [eur("6.25"), None]
    assert [o.label_price for o in in_pounds] == [None, None]
    assert [o.label_price for o in too_heavy] == [eur("27.50"), None]


async def test_the_sandbox_shows_where_a_parcel_goes_and_refuses_a_number_it_never_saw(
    carriers: CarrierActivities,
) -> None:
    env = ActivityEnvironment()
    await offers(carriers)
    label = await env.run(
        carriers.create_return_label,
        LabelRequest(
            idempotency_key="return-ORD-1-1:label:1",
            carrier="sandbox",
            reference="return-ORD-1-1",
            sender=HOME,
            recipient=SELLER_ADDRESS,
            parcel=Parcel(weight_grams=480, description="smartphone"),
        ),
    )

    where = await env.run(
        carriers.parcel_destination,
        TrackingQuery(carrier="sandbox", tracking_number=label.tracking_number),
    )
    with pytest.raises(ApplicationError) as unknown:
        await env.run(
            carriers.parcel_destination,
            TrackingQuery(carrier="sandbox", tracking_number="SB999999999FR"),
        )

    assert where == ParcelDestination(
        country_code=SELLER_ADDRESS.country_code, postal_code=SELLER_ADDRESS.postal_code
    )
    assert where.reaches(SELLER_ADDRESS)
    assert unknown.value.type == "CarrierRejected" and unknown.value.non_retryable
