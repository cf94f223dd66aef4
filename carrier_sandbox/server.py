"""Run the sandbox on a real socket inside the current event loop: for tests and the dev stack."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator
from pathlib import Path
from types import TracebackType
from typing import Self

import uvicorn

from carrier_sandbox.app import DEFAULT_API_KEY, create_app
from carrier_sandbox.rules import Clock
from carrier_sandbox.store import SandboxStore


class _HostedServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signals to whoever hosts it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class SandboxServer:
    """The carrier sandbox served over HTTP on `host:port` for as long as the context is open.

        async with SandboxServer(tmp_path / "carrier.sqlite") as sandbox:
            httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key})

    Port 0 picks a free port; `url` tells which. The state stays in `db_path` after exit, so a
    second server on the same file carries on where the first stopped.
    """

    def __init__(
        self,
        db_path: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        clock: Clock | None = None,
        access_log: bool = False,
    ) -> None:
        self.db_path = Path(db_path)
        self.host = host
        self.port = port
        self.api_key = api_key
        self._clock = clock
        self._access_log = access_log
        self._store: SandboxStore | None = None
        self._server: _HostedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        # Binding here, not in uvicorn, gives the real port before the first request.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.create_server((self.host, self.port), family=family)
        self.port = listener.getsockname()[1]
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            self._store = SandboxStore(self.db_path)
        except BaseException:
            listener.close()
            raise
        config = uvicorn.Config(
            create_app(self._store, api_key=self.api_key, clock=self._clock),
            lifespan="off",
            # The host process owns logging: uvicorn's records just propagate to its handlers.
            log_config=None,
            access_log=self._access_log,
            timeout_graceful_shutdown=5,
        )
        self._server = _HostedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[listener]))
        while not self._server.started:
            if self._task.done():
                self._store.close()
                await self._task
                raise RuntimeError("the carrier sandbox stopped while starting")
            await asyncio.sleep(0.01)

    def request_stop(self) -> None:
        """Ask the server to finish its requests and stop (safe from a signal handler)."""
        if self._server is not None:
            self._server.should_exit = True

    async def wait_stopped(self) -> None:
        """Return once the server has stopped, whoever asked it to."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        self.request_stop()
        try:
            if self._task is not None:
                await self._task
        finally:
            if self._store is not None:
                self._store.close()
            self._task = self._server = self._store = None
