"""What every route needs, in one object on `app.state.sandbox`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from carrier_sandbox.carriers import CarrierConfig
from carrier_sandbox.clock import SandboxClock
from carrier_sandbox.errors import from_validation
from carrier_sandbox.faults import FaultInjector
from carrier_sandbox.rounds import Rounds
from carrier_sandbox.store import SandboxStore
from carrier_sandbox.webhooks import Outbox, WebhookSender

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass
class Sandbox:
    """The carriers, their state, their clock and the machinery that acts on its own."""

    store: SandboxStore
    clock: SandboxClock
    api_key: str
    carriers: Mapping[str, CarrierConfig]
    outbox: Outbox
    faults: FaultInjector
    rounds: Rounds | None
    sender: WebhookSender | None

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """`store.run(work)` off the event loop; `work` gets the connection, then `args`."""
        return await asyncio.to_thread(self.store.run, lambda db: work(db, *args))

    def scanned(self) -> None:
        """New scans may have new webhook events: deliver them without waiting for a tick."""
        if self.sender is not None:
            self.sender.wake()


async def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


Ctx = Annotated[Sandbox, Depends(_sandbox)]


def parse(model: type[M], raw: bytes) -> M:
    """A request body as `model`; a 422 naming the first wrong field."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as err:
        raise from_validation(err.errors()) from None
