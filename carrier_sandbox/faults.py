"""Fault injection on the carriers' routes: errors, slowness, rate limits and hangs, on request.

Off by default. A plan is a list of rules; a request to a `/carriers/` route takes the first
rule whose `endpoint` pattern matches `"METHOD /path"` and draws, from a seedable RNG, whether
it hangs, is rate-limited, fails, or is slow. Half of the injected errors happen before the work
(nothing done), half after it is committed (the object exists but the answer is lost), unless
the rule says which. `/sandbox/` and `/healthz` are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from carrier_sandbox.errors import ApiError, error_response

HANG_SECONDS = 600.0
"""How long a hung request waits (or until the sandbox stops) before it is answered 504."""

Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class FaultKind(StrEnum):
    ERROR_BEFORE = "error_before"
    ERROR_AFTER = "error_after"
    SLOW = "slow"
    RATE_LIMIT = "rate_limit"
    HANG = "hang"


class FaultRule(BaseModel):
    """What goes wrong, and how often, for the requests matching `endpoint`."""

    model_config = ConfigDict(extra="forbid")

    endpoint: Annotated[
        str, StringConstraints(pattern=r"^(\*|(GET|POST|PUT|DELETE|\*) /carriers/\S*)$")
    ] = Field(
        default="*",
        description="fnmatch pattern on 'METHOD /path', e.g. 'POST /carriers/*/v1/labels'; "
        "'*' for every carrier route.",
    )
    error_rate: Rate = 0.0
    error_when: Literal["either", "before", "after"] = Field(
        default="either",
        description="before the work (nothing done), after it (the answer is lost), or either "
        "at random.",
    )
    error_status: int | None = Field(
        default=None, ge=500, le=599, description="Default: 500 before the work, 502/503 after."
    )
    slow_rate: Rate = 0.0
    slow_seconds: float = Field(default=3.0, ge=0.0, le=600.0)
    rate_limit_rate: Rate = 0.0
    retry_after_seconds: float | None = Field(
        default=1.0, ge=0.0, le=3600.0, description="Retry-After of injected 429s and 5xx."
    )
    hang_rate: Rate = 0.0
    count: int | None = Field(
        default=None, ge=1, description="The rule applies to this many requests, then lapses."
    )


class FaultPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[FaultRule] = Field(default_factory=list, max_length=100)


def load_plan(path: Path) -> FaultPlan:
    """A plan from a JSON file; ValueError naming the file and the fault."""
    try:
        return FaultPlan.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as err:
        raise ValueError(f"{path}: {err}") from None


class FaultInjector:
    """The current plan, the RNG and what was injected so far (one event loop: no lock)."""

    def __init__(self, plan: FaultPlan | None = None, seed: int | None = None) -> None:
        self._rng = random.Random(seed)
        self._rules = list((plan or FaultPlan()).rules)
        self._stats: Counter[str] = Counter()
        self.stopping = asyncio.Event()
        """Set when the sandbox stops: hung and slow requests are let go."""

    @property
    def plan(self) -> FaultPlan:
        return FaultPlan(rules=list(self._rules))

    def replace(self, plan: FaultPlan) -> None:
        self._rules = list(plan.rules)

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self._stats["requests"],
            "injected": {kind.value: self._stats[kind.value] for kind in FaultKind},
        }

    def draw(self, method: str, path: str) -> tuple[FaultKind | None, FaultRule | None]:
        """The fault (if any) this request gets, and the rule that gave it."""
        self._stats["requests"] += 1
        target = f"{method} {path}"
        index = next(
            (i for i, r in enumerate(self._rules) if fnmatch.fnmatchcase(target, r.endpoint)),
            None,
        )
        if index is None:
            return None, None
        rule = self._rules[index]
        if rule.count is not None:
            left = rule.count - 1
            if left:
                self._rules[index] = rule.model_copy(update={"count": left})
            else:
                del self._rules[index]
        kind = self._kind(rule)
        if kind is not None:
            self._stats[kind.value] += 1
        return kind, rule

    def _kind(self, rule: FaultRule) -> FaultKind | None:
        rng = self._rng
        if rng.random() < rule.hang_rate:
            return FaultKind.HANG
        if rng.random() < rule.rate_limit_rate:
            return FaultKind.RATE_LIMIT
        if rng.random() < rule.error_rate:
            when = rule.error_when
            if when == "either":
                when = "before" if rng.random() < 0.5 else "after"
            return FaultKind.ERROR_BEFORE if when == "before" else FaultKind.ERROR_AFTER
        if rng.random() < rule.slow_rate:
            return FaultKind.SLOW
        return None

    def pick_lost_status(self) -> int:
        return self._rng.choice((502, 503))

    async def pause(self, seconds: float) -> None:
        """Sleep, but not past the sandbox's stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)


_CODES = {
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "timeout",
}


def _injected(status: int, rule: FaultRule, what: str) -> Response:
    headers = None
    if rule.retry_after_seconds is not None:
        seconds = rule.retry_after_seconds
        headers = {"Retry-After": f"{seconds:g}" if seconds % 1 else str(int(seconds))}
    code = _CODES.get(status, "internal_error")
    return error_response(ApiError(status, code, f"{what} (injected by the sandbox)."), headers)


def install_faults(app: FastAPI, injector: FaultInjector) -> None:
    """Put the injector in front of every `/carriers/` route of `app`."""

    @app.middleware("http")
    async def inject(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not request.url.path.startswith("/carriers/"):
            return await call_next(request)
        kind, rule = injector.draw(request.method, request.url.path)
        if kind is None or rule is None:
            return await call_next(request)
        if kind is FaultKind.HANG:
            await injector.pause(HANG_SECONDS)
            return _injected(504, rule, "No answer")
        if kind is FaultKind.RATE_LIMIT:
            return _injected(429, rule, "Too many requests: slow down")
        if kind is FaultKind.ERROR_BEFORE:
            return _injected(rule.error_status or 500, rule, "The carrier failed; nothing was done")
        response = await call_next(request)
        if kind is FaultKind.SLOW:
            await injector.pause(rule.slow_seconds)
            return response
        # After the work: it is committed, but the answer never reaches the client.
        async for _chunk in response.body_iterator:  # type: ignore[attr-defined]
            pass
        status = rule.error_status or injector.pick_lost_status()
        return _injected(status, rule, "The answer was lost on the way; the work may be done")
