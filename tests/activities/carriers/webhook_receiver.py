"""A webhook receiver on loopback that records what it is sent and answers from a script.

A few lines of HTTP/1.1 over asyncio streams, enough for a carrier's webhook POSTs (with
keep-alive): a test can make it refuse, drop the connection or hang before it accepts, and then
check every attempt the carrier made, in the order it made them.

    async with WebhookReceiver([503, "drop", 200]) as receiver:
        ... sandbox posts to receiver.url("/hooks/{carrier}") ...
        attempts = await receiver.wait_for(3)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

Answer = int | Literal["drop", "hang"]
"""An HTTP status; "drop": close the connection without answering; "hang": never answer."""


@dataclass(frozen=True)
class Received:
    """One request, as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes
    arrived: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Answers the n-th request with `answers[n]`, then `default` for ever."""

    def __init__(self, answers: Iterable[Answer] = (), *, default: int = 204) -> None:
        self._answers = list(answers)
        self._default = default
        self.received: list[Received] = []
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port = 0

    def url(self, path: str = "/hooks/{carrier}") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()

    async def wait_for(self, count: int, within: float = 5.0) -> list[Received]:
        """The first `count` requests, once they have arrived (at most `within` seconds)."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)
        return self.received[:count]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while (request := await self._read(reader)) is not None:
                answer = self._answers.pop(0) if self._answers else self._default
                async with self._arrived:
                    self.received.append(request)
                    self._arrived.notify_all()
                if answer == "hang":
                    await asyncio.sleep(3600)
                if answer == "drop" or answer == "hang":
                    break
                writer.write(f"HTTP/1.1 {answer} Scripted\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Received | None:
        line = await reader.readline()
        if not line.strip():
            return None
        method, path, _version = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Received(method, path, headers, body)
