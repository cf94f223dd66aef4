"""The HTTP face of Sandbox Post: the routes of API.md over a `SandboxStore`."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ValidationError

from carrier_sandbox import booking, tracking
from carrier_sandbox.errors import ApiError, from_validation, install_error_handlers
from carrier_sandbox.label_pdf import render_label
from carrier_sandbox.rules import CARRIER_CODE, CARRIER_NAME, Clock, local_now, utc_now
from carrier_sandbox.schemas import CounterCodeBody, LabelBody, PickupBody, ScanBody
from carrier_sandbox.store import SandboxStore
from domain.carriers import CarrierCapability

DEFAULT_API_KEY = "sandbox-key"
CAPABILITIES = [
    CarrierCapability.ONLINE_RETURN_LABEL,
    CarrierCapability.COUNTER_RETURN_CODE,
    CarrierCapability.MAILBOX_PICKUP,
    CarrierCapability.DROP_OFF,
    CarrierCapability.TRACKING_POLLING,
]

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
_api_key_header = APIKeyHeader(name="X-Api-Key", auto_error=False)


@dataclass(frozen=True)
class Sandbox:
    """What every route needs: the store, the clock, the key."""

    store: SandboxStore
    clock: Clock
    api_key: str


def create_app(
    store: SandboxStore, *, api_key: str = DEFAULT_API_KEY, clock: Clock | None = None
) -> FastAPI:
    """The sandbox over `store`; `clock` (aware datetimes) lets tests pick the day."""
    app = FastAPI(
        title=f"{CARRIER_NAME} (carrier sandbox)",
        description="Behaves like a carrier's return API; the contract is carrier_sandbox/API.md.",
        version="1",
    )
    app.state.sandbox = Sandbox(store=store, clock=clock or utc_now, api_key=api_key)
    install_error_handlers(app)
    app.include_router(_open)
    app.include_router(_v1)
    app.include_router(_playground)
    return app


async def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


Ctx = Annotated[Sandbox, Depends(_sandbox)]


async def _require_api_key(
    sandbox: Ctx, key: Annotated[str | None, Depends(_api_key_header)]
) -> None:
    if key is None or not secrets.compare_digest(key.encode(), sandbox.api_key.encode()):
        raise ApiError(401, "unauthorized", "Missing or wrong X-Api-Key header.")


_open = APIRouter()
_v1 = APIRouter(prefix="/v1", dependencies=[Depends(_require_api_key)])
_playground = APIRouter(prefix="/sandbox", tags=["sandbox"])


@_open.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@_v1.get("/carrier")
async def carrier() -> dict[str, Any]:
    return {"code": CARRIER_CODE, "name": CARRIER_NAME, "capabilities": CAPABILITIES}


@_v1.post("/labels", status_code=201)
async def create_label(request: Request, sandbox: Ctx) -> Response:
    return await _create_once(request, sandbox, LabelBody, booking.create_label)


@_v1.post("/pickups", status_code=201)
async def book_pickup(request: Request, sandbox: Ctx) -> Response:
    return await _create_once(request, sandbox, PickupBody, booking.book_pickup)


@_v1.post("/counter-codes", status_code=201)
async def create_counter_code(request: Request, sandbox: Ctx) -> Response:
    return await _create_once(request, sandbox, CounterCodeBody, booking.create_counter_code)


@_v1.get("/labels/{label_id}/pdf", response_class=Response)
async def label_pdf(label_id: str, sandbox: Ctx) -> Response:
    sheet = await asyncio.to_thread(sandbox.store.run, lambda db: booking.label_sheet(db, label_id))
    pdf = await asyncio.to_thread(render_label, sheet)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{sheet.tracking_number}.pdf"'},
    )


@_v1.get("/tracking/{tracking_number}")
async def track(tracking_number: str, sandbox: Ctx) -> dict[str, Any]:
    return await asyncio.to_thread(
        sandbox.store.run, lambda db: tracking.tracking(db, tracking_number)
    )


@_playground.post("/parcels/{tracking_number}/scans", status_code=201)
async def scan(tracking_number: str, request: Request, sandbox: Ctx) -> dict[str, Any]:
    raw = await request.body()
    body = _parse(ScanBody, raw if raw.strip() else b"{}")
    now = local_now(sandbox.clock)
    event = await asyncio.to_thread(
        sandbox.store.run, lambda db: tracking.record_scan(db, tracking_number, body, now)
    )
    logger.info(
        "parcel scanned",
        extra={"tracking_number": tracking_number, "status": event["status"]},
    )
    return event


@_playground.get("/idempotency-keys")
async def idempotency_keys(sandbox: Ctx) -> dict[str, Any]:
    return {"keys": await asyncio.to_thread(sandbox.store.idempotency_keys)}


async def _create_once(
    request: Request,
    sandbox: Sandbox,
    model: type[M],
    create: Callable[[sqlite3.Connection, M, dt.datetime, str], dict[str, Any]],
) -> Response:
    """A creating call: done once per Idempotency-Key, replayed after that."""
    key = _idempotency_key(request)
    raw = await request.body()
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(422, "invalid_request", "The request body is not valid JSON.") from None
    # Key order and spacing are not part of "the same body".
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    endpoint = f"{request.method} {request.url.path}"
    now = local_now(sandbox.clock)
    stored = await asyncio.to_thread(
        sandbox.store.create_once,
        key,
        endpoint,
        digest,
        now,
        lambda db: create(db, _parse(model, raw), now, key),
    )
    logger.info(
        "creating call answered",
        extra={
            "endpoint": endpoint,
            "idempotency_key": key,
            "replayed": stored.replayed,
            **_ids(stored.body),
        },
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    return Response(
        stored.body, status_code=stored.status, media_type="application/json", headers=headers
    )


def _idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key")
    if not key:
        raise ApiError(
            400,
            "missing_idempotency_key",
            "This call creates something: send an Idempotency-Key header.",
            "Idempotency-Key",
        )
    if len(key) > 200 or not all(" " <= ch <= "~" for ch in key):
        raise ApiError(
            400,
            "missing_idempotency_key",
            "The Idempotency-Key header must be 1-200 printable ASCII characters.",
            "Idempotency-Key",
        )
    return key


def _parse(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw)
    except ValidationError as err:
        raise from_validation(err.errors()) from None


def _ids(body: bytes) -> dict[str, str]:
    """The identifiers in a response, for the log; addresses are never in one."""
    data = json.loads(body)
    # Named apart from the LogRecord's own attributes, which `extra` may not overwrite.
    wanted = {
        "label_id": "label_id",
        "pickup_id": "pickup_id",
        "code": "counter_code",
        "tracking_number": "tracking_number",
        "reference": "reference",
        "pickup_date": "pickup_date",
    }
    return {field: str(data[key]) for key, field in wanted.items() if key in data}
