"""How to reach Colissimo's web services and La Poste's tracking API, and with which secrets."""

from __future__ import annotations

from decimal import Decimal
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

SLS_URL = "https://ws.colissimo.fr/sls-ws/SlsServiceWSRest/2.0"
"""The label web service (SLS), REST flavour: `/generateLabel`, `/planPickup`, ..."""

POINT_RETRAIT_URL = "https://ws.colissimo.fr/pointretrait-ws-cxf/rest/v2/pointretrait"
"""The pick-up point web service: `/findRDVPointRetraitAcheminement`."""

TRACKING_URL = "https://api.laposte.fr/suivi/v2"
"""La Poste's "Suivi v2" tracking API: `/idships/{idShip}`."""


class ColissimoConfig(BaseModel):
    """Colissimo's endpoints and credentials (read from RETURNFLOW_COLISSIMO_* variables).

    The SLS Swagger marks `contractNumber`/`password` in request bodies as deprecated in favour
    of an `apiKey` header; both are supported: with `api_key` set, the contract number and
    password are not sent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field("colissimo", description="The carrier's code in configuration.")
    contract_number: str | None = Field(
        None, description="Colissimo contract (account) number for the web services."
    )
    password: SecretStr | None = Field(None, description="Web-services password of the contract.")
    api_key: SecretStr | None = Field(
        None, description="Colissimo apiKey (replaces contract number and password when set)."
    )
    okapi_key: SecretStr = Field(description="La Poste developer key for tracking (X-Okapi-Key).")
    sls_url: str = Field(SLS_URL, description="Base URL of the SLS label web service.")
    pointretrait_url: str = Field(POINT_RETRAIT_URL, description="Base URL of Point Retrait.")
    tracking_url: str = Field(TRACKING_URL, description="Base URL of La Poste Suivi v2.")
    timeout: float = Field(
        20.0, gt=0, description="Seconds per HTTP call (unset: RETURNFLOW_CARRIER_TIMEOUT_SECONDS)."
    )
    label_format: str = Field(
        "PDF_A4_300dpi",
        description=(
            "SLS outputPrintingType. A4 PDF, because customers print at home on A4 paper; "
            "PDF_10x15_300dpi suits thermal printers."
        ),
    )
    label_price: Decimal | None = Field(
        None,
        gt=0,
        decimal_places=2,
        description=(
            "What the contract charges for a return label, in euros (Colissimo's web services "
            "quote no price); unset: no price is shown and nothing is withheld from refunds."
        ),
    )
    include_relay_points: bool = Field(
        False,
        description=(
            "Also list relay points and lockers in the locator (filterRelay=1); by default "
            "only post offices (filterRelay=0), which take parcels up to 30 kg."
        ),
    )

    @field_validator("sls_url", "pointretrait_url", "tracking_url")
    @classmethod
    def _without_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @model_validator(mode="after")
    def _has_credentials(self) -> Self:
        if self.api_key is None and (self.contract_number is None or self.password is None):
            raise ValueError("Colissimo needs api_key, or contract_number and password")
        return self
