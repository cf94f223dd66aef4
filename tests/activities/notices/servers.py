"""Servers on loopback that misbehave the way real ones do, for the failure paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Self


class ScriptedRelay:
    """An SMTP relay on loopback answering each command as scripted: a relay's refusals, live.

    `replies` maps a verb (EHLO, MAIL, RCPT, DATA, ...) to its reply line; the others get a
    plain 250. It never takes a message in: it plays conversations that end in a refusal.
    """

    def __init__(self, replies: dict[str, str]) -> None:
        self.replies = replies
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._converse, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 relay.test ESMTP\r\n")
        while line := await reader.readline():
            verb = line.decode("ascii", "replace").split(" ", 1)[0].strip().upper()
            reply = self.replies.get(verb, "221 Bye" if verb == "QUIT" else "250 OK")
            writer.write(reply.encode() + b"\r\n")
            await writer.drain()
            if verb == "QUIT":
                break
        writer.close()


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never says a word, like a server stuck behind a firewall."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
