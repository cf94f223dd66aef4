"""`HttpOrderService`: the marketplace's order service over HTTP (the contract in
schemas/marketplace-openapi.json; the marketplace sandbox plays it in the dev stack).

Each call carries the request's idempotency key (`Idempotency-Key`) and a bearer token; its
answer is classified as `activities.marketplace_http` says, and:

- 201 or 200: the refund or claim recorded (`created` says whether this call recorded it);
- 409 `idempotency_conflict`: the key was used for another request, `RefundConflict` for good;
- unavailable: `OrderServiceUnavailable`, retried;
- rejected: `OrderServiceRejected`, not retried: operations are told (`refund_request_failed`,
  `claim_failed`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from temporalio.exceptions import ApplicationError

from activities.failures import refund_conflict
from activities.marketplace_http import MarketplaceHttp, error_code
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
        self._http = MarketplaceHttp(
            "order service",
            "RETURNFLOW_ORDER_SERVICE_URL",
            base_url,
            token,
            unavailable=unavailable,
            rejected=rejected,
            timeout_seconds=timeout_seconds,
            ca_file=ca_file,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request_refund(self, request: RefundRequest) -> Refund:
        refund = await self._post("/v1/refunds", request, request.idempotency_key, Refund)
        if refund.amount != request.amount:
            # Another request recorded under the key, or a service that changed the amount:
            # not the refund asked for, and never told to the customer as theirs.
            raise refund_conflict(
                f"order service answered a refund of {refund.amount.amount} "
                f"{refund.amount.currency} for the {request.amount.amount} "
                f"{request.amount.currency} asked under the key"
            )
        return refund

    async def file_claim(self, request: ClaimRequest) -> Claim:
        return await self._post("/v1/claims", request, request.idempotency_key, Claim)

    async def _post(self, path: str, body: BaseModel, key: str, answer: type[M]) -> M:
        response = await self._http.send(
            "POST", path, json_body=body.model_dump_json(), headers={"Idempotency-Key": key}
        )
        if response.status_code in (200, 201):
            try:
                return answer.model_validate_json(response.content)
            except ValidationError:
                # It may well have recorded the request: the same key again is safe.
                raise self._http.unreadable(path, response) from None
        if response.status_code == 409 and error_code(response) == "idempotency_conflict":
            raise refund_conflict(
                "order service HTTP 409 idempotency_conflict: the key was used for another request"
            )
        self._http.fail(response)


def unavailable(message: str, retry_after: dt.timedelta | None = None) -> ApplicationError:
    """The order service is down, slow or throttling: retried."""
    return ApplicationError(
        message, type=FailureType.ORDER_SERVICE_UNAVAILABLE, next_retry_delay=retry_after
    )


def rejected(message: str) -> ApplicationError:
    """The order service refused the request for good: operations are told."""
    return ApplicationError(message, type=FailureType.ORDER_SERVICE_REJECTED, non_retryable=True)
