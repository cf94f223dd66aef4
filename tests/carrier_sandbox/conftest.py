"""A fresh carrier sandbox on loopback for every test, with a clock the test controls.

By default the carriers' own rounds are off, so nothing moves unless the test says so; the
tests of the rounds and of webhooks start their own sandbox with them on and fast ticks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from carrier_sandbox.server import SandboxServer
from tests.carrier_sandbox.builders import SATURDAY_MORNING

FAST_TICK = 0.02
"""Real seconds between two rounds (or webhook passes) in tests."""


class SettableClock:
    """The base of the sandbox's clock; a test moves it to put the carrier on another day."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(SATURDAY_MORNING)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "carrier-sandbox.sqlite"


@pytest.fixture
async def sandbox(db_path: Path, clock: SettableClock) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(db_path, clock=clock, rounds=False) as server:
        yield server


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    """A shipper's client with the right API key (also used for the `/sandbox/` bench)."""
    async with httpx.AsyncClient(
        base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key}
    ) as http:
        yield http
