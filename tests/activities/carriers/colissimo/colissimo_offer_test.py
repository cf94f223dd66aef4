"""What Colissimo offers, and how it is configured."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from activities.carriers.colissimo import ColissimoConfig
from domain.base import Money
from domain.carriers import CarrierCapability
from tests.activities.carriers.colissimo.builders import Colissimo, label_request, open_colissimo
from tests.activities.carriers.replay.colissimo import COLISSIMO_CAPABILITIES, replay_config
from tests.factories import quote_of


async def test_colissimo_declares_labels_drop_off_mailbox_pickup_locator_and_polling(
    colissimo: Colissimo,
) -> None:
    offer = await colissimo.carrier.describe()

    assert (offer.code, offer.name) == ("colissimo", "Colissimo")
    assert offer.capabilities == COLISSIMO_CAPABILITIES
    assert CarrierCapability.COUNTER_RETURN_CODE not in offer.capabilities
    assert colissimo.replay.requests == [], "the offer is static"


async def test_the_configured_code_names_the_carrier(tmp_path: Path) -> None:
    opened = await open_colissimo(tmp_path, replay_config(code="colissimo-fr"))
    try:
        label = await opened.carrier.create_return_label(label_request())
    finally:
        await opened.carrier.aclose()
        opened.ledger.close()

    assert (await opened.carrier.describe()).code == opened.carrier.code == "colissimo-fr"
    assert label.carrier == "colissimo-fr"


def test_the_configuration_needs_credentials() -> None:
    with pytest.raises(ValueError, match="api_key, or contract_number and password"):
        ColissimoConfig(okapi_key=SecretStr("k"), contract_number="812345")


def test_configured_urls_lose_their_trailing_slash() -> None:
    config = replay_config(sls_url="https://sls.example/2.0/", tracking_url="https://t.example/")

    assert (config.sls_url, config.tracking_url) == ("https://sls.example/2.0", "https://t.example")


async def test_the_contracts_label_price_is_the_quote_and_none_without_one(
    colissimo: Colissimo, tmp_path: Path
) -> None:
    quote = quote_of(label_request())
    priced = await open_colissimo(tmp_path, replay_config(label_price=Decimal("7.15")))
    try:
        with_price = await priced.carrier.quote_return_label(quote)
    finally:
        await priced.carrier.aclose()
        priced.ledger.close()

    assert with_price == Money(amount=Decimal("7.15"), currency="EUR")
    assert await colissimo.carrier.quote_return_label(quote) is None
    assert colissimo.replay.requests == [], "Colissimo's web services quote nothing"
