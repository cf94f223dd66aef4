"""The marketplace sandbox's HTTP API: the order service's refunds and claims.

- `POST /v1/refunds`: refund an order line. `Idempotency-Key` (required) is the request's
  `idempotency_key`: the same request again is answered 200 with the refund recorded first
  (`created: false`); another request under a used key is refused 409 `idempotency_conflict`.
  A new refund is answered 201.
- `POST /v1/claims`: claim an approved deduction back, idempotent in the same way.
- Every `/v1/` request carries `Authorization: Bearer <token>` (401 `bad_token` otherwise). A
  body that does not fit is refused 422 `invalid_request`, naming each field.
- `GET /sandbox/refunds`, `GET /sandbox/claims`: what it recorded; `PUT /sandbox/faults`: the
  fault plan (`marketplace_sandbox.faults`); `GET /healthz`.

It records through `FileOrderService`, the dev stack's file adapter, so both keep a key's
promise the same way.
"""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from temporalio.exceptions import ApplicationError

from activities.orders.service import FileOrderService
from domain.base import field_problems
from domain.inspection import Claim, ClaimRequest
from domain.returns import Refund, RefundRequest
from marketplace_sandbox.faults import FaultInjected, FaultPlan, Faults

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "schemas" / "marketplace-openapi.json"
"""The contract a marketplace implements, as committed (`python starter.py schema` writes it):
the `/v1/` routes only, not the sandbox's own."""

MAX_BODY_BYTES = 64 * 1024


def create_app(directory: Path, token: str) -> FastAPI:
    """The sandbox recording under `directory`, answering callers that show `token`."""
    app = _routes()
    faults = Faults()
    app.state.orders = FileOrderService(directory)
    app.state.token = token.encode()
    app.state.faults = faults
    app.add_middleware(FaultInjected, faults=faults)
    return app


def openapi_document() -> str:
    return json.dumps(_routes().openapi(), indent=2, ensure_ascii=False) + "\n"


_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "The same request under this key again: what was recorded first."},
    401: {"description": "Missing or unknown bearer token (not retried: configuration)."},
    409: {"description": "idempotency_conflict: the key was used for another request."},
    413: {"description": "body_too_large: over 64 KiB (not retried)."},
    422: {"description": "invalid_request: the body does not fit; `problems` name each field."},
    429: {"description": "Throttled: retried after Retry-After."},
    503: {"description": "Unavailable: retried (after Retry-After when given)."},
}


def _routes() -> FastAPI:
    app = FastAPI(
        title="marketplace services for returnflow",
        description=(
            "What returnflow calls on the marketplace: the order service's refunds and claims. "
            "Every operation is idempotent by its key; returnflow retries 429, 5xx and "
            "timeouts, and stops on any other 4xx (operations are told)."
        ),
        version="1",
    )

    @app.post(
        "/v1/refunds",
        status_code=201,
        response_model=Refund,
        responses=_ANSWERS,
        openapi_extra=_operation(RefundRequest),
        tags=["order service"],
    )
    async def request_refund(request: Request) -> JSONResponse:
        """Refund an order line (the price and the delivery refunded, less what the customer
        owes), at most once per `Idempotency-Key`."""
        return await _idempotent(request, RefundRequest, FileOrderService.request_refund)

    @app.post(
        "/v1/claims",
        status_code=201,
        response_model=Claim,
        responses=_ANSWERS,
        openapi_extra=_operation(ClaimRequest),
        tags=["order service"],
    )
    async def file_claim(request: Request) -> JSONResponse:
        """Claim an approved deduction back from a line's refund, at most once per
        `Idempotency-Key`."""
        return await _idempotent(request, ClaimRequest, FileOrderService.file_claim)

    @app.get("/sandbox/refunds", tags=["sandbox"], include_in_schema=False)
    async def refunds(request: Request) -> list[dict[str, Any]]:
        """Every refund recorded, oldest first."""
        orders: FileOrderService = request.app.state.orders
        return [r.model_dump(mode="json") for r in await orders.refunds()]

    @app.get("/sandbox/claims", tags=["sandbox"], include_in_schema=False)
    async def claims(request: Request) -> list[dict[str, Any]]:
        """Every claim recorded, oldest first."""
        orders: FileOrderService = request.app.state.orders
        return [c.model_dump(mode="json") for c in await orders.claims()]

    @app.put("/sandbox/faults", tags=["sandbox"], include_in_schema=False)
    async def set_faults(plan: FaultPlan, request: Request) -> dict[str, Any]:
        """Replace the fault plan (an empty object: no faults)."""
        request.app.state.faults.replace(plan)
        return plan.model_dump()

    @app.get("/sandbox/faults", tags=["sandbox"], include_in_schema=False)
    async def get_faults(request: Request) -> dict[str, Any]:
        """The plan, and how many faults of each kind it has injected."""
        faults: Faults = request.app.state.faults
        return {"plan": faults.plan.model_dump(), "injected": dict(faults.injected)}

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _operation(model: type[BaseModel]) -> dict[str, Any]:
    """The request body, and the headers every operation takes."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        },
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "The body's idempotency_key: the same key, the same answer.",
                "schema": {"type": "string"},
            },
            {
                "name": "Authorization",
                "in": "header",
                "required": True,
                "description": "Bearer <token> (RETURNFLOW_MARKETPLACE_TOKEN).",
                "schema": {"type": "string"},
            },
        ],
    }


def _error(status: int, code: str, message: str, problems: list[str] | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if problems:
        error["problems"] = problems
    return JSONResponse({"error": error}, status_code=status)


async def _idempotent(request: Request, model: type[BaseModel], record: Any) -> JSONResponse:
    presented = request.headers.get("authorization", "")
    token: bytes = request.app.state.token
    if not hmac.compare_digest(presented.encode(), b"Bearer " + token):
        return _error(401, "bad_token", "A valid bearer token is required.")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "body_too_large", f"A body is at most {MAX_BODY_BYTES} bytes.")
    try:
        parsed = model.model_validate_json(body)
    except ValidationError as err:
        problems = field_problems(err)
        return _error(422, "invalid_request", "The body does not fit.", problems)
    key = request.headers.get("idempotency-key")
    if key != getattr(parsed, "idempotency_key", None):
        problem = "Idempotency-Key: required, and the body's idempotency_key"
        return _error(422, "invalid_request", "The idempotency key is missing.", [problem])
    try:
        answer: Refund | Claim = await record(request.app.state.orders, parsed)
    except ApplicationError as err:
        return _error(409, "idempotency_conflict", err.message)
    return JSONResponse(answer.model_dump(mode="json"), status_code=201 if answer.created else 200)
