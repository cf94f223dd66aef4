"""The withdrawal function's links: `POST /v1/withdrawal-links`, from the order service.

The order service asks, server to server and signed like an event, for a link to an order's
withdrawal function (Art. 11a of Directive 2011/83/EU) when the customer presses its "get help"
button; it sends the order's lines and customer as in a retract event, and gets back a
short-lived link carrying only an opaque token. The gateway decides which lines can still be
withdrawn from (the eligibility rule of a withdrawal given now; a line whose return exists
cannot be withdrawn from twice) and starts the link's `WithdrawalWorkflow`, which keeps the facts
(encrypted) for the customer's pages.

A link request is answered at once and not kept as a dead letter when refused: the customer is
waiting for the page, and the order service asks again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from client.start import customer_problems, in_the_future, order_times, times_out_of_order
from customer_page.links import PageLinks
from domain.base import field_problems
from domain.eligibility import EligibilityPolicy, WindowStart
from domain.events import RetractEvent
from domain.ids import return_id
from domain.withdrawals import (
    ALREADY_WITHDRAWN,
    RETURN_ENDED,
    OfferedLine,
    WithdrawalLinkRequest,
    WithdrawalOffer,
    withdrawal_workflow_id,
)
from gateway.http import (
    BodyTooLarge,
    BodyTooSlow,
    GatewayDep,
    body_too_slow,
    error,
    is_unreachable,
    mark_authenticated,
    read_body,
    temporal_unavailable,
)
from plumbing import json_input
from plumbing.json_input import NotJson
from plumbing.settings import Settings
from plumbing.signing import SignatureRejected, verify
from workflows.withdrawal_workflow import WithdrawalWorkflow

logger = logging.getLogger(__name__)

router = APIRouter(tags=["withdrawal function"])


@router.post(
    "/v1/withdrawal-links",
    status_code=201,
    responses={
        201: {"description": "The link, and until when it opens the withdrawal function."},
        401: {"description": "Missing, bad or stale signature."},
        409: {
            "description": "withdrawal_ended: this request_id's withdrawal link no longer "
            "opens; ask with a new request_id."
        },
        413: {"description": "Body over the size limit."},
        422: {
            "description": "Malformed JSON or a schema violation, naming each field; or "
            "request_id_reused: this request_id was sent before with another body."
        },
        503: {
            "description": "Temporal unreachable, or no worker answering for the withdrawal "
            "it started: ask again with the same request_id after Retry-After."
        },
    },
)
async def withdrawal_link(request: Request, gateway: GatewayDep) -> JSONResponse:
    """A link to an order's withdrawal function, signed like an event (docs/customer-pages.md)."""
    settings = gateway.settings
    try:
        body = await read_body(
            request, settings.gateway_max_body_bytes, settings.http_body_timeout_seconds
        )
    except BodyTooSlow as err:
        return body_too_slow(err)
    except BodyTooLarge as err:
        return error(413, "body_too_large", str(err))
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        verify(
            headers,
            body,
            gateway.event_secrets,
            tolerance_seconds=settings.gateway_signature_tolerance_seconds,
        )
    except SignatureRejected as err:
        return error(401, "bad_signature", str(err))
    mark_authenticated(request)
    try:
        json_input.loads(body)
        link_request = WithdrawalLinkRequest.model_validate_json(body)
    except NotJson as err:
        return error(
            422,
            "malformed_json",
            "The body is not JSON.",
            problems=[f"(body): not JSON ({err.problem})"],
        )
    except ValidationError as err:
        return error(
            422,
            "invalid_request",
            "The request does not fit its schema.",
            problems=field_problems(err, "(body)"),
        )
    now = dt.datetime.now(dt.UTC)
    future = [
        problem
        for index, line in enumerate(link_request.lines)
        for problem in in_the_future(order_times(line, f"lines.{index}."), now)
    ]
    if future:
        return error(
            422,
            "invalid_request",
            "The order service reports what has happened: no time may be ahead of ours.",
            problems=future,
        )
    unfit = customer_problems(link_request.customer, "customer.") + [
        problem
        for index, line in enumerate(link_request.lines)
        for problem in times_out_of_order(line, f"lines.{index}.")
    ]
    if unfit:
        return error(422, "invalid_request", "The request does not fit its schema.", problems=unfit)
    link_request = link_request.with_contracts()
    try:
        offer = await asyncio.wait_for(
            _offer(gateway.client, settings, link_request, now),
            timeout=settings.gateway_temporal_timeout_seconds * 2,
        )
    except Exception as err:
        if not is_unreachable(err):
            raise
        return temporal_unavailable()
    try:
        try:
            handle = await asyncio.wait_for(
                gateway.client.start_workflow(
                    WithdrawalWorkflow.run,
                    offer,
                    id=offer.withdrawal_id,
                    task_queue=settings.task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    # A withdrawal that has ended is not started again under its ID: its link
                    # shows what was submitted, and its acknowledgement was sent.
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                    static_summary=f"withdrawal function of order {link_request.order_id}",
                ),
                timeout=settings.gateway_temporal_timeout_seconds,
            )
        except WorkflowAlreadyStartedError:
            handle = gateway.client.get_workflow_handle(offer.withdrawal_id)
        # A retried request finds the withdrawal its first one started: its offer stands.
        view = await asyncio.wait_for(
            handle.query(WithdrawalWorkflow.view),
            timeout=settings.gateway_temporal_timeout_seconds,
        )
    except Exception as err:
        if not is_unreachable(err):
            raise
        # Started, or perhaps (a start whose answer did not come in time), and not read back:
        # the same request_id finds it again; a new one would start a second withdrawal.
        return error(
            503,
            "temporal_unavailable",
            "The withdrawal may be started, but cannot be shown now: ask again with the same "
            "request_id after Retry-After.",
            retry_later=True,
        )
    offer = view.offer
    expires_at = offer.open_until
    if expires_at <= now:
        return error(
            409,
            "withdrawal_ended",
            "This request's withdrawal link no longer opens: ask with a new request_id.",
            problems=["request_id: its withdrawal's link no longer opens"],
        )
    if offer.request != link_request:
        # A retry sends what it sent before: another body under the same request_id is
        # another request, which its first one's link would not show.
        return error(
            422,
            "request_id_reused",
            "This request_id was sent before with another body: a retry sends the same body, "
            "another request a new request_id.",
            problems=["request_id: sent before with another body"],
        )
    url = PageLinks(settings).withdrawal(offer.withdrawal_id, expires_at)
    logger.info("withdrawal link made", extra={"withdrawal_id": offer.withdrawal_id})
    return JSONResponse(
        {
            "withdrawal_id": offer.withdrawal_id,
            "url": url,
            "expires_at": expires_at.isoformat(),
            "lines": [line.model_dump(mode="json") for line in offer.lines],
        },
        status_code=201,
    )


