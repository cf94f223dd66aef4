"""What the EasyPost adapter needs to know: credentials, where to buy, how to book pickups.

The lead reads these from `RETURNFLOW_EASYPOST_*` environment variables (API key, webhook
secret, ...); every field except the API key has a default that works with EasyPost's test mode.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from domain.base import Identifier, ShortText


class EasyPostConfig(BaseModel):
    """One EasyPost account, as the worker uses it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Identifier = Field(default="easypost", description="The carrier's code in returnflow.")
    name: ShortText = Field(default="EasyPost", description="The name customers are shown.")
    api_key: SecretStr = Field(
        description="Test or production API key; sent as the HTTP Basic user name, no password."
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description=(
            "The `webhook_secret` given to EasyPost for our webhook URL. Without it every "
            "tracking webhook is refused: an unsigned event must not be believed."
        ),
    )
    base_url: str = Field(
        default="https://api.easypost.com/v2", description="EasyPost's API, version 2."
    )
    carrier_accounts: list[str] = Field(
        default_factory=list,
        description="`ca_...` IDs to rate with; empty means every account EasyPost has for us.",
    )
    preferred_carrier: str | None = Field(
        default=None, description="Buy only this carrier's rates (e.g. USPS); else the cheapest."
    )
    preferred_service: str | None = Field(
        default=None, description="Buy only this service (e.g. GroundAdvantage); else cheapest."
    )
    pickup_service: str | None = Field(
        default=None, description="Book only this pickup service (e.g. NextDay); else cheapest."
    )
    pickup_timezone: str = Field(
        default="America/New_York",
        description="Where pickup days and windows are counted for customers in a country "
        "with no single time zone known to returnflow (the United States); in Europe, their "
        "country's.",
    )
    pickup_ready_time: dt.time = Field(
        default=dt.time(8, 0),
        description="The parcel is in the mailbox from then on: the window's start and the "
        "customer's deposit-before time.",
    )
    pickup_close_time: dt.time = Field(
        default=dt.time(18, 0), description="The end of the pickup window."
    )
    pickup_days_ahead: int = Field(default=5, ge=1, le=20, description="Pickup days offered.")
    pickup_instructions: ShortText = Field(
        default="Parcel in the mailbox", description="What the driver is told."
    )
    webhook_tolerance_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How far an `X-Timestamp` may be from our clock before a webhook is stale.",
    )
    timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        description="How long one call to EasyPost may take "
        "(unset: RETURNFLOW_CARRIER_TIMEOUT_SECONDS).",
    )

    @field_validator("pickup_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}") from err
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.pickup_timezone)
