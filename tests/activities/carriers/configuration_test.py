"""A carrier's configuration from its `RETURNFLOW_<CARRIER>_*` variables, with what every
carrier shares (RETURNFLOW_CARRIER_TIMEOUT_SECONDS) where its own is not set."""

from __future__ import annotations

import pytest

from activities.carriers.colissimo.config import ColissimoConfig
from activities.carriers.easypost.config import EasyPostConfig
from activities.carriers.registry import carrier_config
from plumbing.settings import Settings


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETURNFLOW_EASYPOST_API_KEY", "EZTK-test")
    monkeypatch.setenv("RETURNFLOW_COLISSIMO_OKAPI_KEY", "okapi-test")
    monkeypatch.setenv("RETURNFLOW_COLISSIMO_API_KEY", "sls-test")


def test_every_carrier_takes_the_shared_timeout_where_its_own_is_not_set() -> None:
    shared = Settings(carrier_timeout_seconds=33)

    easypost = carrier_config(EasyPostConfig, "RETURNFLOW_EASYPOST_", shared)
    colissimo = carrier_config(ColissimoConfig, "RETURNFLOW_COLISSIMO_", shared)

    assert (easypost.timeout_seconds, colissimo.timeout) == (33, 33)


def test_a_carriers_own_timeout_is_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETURNFLOW_EASYPOST_TIMEOUT_SECONDS", "55")
    monkeypatch.setenv("RETURNFLOW_COLISSIMO_TIMEOUT", "45")
    shared = Settings(carrier_timeout_seconds=33)

    easypost = carrier_config(EasyPostConfig, "RETURNFLOW_EASYPOST_", shared)
    colissimo = carrier_config(ColissimoConfig, "RETURNFLOW_COLISSIMO_", shared)

    assert (easypost.timeout_seconds, colissimo.timeout) == (55, 45)
