"""`/sandbox/...`: play the carrier, move its clock, watch its webhooks, break it on purpose.

No API key: these routes are the test bench's, not a carrier's.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from carrier_sandbox import tracking
from carrier_sandbox.context import Ctx, Sandbox, parse
from carrier_sandbox.errors import invalid
from carrier_sandbox.faults import FaultPlan
from carrier_sandbox.rules import stamp
from carrier_sandbox.schemas import ClockMove, ScanBody
from carrier_sandbox.webhooks import Outbox

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


@router.post("/parcels/{tracking_number}/scans", status_code=201)
async def scan(tracking_number: str, request: Request, sandbox: Ctx) -> dict[str, Any]:
    raw = await request.body()
    body = parse(ScanBody, raw if raw.strip() else b"{}")
    event = await sandbox.run(
        tracking.scan_on_command,
        sandbox.carriers,
        sandbox.outbox,
        tracking_number,
        body,
        sandbox.clock.now(),
    )
    sandbox.scanned()
    logger.info(
        "parcel scanned",
        extra={"tracking_number": tracking_number, "status": event["status"]},
    )
    return event


@router.get("/carriers")
async def carriers(sandbox: Ctx) -> dict[str, Any]:
    return {
        "carriers": [
            {
                "code": c.code,
                "name": c.name,
                "capabilities": c.capabilities,
                "api": f"/carriers/{c.code}/v1",
            }
            for c in sandbox.carriers.values()
        ]
    }


@router.get("/clock")
async def clock(sandbox: Ctx) -> dict[str, Any]:
    return _clock(sandbox)


@router.post("/clock")
async def move_clock(request: Request, sandbox: Ctx) -> dict[str, Any]:
    move = parse(ClockMove, await request.body())
    try:
        if move.now is not None:
            sandbox.clock.move_to(move.now)
        else:
            sandbox.clock.advance(move.advance_seconds or 0.0)
    except ValueError as err:
        raise invalid(f"now: {err} (it is {stamp(sandbox.clock.now())}).", "now") from None
    made = await sandbox.rounds.run_once() if sandbox.rounds is not None else []
    logger.info("sandbox clock moved", extra={"offset_seconds": _clock(sandbox)["offset_seconds"]})
    return {
        **_clock(sandbox),
        "scans": [
            {k: s[k] for k in ("tracking_number", "scan_id", "status", "occurred_at")} for s in made
        ],
    }


@router.get("/webhook-deliveries")
async def webhook_deliveries(
    sandbox: Ctx, tracking_number: Annotated[str | None, Query(max_length=64)] = None
) -> dict[str, Any]:
    return {"deliveries": await sandbox.run(Outbox.deliveries, tracking_number)}


@router.get("/faults")
async def faults(sandbox: Ctx) -> dict[str, Any]:
    return sandbox.faults.plan.model_dump(mode="json")


@router.put("/faults")
async def set_faults(request: Request, sandbox: Ctx) -> dict[str, Any]:
    plan = parse(FaultPlan, await request.body())
    sandbox.faults.replace(plan)
    logger.info("fault plan replaced", extra={"rules": len(plan.rules)})
    return plan.model_dump(mode="json")


@router.delete("/faults")
async def clear_faults(sandbox: Ctx) -> dict[str, Any]:
    sandbox.faults.replace(FaultPlan())
    logger.info("fault plan cleared")
    return {"rules": []}


@router.get("/faults/stats")
async def fault_stats(sandbox: Ctx) -> dict[str, Any]:
    return sandbox.faults.stats()


@router.get("/idempotency-keys")
async def idempotency_keys(sandbox: Ctx) -> dict[str, Any]:
    return {"keys": await asyncio.to_thread(sandbox.store.idempotency_keys)}


def _clock(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "now": stamp(sandbox.clock.now()),
        "offset_seconds": sandbox.clock.offset.total_seconds(),
    }
