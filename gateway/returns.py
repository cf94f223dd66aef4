"""People's actions on a return, and its status: sellers, customers and operations staff.

Each action is a workflow update. Its validator answers at once: a refusal comes back 422 when
it blames a field of the request, 409 when the return is not in a state to take it. Once the
return has accepted the action, the answer waits for its result (the status after it, 200) up
to `gateway_update_wait_seconds`; an action still running then (a carrier slow to make the
label) is answered 202 with its update ID, and carries on. One not accepted within
`gateway_temporal_timeout_seconds` (Temporal unreachable or slow, or no worker running) is
answered 503 with `Retry-After`: Temporal may still hand it to the return once a worker runs,
and a retry with the same `Idempotency-Key` joins it. The answer is the action's result
(the stage after it, and what the customer needs from a choice); the whole state is
`GET /v1/returns/{return_id}`. An `Idempotency-Key` header makes a
retried request join the first one instead of acting twice. With
`RETURNFLOW_GATEWAY_CUSTOMER_BINDING=required`, the customer app acts for the customer its
`X-Returnflow-Customer` header asserts, on that customer's returns only (`gateway.customers`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import (
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode

from client.reading import StatusUnreadable, status_of, update_refusal
from client.start import starting_event
from domain import search_attributes as sa
from domain.addresses import PostalAddress
from domain.base import DomainModel, Money, OneLine, ShortText, field_problems
from domain.ids import is_return_id
from domain.inspection import EvidenceReference, InspectionOutcome, InspectionReport
from domain.returns import (
    ActionResult,
    AttentionAction,
    AttentionResolution,
    CancelRequest,
    ReturnAddressReply,
    ReturnMethodChoice,
    ShipmentReport,
)
from gateway.auth import Principal, Role
from gateway.customers import (
    HEADER,
    AssertionRefused,
    asserted_customer,
    assertion_secrets,
    binding_required,
)
from gateway.http import (
    BodyTooLarge,
    BodyTooSlow,
    Gateway,
    GatewayDep,
    body_too_slow,
    error,
    is_unreachable,
    mark_authenticated,
    read_body,
    temporal_unavailable,
)
from workflows.return_workflow import ReturnWorkflow

logger = logging.getLogger(__name__)

router = APIRouter(tags=["returns"])

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
FIELD_BLAMED = re.compile(r"^([a-z_]+(?:\.[a-z_]+)*): ")


class ReturnAddressBody(DomainModel):
    """The seller's return address (the seller, or operations on its behalf)."""

    address: PostalAddress


class InspectionBody(DomainModel):
    """What came back in the parcel (the seller, or operations on its behalf); who reports is
    taken from the token."""

    outcome: InspectionOutcome
    deduction: Money | None = None
    reason: ShortText | None = None
    evidence: list[EvidenceReference] = Field(default_factory=list, max_length=10)


class AttentionBody(DomainModel):
    """An operations action; who did it is taken from the token."""

    action: AttentionAction
    reason: OneLine = Field(
        min_length=3, max_length=500, description="Why: kept in the return's timeline."
    )
    address: PostalAddress | None = None


class CancelBody(DomainModel):
    """The customer no longer wants to send the goods back."""

    reason: OneLine | None = Field(
        default=None, max_length=500, description="Optional, in the customer's words."
    )


class _Denied(Exception):
    def __init__(self, answer: JSONResponse) -> None:
        self.answer = answer


def _principal(gateway: Gateway, request: Request, roles: tuple[Role, ...]) -> Principal:
    principal = gateway.tokens.who(request.headers.get("authorization"))
    if principal is None:
        raise _Denied(
            error(
                401,
                "bad_token",
                "A valid bearer token is required (Authorization: Bearer <token>).",
                headers={"WWW-Authenticate": 'Bearer realm="returnflow"'},
            )
        )
    mark_authenticated(request)
    if principal.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise _Denied(error(403, "wrong_role", f"This action is for: {allowed}."))
    return principal


async def _check_seller(gateway: Gateway, principal: Principal, return_id: str) -> None:
    """A seller's token acts on that seller's returns only."""
    if principal.may_act_for_seller(None):
        return
    description = await gateway.client.get_workflow_handle(return_id).describe(
        rpc_timeout=_rpc_timeout(gateway)
    )
    seller_id = description.typed_search_attributes.get(sa.SELLER_ID)
    if not principal.may_act_for_seller(seller_id):
        raise _Denied(error(403, "not_your_return", "This return is another seller's."))


