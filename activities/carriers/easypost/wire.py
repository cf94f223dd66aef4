"""EasyPost's REST API v2 on the wire: authentication, JSON bodies, error bodies, units.

Sources: https://docs.easypost.com/docs/authentication (the API key is the HTTP Basic user name,
no password), https://docs.easypost.com/docs/errors (error body), the request/response pairs
recorded in EasyPost/easypost-python's `tests/cassettes` and the docs' examples in
EasyPost/examples (`official/docs/curl`, `official/docs/responses`).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import httpx

from activities.carriers.easypost.config import EasyPostConfig
from activities.carriers.http_errors import send
from activities.carriers.protocol import CarrierAuthFailed, CarrierRejected, CarrierUnavailable
from domain.addresses import PostalAddress

GRAMS_PER_OUNCE = 28.349523125
"""EasyPost weighs parcels in ounces, to one decimal (docs.easypost.com/docs/parcels)."""

Json = dict[str, Any]


class EasyPostApi:
    """One EasyPost account over HTTP; every failure comes out as a classified carrier error."""

    def __init__(
        self, config: EasyPostConfig, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.carrier = config.code
        self._http = httpx.AsyncClient(
            base_url=config.base_url.rstrip("/") + "/",
            auth=httpx.BasicAuth(config.api_key.get_secret_value(), ""),
            headers={"Accept": "application/json"},
            timeout=config.timeout_seconds,
            transport=transport,
        )
        # Label files live on EasyPost's file host (S3 URLs in every recorded answer): they are
        # fetched without our credentials, which must never leave api.easypost.com.
        self._files = httpx.AsyncClient(
            timeout=config.timeout_seconds, transport=transport, follow_redirects=True
        )

    async def get(self, path: str, params: dict[str, str] | None = None) -> Json:
        response = await send(
            self._http, self.carrier, "GET", path, read_error=easypost_error_text, params=params
        )
        return self._object(response)

    async def post(self, path: str, body: Json | None = None) -> Json:
        response = await send(
            self._http, self.carrier, "POST", path, read_error=easypost_error_text, json=body or {}
        )
        return self._object(response)

    async def download(self, url: str) -> bytes:
        """A label file from EasyPost's file host. Its refusals (a link expired, a file not
        there yet: 403, 404) judge the link, not our credentials nor our request: retried, and
        the next attempt reads the shipment, and a fresh link, again."""
        try:
            response = await send(self._files, self.carrier, "GET", url)
        except (CarrierAuthFailed, CarrierRejected) as err:
            raise CarrierUnavailable(
                self.carrier, f"the label file host: {err.message}", status=err.status
            ) from err
        return response.content

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._files.aclose()

    def _object(self, response: httpx.Response) -> Json:
        # A success that is not a JSON object is something in between (a proxy's page), not
        # EasyPost's considered answer: worth trying again later.
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise CarrierUnavailable(
                self.carrier, "answer is not a JSON object", status=response.status_code
            )
        return data


def easypost_error_text(response: httpx.Response) -> tuple[str, str | None]:
    """`{"error": {"code", "message", "errors": [...]}}`: the message and the first field.

    `errors` holds FieldError objects (`field`, `message`, `suggestion`) or plain strings: the
    docs say both occur and both are recorded (PARAMETER.REQUIRED vs NOT_FOUND cassettes).
    """
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase, None
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return response.reason_phrase or f"HTTP {response.status_code}", None
    code, message = error.get("code"), error.get("message")
    text = f"{code}: {message}" if code and message else str(message or code or "error")
    field: str | None = None
    details = error.get("errors")
    first = details[0] if isinstance(details, list) and details else None
    if isinstance(first, dict):
        field = str(first["field"]) if first.get("field") else None
        if first.get("message"):
            text += f" ({field or 'detail'}: {first['message']})"
    elif isinstance(first, str):
        text += f" ({first})"
    return text[:300], field


def address(address: PostalAddress) -> Json:
    """An EasyPost Address from ours.

    US addresses normally carry `state`; PostalAddress has no such field, so none is sent and
    the ZIP code has to do. Whether EasyPost and its carriers take a US address without
    `state` is not said in the Address docs we could read; every documented example has one.
    """
    body: Json = {
        "name": address.name,
        "street1": address.line1,
        "city": address.city,
        "zip": address.postal_code,
        "country": address.country_code,
    }
    optional = {"company": address.company, "street2": address.line2, "phone": address.phone}
    body.update({key: value for key, value in optional.items() if value})
    return body


def ounces(grams: int) -> float:
    """Parcel weight for EasyPost: ounces, one decimal (as in every documented example),
    rounded up: never declared lighter than it is. (The tenths are rounded to a millionth
    first, so that float noise on an exact tenth does not add one.)"""
    return max(0.1, math.ceil(round(grams / GRAMS_PER_OUNCE * 10, 6)) / 10)


def timestamp(value: str) -> dt.datetime:
    """EasyPost's ISO 8601 times (`...Z` or `+00:00`); a time without zone is UTC, as the
    Tracker docs say of scans whose location is unknown."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def cheapest(
    carrier: str,
    rates: list[Json],
    *,
    only_carrier: str | None,
    only_service: str | None,
    messages: list[Json],
    what: str,
) -> Json:
    """The cheapest offered rate (shipment `rates` or `pickup_rates`: both carry `carrier`,
    `service` and `rate` as a decimal string), among the configured carrier and service."""
    fitting = [
        rate
        for rate in rates
        if (only_carrier is None or str(rate.get("carrier", "")).lower() == only_carrier.lower())
        and (only_service is None or rate.get("service") == only_service)
    ]
    if not fitting:
        # Carriers that could not rate say why in `messages` (docs.easypost.com/docs/messages).
        why = "; ".join(str(m.get("message")) for m in messages if m.get("message"))
        wanted = "/".join(x for x in (only_carrier, only_service) if x) or "any carrier"
        raise CarrierRejected(
            carrier, f"no {what} for {wanted}" + (f": {why}" if why else ""), field=what
        )
    return min(fitting, key=lambda rate: Decimal(str(rate.get("rate", "Infinity"))))