async def _offer(
    client: Client, settings: Settings, request: WithdrawalLinkRequest, now: dt.datetime
) -> WithdrawalOffer:
    policy = EligibilityPolicy(
        window_days=settings.return_window_days,
        window_starts=WindowStart(settings.return_window_starts),
    )
    existing = await asyncio.gather(
        *(
            _existing_return(client, return_id(line.order_id, line.line_id))
            for line in request.lines
        )
    )
    lines = []
    for line, exists in zip(request.lines, existing, strict=True):
        event = RetractEvent(
            event_id="withdrawal-function",
            type="order.retract_requested",
            occurred_at=max(now, line.ordered_at),  # an order a little ahead of our clock
            order=line,
            customer=request.customer,
        )
        decision = policy.evaluate(event)
        # A decision awaiting review is not a refusal: the withdrawal is taken, and its return
        # waits for operations, as an event's does.
        refused = None if decision.awaits_review else decision.reason
        reason = exists or (refused.value if refused else None)
        lines.append(
            OfferedLine(
                line_id=line.line_id,
                withdrawable=reason is None,
                reason=reason,
                window_ends_at=decision.window_ends_at,
            )
        )
    return WithdrawalOffer(
        withdrawal_id=withdrawal_workflow_id(request.order_id, request.request_id),
        request=request,
        offered_at=now,
        open_until=now + dt.timedelta(minutes=settings.withdrawal_link_minutes),
        lines=lines,
    )


async def _existing_return(client: Client, workflow_id: str) -> str | None:
    """Why a line's return that exists already keeps it from being withdrawn from again."""
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    return RETURN_ENDED if description.close_time is not None else ALREADY_WITHDRAWN