async def _check_customer(
    gateway: Gateway, principal: Principal, request: Request, return_id: str
) -> None:
    """With the binding required, the customer app acts for the customer it asserts, on that
    customer's returns only: the customer of the event that started the return."""
    if principal.role is not Role.CUSTOMER or not binding_required(gateway.settings):
        return
    try:
        customer = asserted_customer(
            request.headers.get(HEADER), return_id, assertion_secrets(gateway.settings)
        )
    except AssertionRefused as err:
        raise _Denied(
            error(
                403,
                "not_your_return",
                f"Say which customer the app acts for: {err} (docs/gateway.md).",
            )
        ) from None
    started = await asyncio.wait_for(
        starting_event(gateway.client, return_id),
        timeout=gateway.settings.gateway_temporal_timeout_seconds,
    )
    if started is None:
        # Is there a return at all? Its absence is answered 404, as to anyone.
        await gateway.client.get_workflow_handle(return_id).describe(
            rpc_timeout=_rpc_timeout(gateway)
        )
    if started is None or not hmac.compare_digest(
        started.customer.customer_id.encode(), customer.encode()
    ):
        raise _Denied(error(403, "not_your_return", "This return is another customer's."))


def _rpc_timeout(gateway: Gateway) -> dt.timedelta:
    return dt.timedelta(seconds=gateway.settings.gateway_temporal_timeout_seconds)


async def _parse(
    request: Request, gateway: Gateway, model: type[BaseModel]
) -> BaseModel | JSONResponse:
    try:
        body = await read_body(
            request,
            gateway.settings.gateway_max_body_bytes,
            gateway.settings.http_body_timeout_seconds,
        )
    except BodyTooSlow as err:
        return body_too_slow(err)
    except BodyTooLarge as err:
        return error(413, "body_too_large", str(err))
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as err:
        problems = field_problems(err, "(body)")
        return error(
            422, "invalid_request", "The request does not fit its schema.", problems=problems
        )


def _update_id(principal: Principal, update: Any, argument: BaseModel, key: str) -> str:
    """The update's ID for an `Idempotency-Key`: a retry of the same request joins the first.

    Scoped by the caller (its role and the name its token is configured under: two customer
    apps, or a seller and the sellers' portal, never share keys), the action and what it asks
    (a digest of the update's input): a key sent again with another action or another body is
    another request, taken or refused as such, and is never answered with the first request's
    result."""
    asked = hashlib.sha256(argument.model_dump_json().encode()).hexdigest()[:16]
    return f"{principal.role.value}:{principal.name}:{update.__name__}:{asked}:{key}"


async def _run_update(
    gateway: Gateway,
    return_id: str,
    update: Any,
    argument: BaseModel,
    request: Request,
    principal: Principal,
) -> JSONResponse:
    """Send the update; answer with its result, its refusal, or 202 while it still runs."""
    key = request.headers.get("idempotency-key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        return error(
            422,
            "invalid_request",
            "Idempotency-Key: 1 to 100 letters, digits, '.', '_', ':' or '-'.",
            problems=["Idempotency-Key: not a valid key"],
        )
    update_id = _update_id(principal, update, argument, key) if key else None
    handle: WorkflowHandle[Any, Any] = gateway.client.get_workflow_handle(return_id)
    try:
        await _check_seller(gateway, principal, return_id)
        await _check_customer(gateway, principal, request, return_id)
        started = await handle.start_update(
            update,
            argument,
            id=update_id,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            result_type=ActionResult,
            rpc_timeout=_rpc_timeout(gateway),
        )
    except WorkflowUpdateFailedError as err:
        return _refusal(err, "refused by the return")
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return await _not_found_or_ended(gateway, return_id)
        if is_unreachable(err):
            return _not_taken()
        raise
    except Exception as err:
        # Among them the update not accepted within its RPC timeout
        # (`WorkflowUpdateRPCTimeoutOrCancelledError`): Temporal is up, but no worker takes
        # the return's task (every worker stopped, or all too busy).
        if is_unreachable(err):
            return _not_taken()
        raise
    logger.info(
        "action accepted",
        extra={"return_id": return_id, "update": started.id, "by": principal.actor},
    )
    wait = dt.timedelta(seconds=gateway.settings.gateway_update_wait_seconds)
    try:
        result = await started.result(rpc_timeout=wait)
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        return _still_running(return_id, started.id)
    except WorkflowUpdateFailedError as err:
        return _refusal(err, "the return could not do it")
    except Exception as err:
        if is_unreachable(err):
            # Accepted by the return, which carries on: only the wait for its answer failed.
            return _still_running(return_id, started.id)
        raise
    assert isinstance(result, ActionResult)
    return JSONResponse(result.model_dump(mode="json"), status_code=200)


