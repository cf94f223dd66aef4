"""Fault injection on the marketplace sandbox's `/v1/` and `/webhooks/` routes: errors, rate
limits and slowness.

Off by default; `PUT /sandbox/faults` sets the plan. Each request to a `/v1/` route draws, from
a seedable RNG, whether it is rate-limited (429 with `Retry-After`), slow, or fails with a 5xx;
an error is injected before the work (nothing recorded) or after it (recorded, the answer lost),
half and half unless the plan says which: a caller's retry must then find what was recorded.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Rate = Annotated[float, Field(ge=0.0, le=1.0)]

FAULTY = ("/v1/", "/webhooks/")
"""The routes faults apply to: the marketplace's services, and the event feed it receives."""


class FaultPlan(BaseModel):
    """What goes wrong on the `/v1/` routes and the event feed's deliveries, and how often."""

    model_config = ConfigDict(extra="forbid")

    error_rate: Rate = 0.0
    error_when: Literal["either", "before", "after"] = "either"
    error_status: int = Field(default=503, ge=500, le=599)
    rate_limit_rate: Rate = 0.0
    retry_after_seconds: int = Field(default=1, ge=0, le=3600)
    slow_rate: Rate = 0.0
    slow_seconds: float = Field(default=2.0, ge=0.0, le=120.0)
    seed: int | None = None


class Faults:
    """The current plan, its RNG, and what was injected."""

    def __init__(self) -> None:
        self.plan = FaultPlan()
        self._rng = random.Random()
        self.injected: Counter[str] = Counter()

    def replace(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._rng = random.Random(plan.seed)
        self.injected.clear()

    def draw(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate


class FaultInjected:
    """ASGI middleware applying the plan to every `/v1/` and `/webhooks/` request."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(FAULTY):
            await self.app(scope, receive, send)
            return
        faults, plan = self.faults, self.faults.plan
        if faults.draw(plan.rate_limit_rate):
            faults.injected["rate_limit"] += 1
            await _error(429, "rate_limited", plan, scope, receive, send)
            return
        if faults.draw(plan.slow_rate):
            faults.injected["slow"] += 1
            await asyncio.sleep(plan.slow_seconds)
        if not faults.draw(plan.error_rate):
            await self.app(scope, receive, send)
            return
        after = plan.error_when == "after" or (plan.error_when == "either" and faults.draw(0.5))
        if not after:
            faults.injected["error_before"] += 1
            await _error(plan.error_status, "unavailable", plan, scope, receive, send)
            return
        answered: list[Message] = []

        async def hold(message: Message) -> None:
            answered.append(message)

        await self.app(scope, receive, hold)
        status = next((m["status"] for m in answered if m["type"] == "http.response.start"), 500)
        if not 200 <= status < 300:
            # Nothing was recorded (a refusal): its answer goes through.
            for message in answered:
                await send(message)
            return
        faults.injected["error_after"] += 1  # recorded; its answer is lost
        await _error(plan.error_status, "unavailable", plan, scope, receive, send)


async def _error(
    status: int, code: str, plan: FaultPlan, scope: Scope, receive: Receive, send: Send
) -> None:
    answer = JSONResponse(
        {"error": {"code": code, "message": f"injected fault ({status})"}},
        status_code=status,
        headers={"Retry-After": str(plan.retry_after_seconds)},
    )
    await answer(scope, receive, send)
