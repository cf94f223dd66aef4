"""The marketplace sandbox on a real socket, for the tests of every marketplace adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from marketplace_sandbox.app import create_app
from plumbing.serving import HostedApp

TOKEN = "marketplace-token-for-tests"


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url

    async def faults(self, **plan: Any) -> None:
        async with httpx.AsyncClient(base_url=self.url) as http:
            (await http.put("/sandbox/faults", json=plan)).raise_for_status()

    async def recorded(self, what: str) -> list[dict[str, Any]]:
        """What the sandbox recorded: `refunds`, `claims`, `sellers/<id>/messages`, ..."""
        async with httpx.AsyncClient(base_url=self.url) as http:
            answer = await http.get(f"/sandbox/{what}")
            answer.raise_for_status()
            records: list[dict[str, Any]] = answer.json()
            return records


@asynccontextmanager
async def marketplace_sandbox(directory: Path, **options: Any) -> AsyncIterator[Sandbox]:
    async with HostedApp(create_app(directory, TOKEN, **options)) as server:
        yield Sandbox(server.url)
