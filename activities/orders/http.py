"""`HttpOrderService`: the marketplace's order service over HTTP (the contract in
schemas/marketplace-openapi.json; the marketplace sandbox plays it in the dev stack).

Each call carries the request's idempotency key (`Idempotency-Key`) and a bearer token; its
answer is classified as the carriers' are:

- 201 or 200: the refund or claim recorded (`created` says whether this call recorded it);
- 409 `idempotency_conflict`: the key was used for another request, `RefundConflict` for good;
- 408, 425, 429, 5xx, another 2xx or an unreadable 200/201 (the request may be recorded), a
  timeout or no connection: `OrderServiceUnavailable`, retried (after `Retry-After` when the
  service gives one, at most 10 minutes);
- a 3xx (a wrong URL) or any other 4xx (bad data, bad credentials): `OrderServiceRejected`, not
  retried: operations are told (`refund_request_failed`, `claim_failed`).

What the service says goes into the failure's message only as its status, its error code and at
most 100 characters of its JSON error message: never its raw body.
"""

from __future__ import annotations

import datetime as dt
import math
import ssl
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from temporalio.exceptions import ApplicationError

from activities.carriers.http_errors import retry_after
from activities.failures import refund_conflict
from domain.failures import FailureType
from domain.inspection import Claim, ClaimRequest
from domain.returns import Refund, RefundRequest

M = TypeVar("M", bound=BaseModel)


class HttpOrderService:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_seconds: float = 10.0,
        ca_file: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_seconds,
            headers={"Authorization": f"Bearer {token}"},
            verify=ssl.create_default_context(cafile=str(ca_file)) if ca_file else True,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request_refund(self, request: RefundRequest) -> Refund:
        return await self._post("/v1/refunds", request, request.idempotency_key, Refund)

    async def file_claim(self, request: ClaimRequest) -> Claim:
        return await self._post("/v1/claims", request, request.idempotency_key, Claim)

    async def _post(self, path: str, body: BaseModel, key: str, answer: type[M]) -> M:
        try:
            response = await self._http.post(
                path,
                content=body.model_dump_json(),
                headers={"Content-Type": "application/json", "Idempotency-Key": key},
            )
        except httpx.TimeoutException as err:
            raise unavailable(f"order service timed out: {type(err).__name__}") from None
        except httpx.TransportError as err:
            raise unavailable(f"order service unreachable: {type(err).__name__}") from None
        if response.status_code in (200, 201):
            try:
                return answer.model_validate_json(response.content)
            except ValidationError:
                # It may well have recorded the request: the same key again is safe.
                raise unavailable(
                    f"order service answered {path} {response.status_code} unreadably: the "
                    "request may be recorded under its key; asked again"
                ) from None
        _raise_for(response)


RETRIED_STATUSES = frozenset({408, 425, 429})
"""4xx that mean "not now" (besides every 5xx): retried."""
MAX_RETRY_AFTER = 600.0
"""The longest `Retry-After` honoured (seconds): the refund has a legal deadline."""


def _raise_for(response: httpx.Response) -> NoReturn:
    status = response.status_code
    code = _error_code(response)
    said = f"order service HTTP {status}" + (f" {code}" if code else "")
    if status == 409 and code == "idempotency_conflict":
        raise refund_conflict(f"{said}: the key was used for another request")
    if status in RETRIED_STATUSES or status >= 500 or 200 <= status < 300:
        wait = retry_after(response)
        delay = None
        if wait is not None and math.isfinite(wait):
            delay = dt.timedelta(seconds=min(wait, MAX_RETRY_AFTER))
        raise unavailable(said, delay)
    if 300 <= status < 400:
        where = _safe(response.headers.get("location", ""))
        raise rejected(f"{said}: redirected to {where}: fix RETURNFLOW_ORDER_SERVICE_URL")
    raise rejected(f"{said}: {_safe(_message(response))}")


def _message(response: httpx.Response) -> str:
    """The service's own message, when its error is JSON; never the raw body (it might echo
    what was sent)."""
    try:
        error: Any = response.json().get("error", {})
    except (ValueError, AttributeError):
        return ""
    return str(error.get("message", "")) if isinstance(error, dict) else ""


def _safe(text: str, limit: int = 100) -> str:
    """At most `limit` printable characters: it goes to the logs and the return's status."""
    printable = "".join(c if c.isprintable() else " " for c in text)
    return printable[:limit]


def _error_code(response: httpx.Response) -> str | None:
    try:
        error: Any = response.json().get("error", {})
    except (ValueError, AttributeError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return _safe(str(code), 40) if code else None


def unavailable(message: str, retry_after: dt.timedelta | None = None) -> ApplicationError:
    """The order service is down, slow or throttling: retried."""
    return ApplicationError(
        message, type=FailureType.ORDER_SERVICE_UNAVAILABLE, next_retry_delay=retry_after
    )


def rejected(message: str) -> ApplicationError:
    """The order service refused the request for good: operations are told."""
    return ApplicationError(message, type=FailureType.ORDER_SERVICE_REJECTED, non_retryable=True)
