"""The marketplace sandbox's HTTP API: the order service, the seller directory and the seller
chat, as schemas/marketplace-openapi.json describes them.

- `POST /v1/refunds`: refund an order line. `Idempotency-Key` (required) is the request's
  `idempotency_key`: the same request again is answered 200 with the refund recorded first
  (`created: false`); another request under a used key is refused 409 `idempotency_conflict`.
  A new refund is answered 201.
- `POST /v1/claims`: claim an approved deduction back, idempotent in the same way.
- `GET /v1/sellers/{seller_id}`: the seller's record; 404 `unknown_seller`.
- `POST /v1/sellers/{seller_id}/messages`: post in the seller's chat; `Idempotency-Key` is the
  message's `message_id`: 201 posted, 200 posted before (the first text kept).
- Every `/v1/` request carries `Authorization: Bearer <token>` (401 `bad_token` otherwise). A
  body that does not fit is refused 422 `invalid_request`, naming each field.
- `POST /webhooks/{subscriber}`: the event feed, received as that subscriber (Standard Webhooks
  signatures checked): `GET /sandbox/events` lists what came, `GET /sandbox/feed` says, per
  subscriber and return, whether it came complete and in sequence.
- `GET /sandbox/refunds`, `GET /sandbox/claims`, `GET /sandbox/sellers/{seller_id}/messages`:
  what it recorded; `PUT /sandbox/faults`: the fault plan (`marketplace_sandbox.faults`);
  `GET /healthz`.

It records through the file adapters (`FileOrderService`, `FileSellerChat`) and reads the
sellers file (`FileSellerDirectory`), so a key's promise is kept the same way by both.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.exceptions import ApplicationError

from activities.orders.service import FileOrderService
from activities.sellers.chat import ChatPost, ChatPosted, FileSellerChat
from activities.sellers.directory import FileSellerDirectory, SellerDirectoryError, SellerRecord
from domain.base import IDENTIFIER, field_problems
from domain.feed import Webhook
from domain.inspection import Claim, ClaimRequest
from domain.notices import SellerChatMessage
from domain.returns import Refund, RefundRequest
from marketplace_sandbox.faults import FaultInjected, FaultPlan, Faults
from marketplace_sandbox.feed import FeedInbox, secret_problem, secrets_for
from plumbing import standard_webhooks

B = TypeVar("B", bound=BaseModel)

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "schemas" / "marketplace-openapi.json"
"""The contract a marketplace implements, as committed (`python starter.py schema` writes it):
the `/v1/` routes only, not the sandbox's own."""

SELLERS_FILE = Path(__file__).resolve().parents[1] / "examples" / "sellers.json"
"""The sellers the sandbox knows unless told otherwise: the samples' sellers."""

MAX_BODY_BYTES = 64 * 1024


