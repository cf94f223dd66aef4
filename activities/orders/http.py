"""`HttpOrderService`: the marketplace's order service over HTTP (the contract in
schemas/marketplace-openapi.json; the marketplace sandbox plays it in the dev stack).

Each call carries the request's idempotency key (`Idempotency-Key`) and a bearer token; its
answer is classified as the carriers' are:

- 201 or 200: the refund or claim recorded (`created` says whether this call recorded it);
- 409 `idempotency_conflict`: the key was used for another request, `RefundConflict` for good;
- any other 4xx (bad data, bad credentials): `OrderServiceRejected`, not retried: operations are
  told (`refund_request_failed`);
- 429, 5xx, a timeout or no connection: `OrderServiceUnavailable`, retried, after `Retry-After`
  when the service gives one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from temporalio.exceptions import ApplicationError

from activities.carriers.http_errors import retry_after, sandbox_error_text
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
            verify=str(ca_file) if ca_file else True,
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
            except ValidationError as err:
                raise rejected(f"order service answered {path} unreadably: {err.error_count()} "
                               "problems") from None  # fmt: skip
        _raise_for(response)


def _raise_for(response: httpx.Response) -> NoReturn:
    message, _field = sandbox_error_text(response)
    status = response.status_code
    code = _error_code(response)
    if status == 409 and code == "idempotency_conflict":
        raise refund_conflict(f"order service: {message}")
    if status == 429 or status >= 500:
        wait = retry_after(response)
        raise unavailable(
            f"order service HTTP {status}: {message}",
            dt.timedelta(seconds=wait) if wait is not None else None,
        )
    raise rejected(f"order service refused ({status}): {message}")


def _error_code(response: httpx.Response) -> str | None:
    try:
        error: Any = response.json().get("error", {})
    except (ValueError, AttributeError):
        return None
    return str(error.get("code")) if isinstance(error, dict) else None


def unavailable(message: str, retry_after: dt.timedelta | None = None) -> ApplicationError:
    """The order service is down, slow or throttling: retried."""
    return ApplicationError(
        message, type=FailureType.ORDER_SERVICE_UNAVAILABLE, next_retry_delay=retry_after
    )


def rejected(message: str) -> ApplicationError:
    """The order service refused the request for good: operations are told."""
    return ApplicationError(message, type=FailureType.ORDER_SERVICE_REJECTED, non_retryable=True)
