"""Turn a carrier's HTTP answer into the carrier errors every adapter shares.

Every adapter sends through `send`, so that a timeout, a refused connection, a 5xx, a 429 and a
4xx mean the same thing whichever carrier answered. Carriers word their errors differently: an
adapter passes an `ErrorReader` that finds the message (and the field, when the carrier names
one) in its carrier's error body.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any, NoReturn

import httpx

from activities.carriers.protocol import CarrierAuthFailed, CarrierRejected, CarrierUnavailable

ErrorReader = Callable[[httpx.Response], tuple[str, str | None]]
"""The carrier's message and the field it blames (or None), from an error response."""


def answer_deadline(http: httpx.AsyncClient) -> float | None:
    """How long a whole answer may take: twice the client's longest timeout. httpx's timeout
    bounds each step (connect, each write, each read): a service answering a byte at a time
    would otherwise hold a call for as long as it likes."""
    steps = http.timeout
    known = [t for t in (steps.connect, steps.read, steps.write, steps.pool) if t is not None]
    return 2 * max(known) if known else None


async def send(
    http: httpx.AsyncClient,
    carrier: str,
    method: str,
    url: str,
    *,
    read_error: ErrorReader | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """One HTTP call to a carrier; any failure is raised as a classified carrier error."""
    deadline = answer_deadline(http)
    try:
        async with asyncio.timeout(deadline):
            response = await http.request(method, url, **kwargs)
    except TimeoutError:
        raise_for_carrier(carrier, None, f"timed out: no whole answer within {deadline:g}s")
    except httpx.TimeoutException as err:
        raise_for_carrier(carrier, None, f"timed out: {type(err).__name__}")
    except httpx.TransportError as err:
        raise_for_carrier(carrier, None, f"unreachable: {type(err).__name__}")
    if response.is_error:
        raise_for_carrier(carrier, response, read_error=read_error)
    return response


def raise_for_carrier(
    carrier: str,
    response: httpx.Response | None,
    reason: str | None = None,
    *,
    read_error: ErrorReader | None = None,
) -> NoReturn:
    """Classify a failed call: no response or 5xx/429 is retryable, any other 4xx is not."""
    if response is None:
        raise CarrierUnavailable(carrier, reason or "no response")
    message, field = (read_error or sandbox_error_text)(response)
    raise_for_status(
        carrier, response.status_code, message, field=field, retry_after=retry_after(response)
    )


def raise_for_status(
    carrier: str,
    status: int,
    message: str,
    *,
    field: str | None = None,
    retry_after: float | None = None,
) -> NoReturn:
    """The carrier error for an HTTP status (also for carriers that answer 200 with an error)."""
    if status in (401, 403):
        refused = f"credentials refused ({status}): {message}"
        raise CarrierAuthFailed(carrier, refused, status=status)
    if status == 402:
        # The account's billing or funds (EasyPost's Payment Required): operations' to fix,
        # as credentials are, never the customer's data.
        refused = f"account refused (402, billing or funds): {message}"
        raise CarrierAuthFailed(carrier, refused, status=status)
    if status in (408, 429) or status >= 500:
        raise CarrierUnavailable(
            carrier, f"HTTP {status}: {message}", retry_after=retry_after, status=status
        )
    raise CarrierRejected(carrier, message, field=field, status=status)


def sandbox_error_text(response: httpx.Response) -> tuple[str, str | None]:
    """`{"error": {"code", "message", "field"}}`, the sandbox's shape (and a common one)."""
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason_phrase, None
    if not isinstance(error, dict):
        return str(error)[:200], None
    message = str(error.get("message") or error.get("code") or response.reason_phrase)
    field = error.get("field")
    return message, str(field) if field else None


MAX_RETRY_AFTER = 600.0
"""The longest `Retry-After` honoured (seconds), as long as the retry policies' longest wait:
a choice, a refund and a seller's ask have deadlines."""


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds, at most `MAX_RETRY_AFTER`; the HTTP-date form is rare for APIs
    and, like a value that is not a finite number, treated as absent."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)
