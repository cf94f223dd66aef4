"""Serve an ASGI app on a real socket inside the running event loop (gateway, sandbox, tests)."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Generator
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal, Self

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from plumbing.settings import Settings

logger = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may cost a server facing strangers."""

    max_connections: int = 1000
    """Open connections at once; a new one beyond is closed as soon as it is accepted."""
    max_header_bytes: int = 16 * 1024
    """The request line and headers, at most (400 beyond)."""
    header_timeout_seconds: float = 10.0
    """From the first byte of a request (or the connection's opening) to its last header."""
    keep_alive_seconds: float = 5.0
    """An idle connection between requests is closed after this."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            max_connections=settings.http_max_connections,
            max_header_bytes=settings.http_max_header_bytes,
            header_timeout_seconds=settings.http_header_timeout_seconds,
        )


class _GuardedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, with a deadline for a request's headers (a client that
    trickles them holds a connection no longer), a cap on open connections, and its own
    refusals in the JSON error shape of returnflow's servers."""

    limits: ConnectionLimits

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._header_deadline: asyncio.TimerHandle | None = None
        self._body_deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._head_tail = b""
        if len(self.connections) > self.limits.max_connections:
            logger.warning("connection refused: too many open", extra={"client": self.client})
            self.transport.close()
            return
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        waiting = self.conn.their_state is h11.IDLE
        if waiting and self._head_too_long(data):
            self._refuse(
                431,
                "headers_too_large",
                f"The request line and headers are over {self.limits.max_header_bytes} bytes.",
            )
            return
        super().data_received(data)
        if self.conn.their_state is not h11.SEND_BODY:
            self._stop_waiting_for_body()
        if self.conn.their_state is not h11.IDLE:
            self._stop_waiting()
        elif waiting and self._header_deadline is None:
            self._await_headers()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next request's headers are waited for from its first byte (the keep-alive timer
        # closes an idle connection before that).
        self._stop_waiting()
        if not self.transport.is_closing() and self.conn.their_state is h11.SEND_BODY:
            # Answered before the request's body was all read (a refusal): the rest of it has
            # the headers' deadline to arrive, then the connection closes. Its bytes, which
            # put the keep-alive timer off each time, do not hold the connection for ever.
            self._body_deadline = self.loop.call_later(
                self.limits.header_timeout_seconds, self._body_too_slow
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        self._stop_waiting_for_body()
        super().connection_lost(exc)

    def _body_too_slow(self) -> None:
        self._body_deadline = None
        if self.conn.their_state is h11.SEND_BODY:
            logger.info("connection closed: an answered request's body too slow")
            self.transport.close()

    def _stop_waiting_for_body(self) -> None:
        if self._body_deadline is not None:
            self._body_deadline.cancel()
            self._body_deadline = None

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "bad_http", "Not an HTTP/1.1 request this server reads.")

    def _head_too_long(self, data: bytes) -> bool:
        """Whether the request's line and headers, read so far, are over the limit (h11 only
        bounds what it buffers incomplete, not a head that arrives whole)."""
        seen = self._head_tail + data
        end = seen.find(b"\r\n\r\n")
        if end >= 0:
            head = self._head_bytes + end + 4 - len(self._head_tail)
            self._head_bytes, self._head_tail = 0, b""
        else:
            head = self._head_bytes + len(data)
            self._head_bytes, self._head_tail = head, seen[-3:]
        return head > self.limits.max_header_bytes

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer `status` in the JSON error shape and close, whatever h11 has seen."""
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        reason = HTTPStatus(status).phrase
        head = (
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()

    def _await_headers(self) -> None:
        self._stop_waiting()
        self._header_deadline = self.loop.call_later(
            self.limits.header_timeout_seconds, self._headers_too_slow
        )

    def _stop_waiting(self) -> None:
        deadline = getattr(self, "_header_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            logger.warning("connection closed: headers too slow", extra={"client": self.client})
            self.transport.close()


def _guarded(limits: ConnectionLimits) -> type[_GuardedH11]:
    return type("GuardedH11", (_GuardedH11,), {"limits": limits})


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
        limits: ConnectionLimits | None = None,
        trusted_proxies: list[str] | None = None,
    ) -> None:
        """`limits` guards the connections (uvicorn's defaults without); `trusted_proxies`
        lists the addresses whose X-Forwarded-For names the client (none by default)."""
        self.app = app
        self._limits = limits
        self._trusted_proxies = trusted_proxies or []
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
            proxy_headers=bool(self._trusted_proxies),
            forwarded_allow_ips=self._trusted_proxies,
            **self._limit_options(),
        )
        self._server = _HostedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[listener]))
        while not self._server.started:
            if self._task.done():
                listener.close()
                await self._task
                raise RuntimeError("the server stopped while starting")
            await asyncio.sleep(0.01)

    @property
    def open_connections(self) -> int:
        """How many connections the server holds open now."""
        return len(self._server.server_state.connections) if self._server else 0

    def _limit_options(self) -> dict[str, Any]:
        if self._limits is None:
            return {}
        return {
            "http": _guarded(self._limits),
            "h11_max_incomplete_event_size": self._limits.max_header_bytes,
            "timeout_keep_alive": self._limits.keep_alive_seconds,
        }

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
