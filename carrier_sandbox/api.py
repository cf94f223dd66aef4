"""The carriers' own API: `/carriers/{code}/v1/...`, as API.md describes it."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from carrier_sandbox import booking, cancelling, locator, pricing, tracking
from carrier_sandbox.carriers import CarrierConfig
from carrier_sandbox.context import Ctx, Sandbox, parse
from carrier_sandbox.errors import ApiError
from carrier_sandbox.label_pdf import render_label
from carrier_sandbox.rules import DEPOSIT_BEFORE, pickup_dates
from carrier_sandbox.schemas import CounterCodeBody, LabelBody, PickupBody, QuoteBody
from domain.carriers import CarrierCapability as Can
from plumbing import json_input
from plumbing.json_input import NotJson

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
_api_key_header = APIKeyHeader(name="X-Api-Key", auto_error=False)


async def _require_api_key(
    sandbox: Ctx, key: Annotated[str | None, Depends(_api_key_header)]
) -> None:
    if key is None or not secrets.compare_digest(key.encode(), sandbox.api_key.encode()):
        raise ApiError(401, "unauthorized", "Missing or wrong X-Api-Key header.")


def _carrier(needs: Can | None) -> Any:
    """The carrier of the path; 404 when there is none, or when it does not offer `needs`."""

    async def carrier(code: str, sandbox: Ctx) -> CarrierConfig:
        found = sandbox.carriers.get(code)
        if found is None:
            raise ApiError(404, "unknown_carrier", f"No carrier has the code {code!r}.")
        if needs is not None and not found.offers(needs):
            raise ApiError(404, "not_offered", f"{found.name} does not offer {needs.value}.")
        return found

    return Depends(carrier)


AnyCarrier = Annotated[CarrierConfig, _carrier(None)]
Labelling = Annotated[CarrierConfig, _carrier(Can.ONLINE_RETURN_LABEL)]
Collecting = Annotated[CarrierConfig, _carrier(Can.MAILBOX_PICKUP)]
Countering = Annotated[CarrierConfig, _carrier(Can.COUNTER_RETURN_CODE)]
Locating = Annotated[CarrierConfig, _carrier(Can.POST_OFFICE_LOCATOR)]
Tracking = Annotated[CarrierConfig, _carrier(Can.TRACKING_POLLING)]

PostalCode = Annotated[
    str, Query(min_length=2, max_length=12, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$")
]
CountryCode = Annotated[str, Query(pattern=r"^[A-Z]{2}$")]

router = APIRouter(prefix="/carriers/{code}/v1", dependencies=[Depends(_require_api_key)])


@router.get("/carrier")
async def carrier(carrier: AnyCarrier) -> dict[str, Any]:
    return {"code": carrier.code, "name": carrier.name, "capabilities": carrier.capabilities}


@router.post("/quotes")
async def quote(request: Request, carrier: Labelling) -> dict[str, Any]:
    raw = await request.body()
    _json(raw)
    return pricing.quote(carrier, parse(QuoteBody, raw))


@router.post("/labels", status_code=201)
async def create_label(request: Request, sandbox: Ctx, carrier: Labelling) -> Response:
    return await _create_once(request, sandbox, carrier, LabelBody, booking.create_label)


@router.get("/labels/{label_id}/pdf", response_class=Response)
async def label_pdf(label_id: str, sandbox: Ctx, carrier: Labelling) -> Response:
    sheet = await sandbox.run(booking.label_sheet, carrier, label_id)
    pdf = await asyncio.to_thread(render_label, sheet)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{sheet.tracking_number}.pdf"'},
    )


@router.post("/labels/{label_id}/void")
async def void_label(label_id: str, sandbox: Ctx, carrier: Labelling) -> dict[str, Any]:
    voided = await sandbox.run(cancelling.void_label, carrier, label_id, sandbox.clock.now())
    logger.info(
        "label voided",
        extra={"carrier": carrier.code, "label_id": label_id, **_repeat(voided, "already_voided")},
    )
    return voided


@router.get("/pickup-dates")
async def mailbox_pickup_dates(
    sandbox: Ctx, carrier: Collecting, postal_code: PostalCode, country_code: CountryCode = "FR"
) -> dict[str, Any]:
    locator.locate(postal_code, None, country_code)
    dates = pickup_dates(sandbox.clock.now())
    return {
        "dates": [day.isoformat() for day in dates],
        "deposit_before": DEPOSIT_BEFORE.strftime("%H:%M"),
    }


@router.post("/pickups", status_code=201)
async def book_pickup(request: Request, sandbox: Ctx, carrier: Collecting) -> Response:
    return await _create_once(request, sandbox, carrier, PickupBody, booking.book_pickup)


@router.post("/pickups/{pickup_id}/cancel")
async def cancel_pickup(pickup_id: str, sandbox: Ctx, carrier: Collecting) -> dict[str, Any]:
    cancelled = await sandbox.run(cancelling.cancel_pickup, carrier, pickup_id, sandbox.clock.now())
    logger.info(
        "pickup cancelled",
        extra={
            "carrier": carrier.code,
            "pickup_id": pickup_id,
            **_repeat(cancelled, "already_cancelled"),
        },
    )
    return cancelled


@router.post("/counter-codes", status_code=201)
async def create_counter_code(request: Request, sandbox: Ctx, carrier: Countering) -> Response:
    return await _create_once(
        request, sandbox, carrier, CounterCodeBody, booking.create_counter_code
    )


@router.get("/post-offices")
async def post_offices(
    carrier: Locating,
    postal_code: PostalCode,
    city: Annotated[str | None, Query(max_length=100)] = None,
    country_code: CountryCode = "FR",
    limit: Annotated[int, Query(ge=1, le=20)] = 3,
) -> dict[str, Any]:
    origin = locator.locate(postal_code, city, country_code)
    return {"post_offices": locator.nearest(carrier.counter_network, origin, limit)}


@router.get("/tracking/{tracking_number}")
async def track(tracking_number: str, sandbox: Ctx, carrier: Tracking) -> dict[str, Any]:
    return await sandbox.run(tracking.tracking, carrier, tracking_number)


async def _create_once(
    request: Request,
    sandbox: Sandbox,
    carrier: CarrierConfig,
    model: type[M],
    create: Callable[[sqlite3.Connection, CarrierConfig, M, dt.datetime, str], dict[str, Any]],
) -> Response:
    """A creating call: done once per Idempotency-Key, replayed after that."""
    key = _idempotency_key(request)
    raw = await request.body()
    payload = _json(raw)
    # Key order and spacing are not part of "the same body".
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    endpoint = f"{request.method} {request.url.path}"
    now = sandbox.clock.now()
    stored = await asyncio.to_thread(
        sandbox.store.create_once,
        carrier.code,
        key,
        endpoint,
        digest,
        now,
        lambda db: create(db, carrier, parse(model, raw), now, key),
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


def _json(raw: bytes) -> Any:
    """The body as JSON, within the bounds of every door (`plumbing.json_input`)."""
    try:
        return json_input.loads(raw)
    except NotJson as err:
        raise ApiError(
            422, "invalid_request", f"The request body is not valid JSON: {err.problem}."
        ) from None


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


def _repeat(answer: dict[str, Any], flag: str) -> dict[str, bool]:
    return {"repeat": bool(answer[flag])}


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
