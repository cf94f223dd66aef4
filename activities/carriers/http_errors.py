"""Turn a carrier's HTTP answer into the carrier errors every adapter shares."""

from __future__ import annotations

from typing import NoReturn

import httpx

from activities.carriers.protocol import CarrierAuthFailed, CarrierRejected, CarrierUnavailable


def raise_for_carrier(
    carrier: str, response: httpx.Response | None, reason: str | None = None
) -> NoReturn:
    """Classify a failed call: no response or 5xx/429 is retryable, any other 4xx is not."""
    if response is None:
        raise CarrierUnavailable(carrier, reason or "no response")
    status = response.status_code
    message, field = _error_text(response)
    if status in (401, 403):
        refused = f"credentials refused ({status}): {message}"
        raise CarrierAuthFailed(carrier, refused, status=status)
    if status == 429 or status >= 500:
        raise CarrierUnavailable(
            carrier,
            f"HTTP {status}: {message}",
            retry_after=_retry_after(response),
            status=status,
        )
    raise CarrierRejected(carrier, message, field=field, status=status)


def _error_text(response: httpx.Response) -> tuple[str, str | None]:
    try:
        error = response.json().get("error", {})
    except ValueError:
        return response.text[:200] or response.reason_phrase, None
    if not isinstance(error, dict):
        return str(error)[:200], None
    message = str(error.get("message") or error.get("code") or response.reason_phrase)
    field = error.get("field")
    return message, str(field) if field else None


def _retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds; the HTTP-date form is rare for APIs and treated as absent."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
