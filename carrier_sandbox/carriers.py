"""The carriers the sandbox plays, from a JSON file: who each is and what its API offers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from domain.carriers import CarrierCapability

DEFAULT_CARRIERS_FILE = Path(__file__).with_name("carriers.json")


class PriceBand(BaseModel):
    """The price of a return label for a parcel up to `up_to_grams`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    up_to_grams: int = Field(gt=0, le=30_000)
    domestic: Decimal = Field(
        gt=0, decimal_places=2, description="Sender and recipient in one country."
    )
    international: Decimal = Field(gt=0, decimal_places=2, description="Across a border.")


class Tariff(BaseModel):
    """What a carrier charges for a return label, by weight band, lightest first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    bands: tuple[PriceBand, ...] = Field(min_length=1)

    def band(self, weight_grams: int) -> PriceBand | None:
        """The lightest band the parcel fits in; none when it is heavier than every band."""
        return next((b for b in self.bands if weight_grams <= b.up_to_grams), None)


class CarrierConfig(BaseModel):
    """One carrier of the sandbox, served under `/carriers/{code}/v1/`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] = Field(
        description="Lower-case code: the path segment of its API and its name in configuration."
    )
    name: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    capabilities: tuple[CarrierCapability, ...] = Field(
        description="What its API offers, in the order `GET .../v1/carrier` lists them."
    )
    tracking_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        description="The two letters its UPU S10 tracking numbers start with."
    )
    network: str | None = Field(
        default=None,
        description="Whose counters the post-office locator lists (default: its own code).",
    )
    countries: tuple[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")], ...] | None = Field(
        default=None,
        description="The countries it carries parcels from and to (default: every country).",
    )
    tariff: Tariff | None = Field(
        default=None, description="Its return labels' prices (default: it quotes none)."
    )

    def offers(self, capability: CarrierCapability) -> bool:
        return capability in self.capabilities

    def refuses_country(self, country_code: str) -> bool:
        return self.countries is not None and country_code not in self.countries

    @property
    def counter_network(self) -> str:
        return self.network or self.code


class CarriersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carriers: list[CarrierConfig] = Field(min_length=1)


class CarriersFileError(ValueError):
    """The carriers file cannot be used; the message names the file and the fault."""


CarrierSource = Path | str | Iterable[CarrierConfig] | None
"""A carriers file, the carriers themselves, or None for the built-in file."""


def load_carriers(source: CarrierSource = None) -> Mapping[str, CarrierConfig]:
    """The carriers by code, in the order configured."""
    if source is None or isinstance(source, str | Path):
        path = Path(source) if source is not None else DEFAULT_CARRIERS_FILE
        try:
            parsed = CarriersFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, ValidationError) as err:
            raise CarriersFileError(f"{path}: {err}") from None
        carriers: list[CarrierConfig] = parsed.carriers
    else:
        carriers = list(source)
    by_code = {c.code: c for c in carriers}
    if len(by_code) != len(carriers) or not carriers:
        raise CarriersFileError("carriers: give at least one carrier, each code once")
    prefixes = [c.tracking_prefix for c in carriers]
    if len(set(prefixes)) != len(prefixes):
        raise CarriersFileError("carriers: each carrier needs its own tracking_prefix")
    return by_code