def create_app(
    directory: Path,
    token: str,
    sellers_file: Path = SELLERS_FILE,
    webhook_secrets: Sequence[str] = (),
) -> FastAPI:
    """The sandbox recording under `directory`, answering callers that show `token`, with the
    sellers of `sellers_file`, receiving the event feed signed with one of `webhook_secrets`."""
    problems = [p for p in map(secret_problem, webhook_secrets) if p is not None]
    if problems:
        raise ValueError(f"webhook secrets: {'; '.join(problems)}")
    app = _routes()
    faults = Faults()
    app.state.inbox = FeedInbox(directory)
    app.state.webhook_secrets = tuple(webhook_secrets)
    app.state.orders = FileOrderService(directory)
    app.state.sellers = FileSellerDirectory(sellers_file)
    app.state.chat = FileSellerChat(directory / "seller-chat")
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
            "What returnflow calls on the marketplace: the order service's refunds and claims, "
            "the seller directory's addresses and contacts, and the seller chat. "
            "Every operation is idempotent by its key; returnflow retries 429, 5xx and "
            "timeouts, and stops on any other 4xx (operations are told)."
        ),
        version="1",
    )

    # Every answer in the one error shape, also those of FastAPI itself: an unknown path, a
    # method a path does not take, a body the bench's own routes cannot read.
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or '(body)'}: {e['msg']}"
            for e in exc.errors()
        ]
        return _error(422, "invalid_request", "The body does not fit.", problems)

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

    @app.get(
        "/v1/sellers/{seller_id}",
        response_model=SellerRecord,
        responses={
            401: _ANSWERS[401],
            404: {"description": "unknown_seller: the marketplace has no such seller."},
            429: _ANSWERS[429],
            503: _ANSWERS[503],
        },
        openapi_extra={"parameters": [_AUTHORIZATION]},
        tags=["seller directory"],
    )
    async def seller(seller_id: str, request: Request) -> JSONResponse:
        """The seller's return address (`null` until the seller gives one) and contact.
        returnflow keeps an answer for `RETURNFLOW_SELLER_CACHE_SECONDS`."""
        if (refused := _unauthorized(request)) is not None:
            return refused
        record = await _seller(request, seller_id)
        if isinstance(record, JSONResponse):
            return record
        if record is None:
            return _error(404, "unknown_seller", "The marketplace has no such seller.")
        return JSONResponse(record.model_dump(mode="json"))

    @app.post(
        "/v1/sellers/{seller_id}/messages",
        status_code=201,
        response_model=ChatPosted,
        responses={
            200: {"description": "Posted before under this message_id: nothing posted again."},
            404: {"description": "unknown_seller: the marketplace has no such seller."},
            **{status: _ANSWERS[status] for status in (401, 413, 422, 429, 503)},
        },
        openapi_extra=_operation(ChatPost, "The body's message_id: posted at most once."),
        tags=["seller chat"],
    )
    async def post_message(seller_id: str, request: Request) -> JSONResponse:
        """Post a message in the seller's chat (an address request or reminder), at most once
        per `Idempotency-Key`."""
        if (refused := _unauthorized(request)) is not None:
            return refused
        parsed = await _body(request, ChatPost, "message_id")
        if isinstance(parsed, JSONResponse):
            return parsed
        record = await _seller(request, seller_id)
        if isinstance(record, JSONResponse):
            return record
        if record is None:
            return _error(404, "unknown_seller", "The marketplace has no such seller.")
        message = SellerChatMessage(
            message_id=parsed.message_id,
            kind=parsed.kind,
            return_id=parsed.return_id,
            seller_id=seller_id,
            order_id=parsed.order_id,
            line_id=parsed.line_id,
            reply_by=parsed.reply_by,
        )
        chat: FileSellerChat = request.app.state.chat
        entry, created = await chat.record(message, parsed.text)
        answer = ChatPosted(message_id=entry.message_id, posted_at=entry.posted_at, created=created)
        return JSONResponse(answer.model_dump(mode="json"), status_code=201 if created else 200)

    @app.get("/sandbox/sellers/{seller_id}/messages", tags=["sandbox"], include_in_schema=False)
    async def messages(seller_id: str, request: Request) -> JSONResponse:
        """The seller's chat as posted, oldest first."""
        if not re.fullmatch(IDENTIFIER, seller_id):
            return _error(404, "unknown_seller", "No seller has this ID.")
        chat: FileSellerChat = request.app.state.chat
        return JSONResponse([m.model_dump(mode="json") for m in await chat.messages(seller_id)])

    @app.post(
        "/webhooks/{subscriber}",
        status_code=204,
        response_class=Response,
        tags=["sandbox"],
        include_in_schema=False,
    )
    async def webhook(subscriber: str, request: Request) -> Response:
        """Receive one event of the feed, as the subscriber `subscriber`: 204 (no body) once
        its signature is checked; 401 `bad_signature`; 422 `invalid_request`."""
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "body_too_large", f"A body is at most {MAX_BODY_BYTES} bytes.")
        try:
            secrets = secrets_for(subscriber, request.app.state.webhook_secrets)
            webhook_id = standard_webhooks.verify(request.headers, body, secrets)
        except standard_webhooks.SignatureRejected as err:
            return _error(401, "bad_signature", str(err))
        try:
            parsed = Webhook.model_validate_json(body)
        except ValidationError as err:
            return _error(
                422, "invalid_request", "The body does not fit.", field_problems(err, "(body)")
            )
        problems = _feed_data_problems(parsed.data)
        if problems:
            return _error(422, "invalid_request", "The body does not fit.", problems)
        inbox: FeedInbox = request.app.state.inbox
        await inbox.receive(subscriber, webhook_id, parsed.model_dump(mode="json"))
        # A 204 has no body: not even JSON's `null` (the server would break the connection).
        return Response(status_code=204)

    @app.get("/sandbox/events", tags=["sandbox"], include_in_schema=False)
    async def events(
        request: Request, subscriber: str | None = None, return_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every delivery received, in order of arrival (duplicates marked)."""
        inbox: FeedInbox = request.app.state.inbox
        return [r.model_dump(mode="json") for r in inbox.events(subscriber, return_id)]

    @app.get("/sandbox/feed", tags=["sandbox"], include_in_schema=False)
    async def feed(request: Request) -> list[dict[str, Any]]:
        """Per subscriber and return: what came, and whether it came whole and in order."""
        inbox: FeedInbox = request.app.state.inbox
        return [r.model_dump(mode="json") for r in inbox.report()]

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


_AUTHORIZATION = {
    "name": "Authorization",
    "in": "header",
    "required": True,
    "description": "Bearer <token> (RETURNFLOW_MARKETPLACE_TOKEN).",
    "schema": {"type": "string"},
}


def _operation(
    model: type[BaseModel],
    key: str = "The body's idempotency_key: the same key, the same answer.",
) -> dict[str, Any]:
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
                "description": key,
                "schema": {"type": "string"},
            },
            _AUTHORIZATION,
        ],
    }


def _feed_data_problems(data: dict[str, Any]) -> list[str]:
    """What every event's data holds for the inbox to file it: its return and its number."""
    problems = []
    sequence = data.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
        problems.append("data.sequence: a whole number from 1")
    if not isinstance(data.get("return_id"), str):
        problems.append("data.return_id: text")
    return problems


async def _seller(request: Request, seller_id: str) -> SellerRecord | JSONResponse | None:
    """The seller's record, None for a seller not in the file, or the 503 of a sellers file
    that cannot be read (its fault logged for the operator, not told to the caller)."""
    sellers: FileSellerDirectory = request.app.state.sellers
    try:
        return await sellers.record(seller_id)
    except SellerDirectoryError as err:
        logging.getLogger("marketplace-sandbox").error("seller directory unreadable: %s", err)
        return _error(503, "directory_unavailable", "The seller directory cannot be read just now.")


def _error(status: int, code: str, message: str, problems: list[str] | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if problems:
        error["problems"] = problems
    return JSONResponse({"error": error}, status_code=status)


def _unauthorized(request: Request) -> JSONResponse | None:
    presented = request.headers.get("authorization", "")
    token: bytes = request.app.state.token
    if not hmac.compare_digest(presented.encode(), b"Bearer " + token):
        return _error(401, "bad_token", "A valid bearer token is required.")
    return None


async def _body(request: Request, model: type[B], key_field: str) -> B | JSONResponse:
    """The body as `model`, its `key_field` shown as the Idempotency-Key; or the refusal."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "body_too_large", f"A body is at most {MAX_BODY_BYTES} bytes.")
    try:
        parsed = model.model_validate_json(body)
    except ValidationError as err:
        problems = field_problems(err, "(body)")
        return _error(422, "invalid_request", "The body does not fit.", problems)
    key = getattr(parsed, key_field)
    if not key or request.headers.get("idempotency-key") != key:
        problem = f"Idempotency-Key: required, and the body's {key_field}"
        return _error(422, "invalid_request", "The idempotency key is missing.", [problem])
    return parsed


async def _idempotent(request: Request, model: type[BaseModel], record: Any) -> JSONResponse:
    if (refused := _unauthorized(request)) is not None:
        return refused
    parsed = await _body(request, model, "idempotency_key")
    if isinstance(parsed, JSONResponse):
        return parsed
    try:
        answer: Refund | Claim = await record(request.app.state.orders, parsed)
    except ApplicationError as err:
        return _error(409, "idempotency_conflict", err.message)
    return JSONResponse(answer.model_dump(mode="json"), status_code=201 if answer.created else 200)
