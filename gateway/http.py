"""What every door of the gateway shares: its state, error answers, bounded bodies, and how
to tell "Temporal is unreachable" from anything else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client, RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from activities.carriers.registry import CarrierRegistry
from dead_letters.store import DeadLetterStore
from gateway.auth import TokenBook

if TYPE_CHECKING:
    from gateway.guard import Samples
from plumbing import metrics
from plumbing.settings import Settings
from store import StoreUnavailable


@dataclass
class Outcome:
    """What became of one payload: the answer to give, and whether to keep it as a dead letter."""

    status: int
    body: dict[str, Any]
    reason: str | None = None
    """Set when the event is refused for what it is: it goes to the dead letters."""
    problems: list[str] = field(default_factory=list)
    authenticated: bool = False
    retry_later: bool = False

    @classmethod
    def refused(
        cls,
        status: int,
        reason: str,
        message: str,
        problems: list[str] | None = None,
        *,
        authenticated: bool = True,
    ) -> Outcome:
        body = error_body(reason, message, problems)
        return cls(status, body, reason, problems or [], authenticated)

    @property
    def accepted(self) -> bool:
        return self.status in (200, 202)


logger = logging.getLogger(__name__)

RETRY_LATER_SECONDS = 30
"""The `Retry-After` of a 503: long enough for a Temporal restart, short enough to catch up."""


@dataclass
class Gateway:
    """What the routes need: Temporal, the configuration, the carriers, the dead letters."""

    client: Client
    settings: Settings
    registry: CarrierRegistry
    dead_letters: DeadLetterStore
    tokens: TokenBook
    samples: Samples

    @property
    def event_secrets(self) -> list[str]:
        return split_secrets(self.settings.gateway_event_secrets)


async def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(_gateway)]


def split_secrets(value: Any) -> list[str]:
    """A comma-separated secret setting as a list (None: empty)."""
    if value is None:
        return []
    return [part.strip() for part in value.get_secret_value().split(",") if part.strip()]


def error_body(code: str, message: str, problems: list[str] | None = None) -> dict[str, Any]:
    """The gateway's one error shape: `{"error": {"code", "message", "problems"?}}`."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if problems:
        body["error"]["problems"] = problems
    return body


TEMPORAL_UNAVAILABLE = (
    "Temporal cannot take this now; nothing was done. Send it again after Retry-After."
)

STORE_UNAVAILABLE = (
    "This is refused, and the store that keeps refused payloads for operations does not "
    "answer now; nothing was done. Send it again after Retry-After."
)