def _still_running(return_id: str, update_id: str) -> JSONResponse:
    """202: the return accepted the action and carries on; its answer was not waited for."""
    return JSONResponse(
        {
            "return_id": return_id,
            "update_id": update_id,
            "state": "accepted, still running",
            "links": {"status": f"/v1/returns/{return_id}"},
        },
        status_code=202,
    )


ACTION_NOT_TAKEN = (
    "The return did not take this action in time: Temporal, or the workers behind it, are down "
    "or too slow. It may still take it once they are back: send the same request again after "
    "Retry-After, with the same Idempotency-Key so that it joins this one instead of acting "
    "twice."
)


def _not_taken() -> JSONResponse:
    """503: the action was not accepted in time. Temporal may have admitted it, and the return
    then takes it once a worker runs: a retry with the same `Idempotency-Key` joins it."""
    return error(503, "temporal_unavailable", ACTION_NOT_TAKEN, retry_later=True)


def _refusal(err: WorkflowUpdateFailedError, summary: str) -> JSONResponse:
    message = update_refusal(err)
    blamed = FIELD_BLAMED.match(message)
    # "action: nothing to retry": the action is one the request may send, refused in the
    # return's state, not a field at fault.
    if blamed and blamed.group(1) != "action":
        return error(422, "refused", f"{summary}: {message}", problems=[message])
    return error(409, "refused", f"{summary}: {message}")


def _unknown_return() -> JSONResponse:
    return error(404, "unknown_return", "No return has this ID.")


async def _not_found_or_ended(gateway: Gateway, return_id: str) -> JSONResponse:
    try:
        await gateway.client.get_workflow_handle(return_id).describe(
            rpc_timeout=_rpc_timeout(gateway)
        )
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return _unknown_return()
        return temporal_unavailable()
    except Exception as err:
        if is_unreachable(err):
            return temporal_unavailable()
        raise
    return error(409, "return_ended", "The return has ended: it takes no more actions.")


async def _act(
    request: Request,
    gateway: Gateway,
    return_id: str,
    roles: tuple[Role, ...],
    model: type[BaseModel],
    build: Callable[[Any, Principal], BaseModel],
    update: Callable[..., Any],
) -> JSONResponse:
    try:
        principal = _principal(gateway, request, roles)
        if not is_return_id(return_id):
            return _unknown_return()
        parsed = await _parse(request, gateway, model)
        if isinstance(parsed, JSONResponse):
            return parsed
        try:
            argument = build(parsed, principal)
        except ValidationError as err:
            problems = field_problems(err, "(body)")
            return error(
                422, "invalid_request", "The request does not fit its schema.", problems=problems
            )
        return await _run_update(gateway, return_id, update, argument, request, principal)
    except _Denied as denied:
        return denied.answer


_ACTION_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Done: the stage after the action, and for a choice the label, pickup "
        "or counter code.",
        "model": ActionResult,
    },
    202: {"description": "Accepted by the return and still running; see its status."},
    401: {"description": "Missing or unknown bearer token."},
    403: {
        "description": "The token's role may not do this, or the return is another seller's "
        "or (with the customer binding) another customer's."
    },
    404: {"description": "No such return."},
    409: {"description": "The return is not in a state to take this action, or has ended."},
    413: {"description": "Body over the size limit."},
    422: {"description": "The request, or the return's validator, blames a field."},
    503: {
        "description": "Not taken in time: Temporal unreachable or too slow, or no worker "
        "accepted the action within RETURNFLOW_GATEWAY_TEMPORAL_TIMEOUT_SECONDS. Send it again "
        "after Retry-After with the same Idempotency-Key: the return acts once."
    },
}


