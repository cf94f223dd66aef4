"""What a stranger's request may cost: per-source rate limits in front of every door.

A *source* is the peer's address (an IPv6 peer's /64, which one host usually holds whole), or,
behind the reverse proxies listed in `RETURNFLOW_GATEWAY_TRUSTED_PROXIES`, the address their
`X-Forwarded-For` names. Two limits apply to each source, over a sliding minute:

- `RETURNFLOW_GATEWAY_REQUESTS_PER_MINUTE`: every request counts;
- `RETURNFLOW_GATEWAY_REFUSALS_PER_MINUTE`: every 4xx answer to a sender the door did not
  authenticate counts (a bad signature, a wrong token, an unknown carrier or path, a body too
  large). Once a source has used it up, every request from it is answered 429 until the minute
  has moved on, before its body is read.

A 429 carries `Retry-After` (whole seconds) in the gateway's one error shape. Sources listed in
`RETURNFLOW_GATEWAY_RATE_LIMIT_EXEMPT` are never limited. The counts live in each gateway
process's memory: with N processes behind a balancer, a source gets up to N times the limits.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections import Counter
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from customer_page.links import PREFIX as PAGES_PREFIX
from customer_page.security import too_many_requests_page
from gateway.http import AUTHENTICATED, error_body
from plumbing import metrics
from plumbing.settings import Settings, address_networks

logger = logging.getLogger(__name__)


class RateLimits:
    """Both limits, for every source, in this process's memory."""

    def __init__(self, settings: Settings) -> None:
        self.requests: RateLimitItem = RateLimitItemPerMinute(settings.gateway_requests_per_minute)
        self.refusals: RateLimitItem = RateLimitItemPerMinute(settings.gateway_refusals_per_minute)
        self.exempt = address_networks(settings.gateway_rate_limit_exempt)
        self.pages_https = settings.customer_pages_over_https
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self.limited = 0
        """Requests answered 429 since the process started."""
        self._in_flight: dict[str, int] = {}

    def source(self, scope: Scope) -> str | None:
        """The source a request counts against; None when it is exempt (or unknown)."""
        client = scope.get("client")
        if not client:
            return None
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return None
        if address.version == 6 and address.ipv4_mapped is not None:
            # A gateway listening on `::` takes IPv4 peers as `::ffff:a.b.c.d`: each is its
            # IPv4 address, not one /64 shared by every IPv4 peer.
            address = address.ipv4_mapped
        if any(address in network for network in self.exempt):
            return None
        if address.version == 6:
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        return str(address)

    def admit(self, source: str) -> int | None:
        """None to let the request in (then `done` once answered); else the seconds after which
        the source may retry.

        A source already refused in the window may have no more requests in flight than it
        has refusals left: otherwise a stranger's many connections, each admitted before the
        others are refused, would overshoot the limit many times over."""
        left = self._limiter.get_window_stats(self.refusals, "refusals", source).remaining
        refused_before = left < self.refusals.amount
        if left <= 0 or (refused_before and self._in_flight.get(source, 0) >= left):
            return self._wait(self.refusals, "refusals", source)
        if not self._limiter.hit(self.requests, "requests", source):
            return self._wait(self.requests, "requests", source)
        self._in_flight[source] = self._in_flight.get(source, 0) + 1
        return None

    def done(self, source: str) -> None:
        """A request `admit` let in has been answered."""
        count = self._in_flight.pop(source, 1) - 1
        if count > 0:
            self._in_flight[source] = count

    def refused(self, source: str) -> None:
        """An unauthenticated request from `source` was refused."""
        self._limiter.hit(self.refusals, "refusals", source)

    def _wait(self, item: RateLimitItem, *keys: str) -> int:
        self.limited += 1
        metrics.count(metrics.RATE_LIMITED, {"limit": keys[0]})
        reset_at = self._limiter.get_window_stats(item, *keys).reset_time
        return max(1, math.ceil(reset_at - time.time()))


class RateLimited:
    """ASGI middleware applying `RateLimits` to every HTTP request of `app`."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        source = self.limits.source(scope)
        if source is None:
            await self.app(scope, receive, send)
            return
        wait = self.limits.admit(source)
        if wait is not None:
            logger.warning("rate limited", extra={"source": source, "retry_after": wait})
            # Closed after the answer: the body a limited source sends is not read.
            headers = {"Retry-After": str(wait), "Connection": "close"}
            answer: Response
            if str(scope.get("path", "")).startswith(PAGES_PREFIX):
                answer = too_many_requests_page(headers, https=self.limits.pages_https)
            else:
                answer = JSONResponse(
                    error_body(
                        "rate_limited",
                        "Too many requests from this source: try again after Retry-After.",
                    ),
                    status_code=429,
                    headers=headers,
                )
            await answer(scope, receive, send)
            return
        status: list[int] = []

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            authenticated = _state(scope).get(AUTHENTICATED, False)
            if status and 400 <= status[0] < 500 and not authenticated:
                self.limits.refused(source)
            self.limits.done(source)


class Samples:
    """Which refusals of unauthenticated senders are kept as dead letters: at most
    `RETURNFLOW_DEAD_LETTER_UNAUTHENTICATED_SAMPLES_PER_MINUTE` in this process, the others
    counted; the counts are logged once a minute (by door and reason)."""

    def __init__(self, settings: Settings, *, log_every_seconds: float = 60.0) -> None:
        per_minute = settings.dead_letter_unauthenticated_samples_per_minute
        self._item = RateLimitItemPerMinute(per_minute) if per_minute else None
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._log_every = log_every_seconds
        self._since = time.monotonic()
        self.counts: Counter[tuple[str, str]] = Counter()
        """Refusals since the last log line, by door (`events`, `carrier`, ...) and reason."""
        self.kept = 0

    def take(self, source: str, reason: str) -> bool:
        """Count one refusal; whether to keep it as a dead letter."""
        self.counts[(source.partition(":")[0], reason)] += 1
        keep = self._item is not None and self._limiter.hit(self._item, "samples")
        self.kept += keep
        if time.monotonic() - self._since >= self._log_every:
            self.log()
        return keep

    def log(self) -> None:
        """Log the counts since the last line, and start counting afresh."""
        if self.counts:
            logger.warning(
                "refusals of unauthenticated senders",
                extra={
                    "refused": {f"{door}/{reason}": n for (door, reason), n in self.counts.items()},
                    "kept": self.kept,
                },
            )
        self.counts.clear()
        self.kept = 0
        self._since = time.monotonic()


def _state(scope: Scope) -> dict[str, Any]:
    state = scope.get("state")
    return state if isinstance(state, dict) else {}


def proxies(settings: Settings) -> list[str]:
    """The trusted proxies, as uvicorn's `forwarded_allow_ips` takes them. Each IPv4 network
    comes with its IPv4-mapped IPv6 form too, which is how a gateway listening on `::` sees an
    IPv4 proxy."""
    found: list[str] = []
    for network in address_networks(settings.gateway_trusted_proxies):
        found.append(str(network))
        if network.version == 4:
            mapped = ipaddress.ip_address(f"::ffff:{network.network_address}")
            found.append(f"{mapped}/{96 + network.prefixlen}")
    return found
