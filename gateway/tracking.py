"""Carriers' tracking webhooks, verified, then delivered to their return as one `carrier_scans`

A webhook is acknowledged (202) only once Temporal has accepted every scan in it. Anything else
gets an answer that makes an honest carrier try again later (404 while no return is found for
the parcel, 503 while Temporal is unreachable), so no scan is lost; a webhook that fails its
signature is refused (401). A carrier's scans go only to a return whose parcel is with that
carrier (its `Carrier` search attribute, the carrier of its current choice): another carrier's
webhook for it is refused (409). Refused webhooks are kept in the dead-letter store, so a scan
whose carrier gave up retrying can still be replayed. Scans for a return that has ended, and
signed events that are not about tracking, are acknowledged (200) and ignored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.carriers.protocol import (
    CarrierRejected,
    WebhookIgnored,
    WebhookRejected,
)
from domain import search_attributes as sa
from domain.carriers import CarrierCapability, WebhookScans
from domain.ids import PREFIX
from gateway.http import (
    TEMPORAL_UNAVAILABLE,
    Gateway,
    GatewayDep,
    Outcome,
    is_unreachable,
    receive,
    unavailable,
)
from workflows.return_workflow import ReturnWorkflow

logger = logging.getLogger(__name__)

router = APIRouter(tags=["carriers"])


def carrier_source(carrier: str) -> str:
    """The dead-letter source of a carrier's webhooks."""
    return f"carrier:{carrier}"


async def take_webhook(
    gateway: Gateway,
    carrier: str,
    body: bytes,
    headers: dict[str, str],
    *,
    received_at: dt.datetime | None = None,
) -> Outcome:
    """Check and deliver one tracking webhook. A replayed dead letter is checked as of when
    it first came (`received_at`)."""
    try:
        adapter = gateway.registry.get(carrier)
    except CarrierRejected:
        message = "No carrier of this name is configured here."
        return Outcome.refused(404, "unknown_carrier", message, authenticated=False)
    try:
        offer = await adapter.describe()
    except Exception as err:  # whatever stops us learning it means "not yet"
        # Only the sandbox is asked who it is, once; until it answers, the webhook waits.
        logger.warning("carrier not described yet", extra={"carrier": carrier, "error": str(err)})
        return unavailable("carrier_unavailable", "The carrier is not known here yet; try again.")
    if CarrierCapability.TRACKING_WEBHOOK not in offer.capabilities:
        message = f"{carrier} does not send tracking webhooks here."
        return Outcome.refused(404, "no_webhooks", message, authenticated=False)
    try:
        report = adapter.read_webhook(headers, body, received_at=received_at)
    except WebhookIgnored as err:
        logger.info("webhook without scans ignored", extra={"carrier": carrier, "why": str(err)})
        return Outcome(200, {"ignored": str(err)}, authenticated=True)
    except WebhookRejected as err:
        logger.warning("tracking webhook refused", extra={"carrier": carrier, "reason": str(err)})
        # A bad signature and an unreadable body are told apart by the adapter's words only.
        return Outcome.refused(401, "bad_signature", str(err), authenticated=False)
    return_id: str | None = None
    try:
        found = await asyncio.wait_for(
            _return_of(gateway.client, report), gateway.settings.gateway_temporal_timeout_seconds
        )
        if isinstance(found, _Ambiguous):
            logger.warning(
                "tracking webhook for a parcel several running returns hold",
                extra={"carrier": carrier, "returns": len(found.return_ids)},
            )
            return Outcome.refused(
                409,
                "ambiguous_parcel",
                "Several running returns hold this tracking number: its scans are kept for "
                "operations, not given to either.",
                ["tracking_number: held by more than one running return"],
            )
        if isinstance(found, _Ended):
            logger.info(
                "tracking webhook for an ended return",
                extra={"carrier": carrier, "return_id": found.return_id},
            )
            return Outcome(200, {"ignored": "the parcel's return has ended"}, authenticated=True)
        if found is None:
            logger.warning(
                "tracking webhook for an unknown parcel",
                extra={"carrier": carrier, "tracking_number": report.tracking_number},
            )
            # Kept too: a carrier gives up after its last retry, and the scan is then here.
            return Outcome.refused(
                404, "unknown_parcel", "No return has this parcel yet; send it again later."
            )
        return_id = found.return_id
        if found.carrier != carrier:
            logger.warning(
                "tracking webhook from a carrier the return's parcel is not with",
                extra={"carrier": carrier, "return_id": return_id},
            )
            return Outcome.refused(
                409,
                "wrong_carrier",
                "The parcel's return has no shipment with this carrier: its scans are not taken.",
                ["carrier: not the carrier of the return's shipment"],
            )
        handle = gateway.client.get_workflow_handle(return_id)
        # One signal for the webhook's scans (a carrier may resend its whole history each time),
        # each scan once.
        unique = list({scan.scan_id: scan for scan in report.scans}.values())
        report = report.model_copy(update={"scans": unique})
        await asyncio.wait_for(
            handle.signal(ReturnWorkflow.carrier_scans, report),
            gateway.settings.gateway_temporal_timeout_seconds,
        )
    except Exception as err:
        if isinstance(err, RPCError) and err.status is RPCStatusCode.NOT_FOUND:
            # The parcel's return has ended (it completes once the carrier has the parcel);
            # later scans change nothing, and a 404 would have the carrier resend them forever.
            logger.info(
                "tracking webhook for an ended return",
                extra={"carrier": carrier, "return_id": return_id},
            )
            return Outcome(200, {"ignored": "the parcel's return has ended"}, authenticated=True)
        if not is_unreachable(err):
            raise
        logger.warning("Temporal unreachable for a webhook", extra={"carrier": carrier})
        return unavailable("temporal_unavailable", TEMPORAL_UNAVAILABLE)
    logger.info(
        "tracking webhook delivered",
        extra={
            "carrier": carrier,
            "tracking_number": report.tracking_number,
            "return_id": return_id,
            "scans": len(report.scans),
        },
    )
    body_out = {"return_id": return_id, "scans": len(report.scans)}
    return Outcome(202, body_out, authenticated=True)