def _as_sent(body: BaseModel, _who: Principal) -> BaseModel:
    return body


@dataclass(frozen=True)
class Action:
    """One action a person takes on a return: who may, what they send, the update it is."""

    path: str
    summary: str
    roles: tuple[Role, ...]
    model: type[BaseModel]
    """The request body."""
    update: Any
    """The workflow update it is sent as."""
    build: Callable[[Any, Principal], BaseModel] = _as_sent
    """The update's input from the body and the caller (default: the body itself)."""


ACTIONS = (
    Action(
        "return-address",
        "The seller (its own returns) or operations give the seller's return address.",
        (Role.SELLER, Role.OPERATIONS),
        ReturnAddressBody,
        ReturnWorkflow.provide_return_address,
        lambda body, who: ReturnAddressReply(address=body.address, given_by=who.actor),
    ),
    Action(
        "inspection",
        "The seller (its own returns) or operations report what came back in the parcel: as "
        "sold, or damaged or incomplete with a deduction, still locked, another device.",
        (Role.SELLER, Role.OPERATIONS),
        InspectionBody,
        ReturnWorkflow.report_inspection,
        lambda body, who: InspectionReport(reported_by=who.actor, **body.model_dump()),
    ),
    Action(
        "method",
        "The customer chooses how to send the parcel (or changes their mind before sending).",
        (Role.CUSTOMER,),
        ReturnMethodChoice,
        ReturnWorkflow.choose_return_method,
    ),
    Action(
        "shipment",
        "The customer sent the parcel at the post office and gives its tracking number.",
        (Role.CUSTOMER,),
        ShipmentReport,
        ReturnWorkflow.report_shipment,
    ),
    Action(
        "cancel",
        "The customer no longer sends the goods back.",
        (Role.CUSTOMER,),
        CancelBody,
        ReturnWorkflow.cancel,
        lambda body, _who: CancelRequest(reason=body.reason),
    ),
    Action(
        "attention",
        "Operations act: retry a failed step, give the address, accept a rejection, close.",
        (Role.OPERATIONS,),
        AttentionBody,
        ReturnWorkflow.resolve_attention,
        lambda body, who: AttentionResolution(by=who.actor, **body.model_dump()),
    ),
)


def action_path(action: Action) -> str:
    return f"/v1/returns/{{return_id}}/{action.path}"


def _endpoint(action: Action) -> Callable[..., Awaitable[JSONResponse]]:
    async def endpoint(return_id: str, request: Request, gateway: GatewayDep) -> JSONResponse:
        return await _act(
            request,
            gateway,
            return_id,
            action.roles,
            action.model,
            action.build,
            action.update,
        )

    return endpoint


for _action in ACTIONS:
    router.add_api_route(
        action_path(_action),
        _endpoint(_action),
        methods=["POST"],
        responses=_ACTION_ANSWERS,
        summary=_action.summary,
        name=_action.update.__name__,
    )


@router.get(
    "/v1/returns/{return_id}",
    responses={
        200: {"description": "The return's status, with its timeline."},
        401: {"description": "Missing or unknown bearer token."},
        403: {"description": "The return is another seller's or another customer's."},
        404: {"description": "No such return."},
        503: {"description": "Temporal unreachable, or the status cannot be read now."},
    },
)
async def return_status(return_id: str, request: Request, gateway: GatewayDep) -> JSONResponse:
    """The return's `status` query: stage, deadlines, label, pickup, timeline."""
    try:
        principal = _principal(gateway, request, (Role.SELLER, Role.CUSTOMER, Role.OPERATIONS))
        if not is_return_id(return_id):
            return _unknown_return()
        await _check_seller(gateway, principal, return_id)
        await _check_customer(gateway, principal, request, return_id)
        status = await asyncio.wait_for(
            status_of(gateway.client, return_id),
            timeout=gateway.settings.gateway_temporal_timeout_seconds * 2,
        )
    except _Denied as denied:
        return denied.answer
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return _unknown_return()
        if is_unreachable(err):
            return temporal_unavailable()
        raise
    except StatusUnreadable as err:
        return error(503, "status_unreadable", str(err), retry_later=True)
    except Exception as err:
        if is_unreachable(err):
            return temporal_unavailable()
        raise
    return JSONResponse(status.model_dump(mode="json"))
