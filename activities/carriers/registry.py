"""The carriers configured for this deployment, by code (`RETURNFLOW_CARRIERS`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from activities.carriers.colissimo.adapter import ColissimoCarrier
from activities.carriers.colissimo.config import ColissimoConfig
from activities.carriers.easypost.adapter import EasyPostCarrier
from activities.carriers.easypost.config import EasyPostConfig
from activities.carriers.ledger import CarrierLedger
from activities.carriers.protocol import Carrier, CarrierRejected, CarrierUnavailable
from activities.carriers.sandbox import SandboxCarrier
from domain.carriers import CarrierOffer, Label
from plumbing.public_defaults import PublicDefaultsRefused, refuse_public_defaults
from plumbing.settings import Settings
from store import Store

M = TypeVar("M", bound=BaseModel)


class CarrierConfigurationError(ValueError):
    """A configured carrier lacks what it needs; the message names the variable."""


class CarrierRegistry:
    """Looks carriers up by code; also hands out label PDFs (`LabelDocuments`)."""

    def __init__(self, carriers: Iterable[Carrier]) -> None:
        self._carriers = {c.code: c for c in carriers}

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> CarrierRegistry:
        """The configured carriers; the sandbox's only where they are allowed
        (`plumbing.public_defaults`). Colissimo and EasyPost keep their ledger in `store`."""
        try:
            refuse_public_defaults(settings)
        except PublicDefaultsRefused as err:
            raise CarrierConfigurationError(str(err)) from None
        codes = settings.carrier_codes
        if not codes:
            raise CarrierConfigurationError("RETURNFLOW_CARRIERS: name at least one carrier")
        ledger = None
        if {"colissimo", "easypost"} & set(codes):
            ledger = CarrierLedger(store)
        carriers = [_carrier(code, settings, ledger) for code in codes]
        return cls(carriers)

    async def offers(self) -> list[CarrierOffer]:
        return list(await asyncio.gather(*(c.describe() for c in self._carriers.values())))

    def get(self, code: str) -> Carrier:
        try:
            return self._carriers[code]
        except KeyError:
            known = ", ".join(sorted(self._carriers)) or "none"
            raise CarrierRejected(code, f"unknown carrier (configured: {known})") from None

    async def label_pdf(self, label: Label) -> bytes:
        """The label's PDF from its carrier, for the label email and the return page alike.

        A file that is not a PDF (a page from something in between, a proxy's cached 502,
        answered 200 in place of the label) is an outage to try again, never a file handed to
        the customer."""
        document = await self.get(label.carrier).fetch_label_pdf(label)
        if not document.startswith(b"%PDF"):
            raise CarrierUnavailable(label.carrier, "the label file is not a PDF")
        return document

    async def aclose(self) -> None:
        for carrier in self._carriers.values():
            await carrier.aclose()


def _carrier(code: str, settings: Settings, ledger: CarrierLedger | None) -> Carrier:
    if code == "colissimo":
        assert ledger is not None
        return _colissimo(settings, ledger)
    if code == "easypost":
        assert ledger is not None
        return _easypost(settings, ledger)
    # Any other code is a carrier of the embedded sandbox, under its own path there.
    return SandboxCarrier(
        settings.carrier_sandbox_url,
        code,
        settings.carrier_sandbox_api_key.get_secret_value(),
        webhook_secret=settings.carrier_sandbox_webhook_secret.get_secret_value(),
        timeout=settings.carrier_timeout_seconds,
    )


def _colissimo(settings: Settings, ledger: CarrierLedger) -> Carrier:
    config = carrier_config(ColissimoConfig, "RETURNFLOW_COLISSIMO_", settings)
    return ColissimoCarrier(config, ledger)


def _easypost(settings: Settings, ledger: CarrierLedger) -> Carrier:
    config = carrier_config(EasyPostConfig, "RETURNFLOW_EASYPOST_", settings)
    return EasyPostCarrier(config, ledger)


def carrier_config(model: type[M], prefix: str, settings: Settings) -> M:
    """A carrier's configuration from `{prefix}{FIELD}` variables (or the `.env` file).

    Every field of the adapter's config model is a variable: RETURNFLOW_EASYPOST_API_KEY,
    RETURNFLOW_COLISSIMO_OKAPI_KEY, ... Lists are JSON (`["ca_1", "ca_2"]`). A missing or wrong
    value is an error naming the variable, at the worker's start.
    """
    reader = type(
        f"{model.__name__}FromEnv",
        (BaseSettings, model),
        {
            "model_config": SettingsConfigDict(
                env_prefix=prefix, env_file=".env", extra="ignore", frozen=True
            ),
            "__module__": __name__,
        },
    )
    # The adapters name their timeout differently; RETURNFLOW_CARRIER_TIMEOUT_SECONDS sets it
    # for a carrier whose own variable is not set.
    timeout = "timeout_seconds" if "timeout_seconds" in model.model_fields else "timeout"
    try:
        read = reader()
        if timeout not in read.model_fields_set:
            read = reader(**{timeout: settings.carrier_timeout_seconds})
    except ValidationError as err:
        problems = "; ".join(
            f"{prefix}{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in err.errors()
        )
        raise CarrierConfigurationError(problems) from None
    return model.model_validate(read.model_dump())
