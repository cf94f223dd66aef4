"""Carriers' tracking webhooks, verified, then delivered to their return as `carrier_scan`.

A webhook is acknowledged (202) only once Temporal has accepted every scan in it. Anything else
gets an answer that makes an honest carrier try again later (404 while no return is found for
the parcel, 503 while Temporal is unreachable), so no scan is lost; only a webhook that fails its
signature is refused for good (401). Scans for a return that has ended, and signed events that
are not about tracking, are acknowledged (200) and ignored.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.carriers.protocol import (
    CarrierRejected,
    WebhookIgnored,
    WebhookRejected,
)
from activities.carriers.registry import CarrierRegistry
from domain import search_attributes as sa
from domain.carriers import CarrierCapability, WebhookScans
from domain.ids import PREFIX
from workflows.return_workflow import ReturnWorkflow

logger = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 256 * 1024
RETRY_LATER_SECONDS = 30

router = APIRouter(tags=["carriers"])


class TrackingDoor:
    """What the webhook route needs: a Temporal client and the configured carriers."""

    def __init__(self, client: Client, registry: CarrierRegistry) -> None:
        self.client = client
        self.registry = registry


async def _door(request: Request) -> TrackingDoor:
    door: TrackingDoor = request.app.state.tracking
    return door


Door = Annotated[TrackingDoor, Depends(_door)]


@router.post("/v1/carriers/{carrier}/webhooks", status_code=202)
async def carrier_webhook(carrier: str, request: Request, door: Door) -> JSONResponse:
    """A carrier pushes a tracking event; its scans go to the return of the parcel."""
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        return _error(
            413, "body_too_large", f"A webhook body is at most {MAX_WEBHOOK_BYTES} bytes."
        )
    try:
        adapter = door.registry.get(carrier)
    except CarrierRejected:
        return _error(404, "unknown_carrier", f"No carrier {carrier!r} is configured here.")
    try:
        offer = await adapter.describe()
    except Exception as err:  # whatever stops us learning it means "not yet"
        # Only the sandbox is asked who it is, once; until it answers, the webhook waits.
        logger.warning("carrier not described yet", extra={"carrier": carrier, "error": str(err)})
        return _error(503, "carrier_unavailable", "Try again later.", retry_later=True)
    if CarrierCapability.TRACKING_WEBHOOK not in offer.capabilities:
        return _error(404, "no_webhooks", f"{carrier} does not send tracking webhooks here.")
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        report = adapter.read_webhook(headers, body)
    except WebhookIgnored as err:
        logger.info("webhook without scans ignored", extra={"carrier": carrier, "why": str(err)})
        return JSONResponse({"ignored": str(err)}, status_code=200)
    except WebhookRejected as err:
        logger.warning("tracking webhook refused", extra={"carrier": carrier, "reason": str(err)})
        return _error(401, "bad_signature", str(err))
    try:
        return_id = await _return_of(door.client, report)
        if return_id is None:
            logger.warning(
                "tracking webhook for an unknown parcel",
                extra={"carrier": carrier, "tracking_number": report.tracking_number},
            )
            return _error(
                404, "unknown_parcel", "No return has this parcel yet; send it again later."
            )
        handle = door.client.get_workflow_handle(return_id)
        for scan in report.scans:
            await handle.signal(ReturnWorkflow.carrier_scan, scan)
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            # The parcel's return has ended (it completes once the carrier has the parcel);
            # later scans change nothing, and a 404 would have the carrier resend them forever.
            logger.info(
                "tracking webhook for an ended return",
                extra={"carrier": carrier, "return_id": return_id},
            )
            return JSONResponse({"ignored": "the parcel's return has ended"}, status_code=200)
        logger.warning("Temporal unreachable for a webhook", extra={"carrier": carrier})
        return _error(503, "temporal_unavailable", "Try again later.", retry_later=True)
    logger.info(
        "tracking webhook delivered",
        extra={
            "carrier": carrier,
            "tracking_number": report.tracking_number,
            "return_id": return_id,
            "scans": len(report.scans),
        },
    )
    return JSONResponse({"return_id": return_id, "scans": len(report.scans)}, status_code=202)


async def _return_of(client: Client, report: WebhookScans) -> str | None:
    """The return the parcel belongs to: the reference the carrier echoes, else visibility."""
    if report.reference and report.reference.startswith(PREFIX):
        return report.reference
    # Identifiers allow no quote, so the number cannot break out of the query.
    query = f'{sa.TRACKING_NUMBER.name} = "{report.tracking_number}"'
    async for execution in client.list_workflows(query, limit=1):
        return execution.id
    return None


def _error(status: int, code: str, message: str, *, retry_later: bool = False) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_LATER_SECONDS)} if retry_later else None
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)
