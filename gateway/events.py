"""The order service's events: `order.retract_requested` starts the return of an order line.

An event is acknowledged 202 only once Temporal has accepted the start of its return, and 200
when the return already exists (a redelivery, or a second click while the return runs): the
answer names the return either way, and says whether it has ended. An `event_id` seen before
with other facts is refused 409 `event_conflict`, and another event for an order line whose
return has ended 409 `return_ended`; both are kept as dead letters for operations. While
Temporal cannot be reached the answer is 503 with `Retry-After`, and nothing was done, so the
sender's retry is the whole recovery. Everything refused for what it is (bad
signature 401, unknown type 400, malformed or invalid 422, too large 413) is kept in the
dead-letter store with its reason, to be replayed once fixed.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from client.start import Arrival, EventRejected, parse_event, start_return
from gateway.http import (
    TEMPORAL_UNAVAILABLE,
    Gateway,
    GatewayDep,
    Outcome,
    is_unreachable,
    receive,
    unavailable,
)
from plumbing import json_input
from plumbing.json_input import NotJson
from plumbing.signing import SignatureRejected, verify
from plumbing.temporal import web_ui_link

logger = logging.getLogger(__name__)

router = APIRouter(tags=["order events"])

RETRACT_REQUESTED = "order.retract_requested"
EVENTS_SOURCE = "events"


async def take_event(
    gateway: Gateway,
    body: bytes,
    headers: dict[str, str],
    *,
    signed_as_of: float | None = None,
    check_signature: bool = True,
) -> Outcome:
    """Check, read and start one event. A replay checks the signature as of when the event
    first came (`signed_as_of`), or not at all for a body fixed by an operator
    (`check_signature=False`)."""
    settings = gateway.settings
    if check_signature:
        try:
            verify(
                headers,
                body,
                gateway.event_secrets,
                tolerance_seconds=settings.gateway_signature_tolerance_seconds,
                now=signed_as_of,
            )
        except SignatureRejected as err:
            return Outcome.refused(401, "bad_signature", str(err), authenticated=False)
    try:
        raw = json_input.loads(body)
    except NotJson as err:
        problem = f"(body): not JSON ({err.problem})"
        return Outcome.refused(422, "malformed_json", "The body is not JSON.", [problem])
    if not isinstance(raw, dict):
        problem = "(body): an event is a JSON object"
        return Outcome.refused(422, "invalid_event", "The event is not a JSON object.", [problem])
    if "type" not in raw:
        return Outcome.refused(
            422, "invalid_event", "The event has no type.", ["type: Field required"]
        )
    kind = raw["type"]
    if not isinstance(kind, str):
        return Outcome.refused(
            422,
            "invalid_event",
            "The event's type is not text.",
            ["type: Input should be a string"],
        )
    if kind != RETRACT_REQUESTED:
        return Outcome.refused(
            400,
            "unknown_event_type",
            f"Unknown event type: this gateway takes {RETRACT_REQUESTED} only.",
            [f"type: not {RETRACT_REQUESTED!r}"],
        )
    try:
        event = parse_event(body)
    except EventRejected as err:
        return Outcome.refused(
            422, "invalid_event", "The event does not fit its schema.", err.problems
        )
    try:
        started = await asyncio.wait_for(
            start_return(gateway.client, settings, event),
            timeout=settings.gateway_temporal_timeout_seconds,
        )
    except Exception as err:
        if not is_unreachable(err):
            raise
        logger.warning("Temporal unreachable for an event", extra={"event_id": event.event_id})
        return unavailable("temporal_unavailable", TEMPORAL_UNAVAILABLE)
    if started.arrival is Arrival.CONFLICT:
        logger.warning(
            "event conflicts with the one that started its return",
            extra={"event_id": event.event_id, "fields": list(started.conflicts)},
        )
        return Outcome.refused(
            409,
            "event_conflict",
            "An event with this event_id came before with other facts: it is not taken.",
            [
                f"{name}: differs from the first event with this event_id"
                for name in started.conflicts
            ],
        )
    if started.arrival is Arrival.ENDED:
        logger.warning(
            "a new withdrawal for a return that has ended",
            extra={"event_id": event.event_id, "return_id": started.workflow_id},
        )
        return Outcome.refused(
            409,
            "return_ended",
            "The return of this order line has ended: a new withdrawal for it is kept for "
            "operations, nothing is started.",
            ["order.line_id: its return has ended"],
        )
    answer = {
        "return_id": started.workflow_id,
        "event_id": event.event_id,
        "created": started.created,
        "ended": started.ended,
        "links": {
            "status": f"/v1/returns/{started.workflow_id}",
            "web_ui": web_ui_link(settings, gateway.client.namespace, started.workflow_id),
        },
    }
    logger.info(
        "return started" if started.created else "duplicate event: return already exists",
        extra={"event_id": event.event_id, "return_id": started.workflow_id},
    )
    return Outcome(202 if started.created else 200, answer, authenticated=True)


@router.post(
    "/v1/events",
    status_code=202,
    responses={
        200: {
            "description": "Duplicate: the return already exists (its ID is given, and whether "
            "it has ended)."
        },
        400: {"description": "Unknown event type (kept as a dead letter)."},
        401: {"description": "Missing, bad or stale signature (kept as a dead letter)."},
        409: {
            "description": "The event_id came before with other facts (event_conflict), or a "
            "new withdrawal for a return that has ended (return_ended); kept."
        },
        413: {"description": "Body over the size limit (kept, truncated)."},
        422: {"description": "Malformed JSON or a schema violation, naming each field (kept)."},
        503: {"description": "Temporal unreachable: nothing done, retry after Retry-After."},
    },
)
async def order_event(request: Request, gateway: GatewayDep) -> JSONResponse:
    """An order event, signed with HMAC-SHA256 over `"{timestamp}." + body`
    (docs/gateway.md)."""

    async def take(body: bytes, headers: dict[str, str]) -> Outcome:
        return await take_event(gateway, body, headers)

    return await receive(request, gateway, EVENTS_SOURCE, take)
