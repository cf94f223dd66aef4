"""The sandbox as one ASGI app: the carriers' API, the test bench, and their background work."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, FastAPI

from carrier_sandbox import api, playground
from carrier_sandbox.carriers import CarrierSource, load_carriers
from carrier_sandbox.clock import SandboxClock
from carrier_sandbox.context import Sandbox
from carrier_sandbox.errors import install_error_handlers
from carrier_sandbox.faults import FaultInjector, FaultPlan, install_faults, load_plan
from carrier_sandbox.rounds import Rounds
from carrier_sandbox.rules import Clock
from carrier_sandbox.store import SandboxStore
from carrier_sandbox.webhooks import Outbox, WebhookPolicy, WebhookSender

DEFAULT_API_KEY = "sandbox-key"
DEFAULT_TICK_SECONDS = 0.5

_open = APIRouter()


@_open.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(
    store: SandboxStore,
    *,
    api_key: str = DEFAULT_API_KEY,
    clock: Clock | None = None,
    carriers: CarrierSource = None,
    webhooks: WebhookPolicy | None = None,
    faults: FaultPlan | Path | None = None,
    fault_seed: int | None = None,
    rounds: bool = True,
    tick_seconds: float = DEFAULT_TICK_SECONDS,
) -> FastAPI:
    """The sandbox over `store`.

    `clock` (aware datetimes) is the base of the sandbox clock (default: real UTC); `carriers` a
    carriers file or the carriers themselves (default: the built-in `carriers.json`);
    `webhooks` where and how tracking events are sent (default: nowhere); `faults` the fault
    plan to start with (a plan or a JSON file); `rounds` whether the carriers collect and move
    parcels on their own, every `tick_seconds` of real time. The rounds and the webhook sender
    run during the app's lifespan.
    """
    policy = webhooks or WebhookPolicy()
    sandbox_clock = SandboxClock(store, clock)
    by_code = load_carriers(carriers)
    outbox = Outbox(policy)
    plan = load_plan(faults) if isinstance(faults, Path) else faults
    sender = (
        WebhookSender(store, policy, poll_seconds=tick_seconds) if policy.url is not None else None
    )
    sandbox = Sandbox(
        store=store,
        clock=sandbox_clock,
        api_key=api_key,
        carriers=by_code,
        outbox=outbox,
        faults=FaultInjector(plan, fault_seed),
        rounds=None,
        sender=sender,
    )
    if rounds:
        sandbox.rounds = Rounds(
            store,
            sandbox_clock,
            by_code,
            outbox,
            tick_seconds=tick_seconds,
            on_scans=sandbox.scanned,
        )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        workers = [w.run() for w in (sandbox.rounds, sandbox.sender) if w is not None]
        tasks = [asyncio.create_task(work) for work in workers]
        try:
            yield
        finally:
            sandbox.faults.stopping.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    names = ", ".join(c.name for c in by_code.values())
    app = FastAPI(
        title=f"Carrier sandbox ({names})",
        description="Behaves like carriers' return APIs; the contract is carrier_sandbox/API.md.",
        version="1",
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    install_error_handlers(app)
    install_faults(app, sandbox.faults)
    app.include_router(_open)
    app.include_router(api.router)
    app.include_router(playground.router)
    return app