def error(
    status: int,
    code: str,
    message: str,
    *,
    problems: list[str] | None = None,
    retry_later: bool = False,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error answer in the gateway's one shape (`error_body`)."""
    body = error_body(code, message, problems)
    all_headers = dict(headers or {})
    if retry_later:
        all_headers["Retry-After"] = str(RETRY_LATER_SECONDS)
    return JSONResponse(body, status_code=status, headers=all_headers or None)


def temporal_unavailable() -> JSONResponse:
    return error(503, "temporal_unavailable", TEMPORAL_UNAVAILABLE, retry_later=True)


def is_unreachable(err: BaseException) -> bool:
    """Temporal did not answer (down, restarting, too slow), as opposed to refusing; each time it
    did not is counted (`returnflow_temporal_unreachable_total`). Too slow includes an update
    no worker accepted within its RPC timeout (`WorkflowUpdateRPCTimeoutOrCancelledError`):
    Temporal is up, but nothing takes the workflow's task."""
    unreachable = _unreachable(err)
    if unreachable:
        metrics.count(metrics.TEMPORAL_UNREACHABLE)
    return unreachable


def _unreachable(err: BaseException) -> bool:
    if isinstance(err, TimeoutError | asyncio.TimeoutError | RPCTimeoutOrCancelledError):
        return True
    if isinstance(err, RPCError):
        return err.status in (
            RPCStatusCode.UNAVAILABLE,
            RPCStatusCode.DEADLINE_EXCEEDED,
            RPCStatusCode.CANCELLED,
            RPCStatusCode.UNKNOWN,
            RPCStatusCode.RESOURCE_EXHAUSTED,
            RPCStatusCode.INTERNAL,
        )
    # A lazy client that cannot connect says so with a RuntimeError ("Failed client connect").
    return isinstance(err, RuntimeError) and "connect" in str(err).lower()


class BodyTooLarge(Exception):
    def __init__(self, head: bytes, limit: int) -> None:
        super().__init__(f"a body is at most {limit} bytes")
        self.head = head
        self.limit = limit


class BodyTooSlow(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"the body did not arrive within {seconds:g} s")


async def read_body(request: Request, limit: int, within_seconds: float | None = None) -> bytes:
    """The raw body, read no further than `limit` bytes (`BodyTooLarge` with what was read) and
    for no longer than `within_seconds` (`BodyTooSlow`)."""
    received = bytearray()
    try:
        async with asyncio.timeout(within_seconds):
            async for chunk in request.stream():
                received += chunk
                if len(received) > limit:
                    raise BodyTooLarge(bytes(received[:limit]), limit)
    except TimeoutError:
        raise BodyTooSlow(within_seconds or 0) from None
    return bytes(received)


def body_too_slow(err: BodyTooSlow) -> JSONResponse:
    """408: the body trickled in too slowly; nothing was read or kept."""
    return error(408, "body_timeout", f"{err}: send it again, whole.")


def lower_headers(request: Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


AUTHENTICATED = "returnflow_authenticated"
"""The key in the request's state a door sets once it has authenticated the sender."""


def mark_authenticated(request: Request) -> None:
    """The door has checked the sender's signature or token: its refusals are not a stranger's
    (`gateway.guard` counts those)."""
    setattr(request.state, AUTHENTICATED, True)


Take = Callable[[bytes, dict[str, str]], Awaitable[Outcome]]


async def receive(request: Request, gateway: Gateway, source: str, take: Take) -> JSONResponse:
    """Read a machine's payload within the size limit, let `take` process it, and keep what
    it refuses (or what is too large) in the dead letters, answering with the letter's ID."""
    headers = lower_headers(request)
    limit = gateway.settings.gateway_max_body_bytes
    truncated = False
    try:
        body = await read_body(request, limit, gateway.settings.http_body_timeout_seconds)
    except BodyTooSlow as err:
        return body_too_slow(err)
    except BodyTooLarge as err:
        body, truncated = err.head, True
        problems = [f"(body): larger than {limit} bytes"]
        outcome = Outcome.refused(413, "body_too_large", str(err), problems, authenticated=False)
    else:
        outcome = await take(body, headers)
    if outcome.authenticated:
        mark_authenticated(request)
    if outcome.retry_later:
        return JSONResponse(
            outcome.body,
            status_code=outcome.status,
            headers={"Retry-After": str(RETRY_LATER_SECONDS)},
        )
    if outcome.reason is None:
        return JSONResponse(outcome.body, status_code=outcome.status)
    if not outcome.authenticated and not gateway.samples.take(source, outcome.reason):
        return JSONResponse(outcome.body, status_code=outcome.status)
    # The store may be another host's (PostgreSQL): its round trips wait off the event loop.
    try:
        letter = await asyncio.to_thread(
            gateway.dead_letters.keep,
            source=source,
            body=body,
            headers=headers,
            status_code=outcome.status,
            reason=outcome.reason,
            problems=outcome.problems,
            authenticated=outcome.authenticated,
            truncated=truncated,
        )
    except StoreUnavailable as err:
        # Not kept, so not refused for good: the sender sends it again, and it is kept then.
        logger.warning(
            "payload refused, but the store is unavailable to keep it",
            extra={"source": source, "reason": outcome.reason, "why": str(err)},
        )
        return error(503, "store_unavailable", STORE_UNAVAILABLE, retry_later=True)
    if letter.times_received == 1:
        # Filed now, not a sender's retry counted on its letter. The door, not the carrier a
        # stranger's path names: the label's values stay bounded.
        metrics.count(metrics.DEAD_LETTERS, {"source": source.partition(":")[0]})
    logger.warning(
        "payload refused and kept",
        extra={
            "source": source,
            "reason": outcome.reason,
            "problems": outcome.problems,
            "dead_letter_id": letter.letter_id,
        },
    )
    return JSONResponse(
        {**outcome.body, "dead_letter_id": letter.letter_id}, status_code=outcome.status
    )


def unavailable(code: str, message: str) -> Outcome:
    """Not taken, nothing done: the sender is to try again after `Retry-After`."""
    return Outcome(503, error_body(code, message), retry_later=True)