@router.post(
    "/v1/carriers/{carrier}/webhooks",
    status_code=202,
    responses={
        200: {"description": "Nothing to deliver (no scans, or the return has ended)."},
        401: {"description": "Bad, missing or stale signature (kept as a dead letter)."},
        404: {"description": "Unknown carrier, or no return has the parcel yet (kept)."},
        409: {
            "description": "The parcel's return is with another carrier, or several running "
            "returns hold its number (kept)."
        },
        413: {"description": "Body over the size limit (kept, truncated)."},
        503: {"description": "Temporal or the carrier unreachable: retry after Retry-After."},
    },
)
async def carrier_webhook(carrier: str, request: Request, gateway: GatewayDep) -> JSONResponse:
    """A carrier pushes a tracking event; its scans go to the return of the parcel."""

    async def take(body: bytes, headers: dict[str, str]) -> Outcome:
        return await take_webhook(gateway, carrier, body, headers)

    return await receive(request, gateway, carrier_source(carrier), take)


@dataclass(frozen=True)
class _Found:
    return_id: str
    carrier: str | None
    """The carrier of the return's current choice (`Carrier`); None before any choice."""


@dataclass(frozen=True)
class _Ambiguous:
    return_ids: list[str]


@dataclass(frozen=True)
class _Ended:
    return_id: str


async def _return_of(client: Client, report: WebhookScans) -> _Found | _Ambiguous | _Ended | None:
    """The return the parcel belongs to, and its carrier: the reference the carrier echoes
    (described; `RPCError` NOT_FOUND when no such return is kept), else the one running
    return visibility lists with the parcel's number (a number is reused by carriers after a
    while: a running return's wins over an ended one's; two running ones are not one), else
    `_Ended` when only ended returns hold it (their later scans change nothing; a running
    return the scan was for, not listed yet, polls the carrier for it)."""
    if report.reference and report.reference.startswith(PREFIX):
        description = await client.get_workflow_handle(report.reference).describe()
        return _Found(report.reference, description.typed_search_attributes.get(sa.CARRIER))
    # Identifiers allow no quote, so the number cannot break out of the query.
    query = (
        f'{sa.TRACKING_NUMBER.name} = "{report.tracking_number}" AND ExecutionStatus = "Running"'
    )
    found = [
        _Found(execution.id, execution.typed_search_attributes.get(sa.CARRIER))
        async for execution in client.list_workflows(query, limit=2)
    ]
    if len({f.return_id for f in found}) > 1:
        return _Ambiguous(sorted({f.return_id for f in found}))
    if found:
        return found[0]
    # No running return: one that has ended with the number (a carrier that never echoes our
    # reference, EasyPost, goes on scanning the parcel after its return ended) is acknowledged
    # as the echoed reference of an ended return is.
    ended = (
        f'{sa.TRACKING_NUMBER.name} = "{report.tracking_number}" AND ExecutionStatus != "Running"'
    )
    async for execution in client.list_workflows(ended, limit=1):
        return _Ended(execution.id)
    return None
