"""Serve an ASGI app on a real socket inside the running event loop (gateway, sandbox, tests)."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import socket
from collections.abc import Generator
from types import TracebackType
from typing import Any, Literal, Self

import uvicorn


class _HostedServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signals to whoever hosts it."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._exit_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    def request_exit(self) -> None:
        self.should_exit = True
        self._exit_requested.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown waits a fixed 0.1 s for open connections to finish; with none
        open (the usual case in tests) the server stops at once."""
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def main_loop(self) -> None:
        """uvicorn's loop, woken at once by `request_exit` instead of noticing within 0.1 s."""
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit_requested.wait(), timeout=0.1)


class LoopbackService(abc.ABC):
    """Something served on `host:port` for as long as its context is open: `start`, `stop`."""

    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @abc.abstractmethod
    async def start(self) -> None:
        """Listen, and return once requests are answered."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Finish the requests in hand and stop listening."""

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


class HostedApp(LoopbackService):
    """`app` served on `host:port` for as long as the context is open; port 0 picks one."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_log: bool = False,
        lifespan: Literal["on", "off"] = "off",
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._access_log = access_log
        self._lifespan = lifespan
        self._server: _HostedServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Binding here, not in uvicorn, gives the real port before the first request.
        listener = listen(self.host, self.port)
        self.port = listener.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan=self._lifespan,
            # The host process owns logging: uvicorn's records just propagate to its handlers.
            log_config=None,
            access_log=self._access_log,
            timeout_graceful_shutdown=5,
        )
        self._server = _HostedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[listener]))
        while not self._server.started:
            if self._task.done():
                listener.close()
                await self._task
                raise RuntimeError("the server stopped while starting")
            await asyncio.sleep(0.01)

    def request_stop(self) -> None:
        """Ask the server to finish its requests and stop (safe from a signal handler)."""
        if self._server is not None:
            self._server.request_exit()

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
            self._task = self._server = None


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket, created with its protocol named: asyncio then turns Nagle off on
    every connection it accepts (it only does so for IPPROTO_TCP sockets), which spares each
    answer written in two parts a 40 ms delayed-ACK wait."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen()
    except BaseException:
        listener.close()
        raise
    return listener
