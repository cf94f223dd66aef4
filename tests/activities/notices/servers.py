"""Servers on loopback that misbehave the way real ones do, for the failure paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Self


class ScriptedRelay:
    """An SMTP relay on loopback answering each command as scripted: a relay's refusals, live.

    `replies` maps a verb (EHLO, MAIL, RCPT, DATA, ...) to its reply line; the others get a
    plain 250, and a DATA that is not scripted takes the message in (`accepted` counts them).
    `hang_up_after` plays a relay that ends a session after that many messages: the next
    command (or the next `hang_up_at`, say MAIL) is answered 421 and the connection closed.
    `connections` counts the sessions and `verbs` lists every command received.
    """

    def __init__(
        self,
        replies: dict[str, str],
        *,
        hang_up_after: int | None = None,
        hang_up_at: str | None = None,
    ) -> None:
        self.replies = replies
        self.hang_up_after = hang_up_after
        self.hang_up_at = hang_up_at
        self.port = 0
        self.connections = 0
        self.accepted = 0
        self.verbs: list[str] = []
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
        self.connections += 1
        taken = 0
        writer.write(b"220 relay.test ESMTP\r\n")
        while line := await reader.readline():
            verb = line.decode("ascii", "replace").split(" ", 1)[0].strip().upper()
            self.verbs.append(verb)
            over = self.hang_up_after is not None and taken >= self.hang_up_after
            if over and self.hang_up_at in (None, verb):
                writer.write(b"421 4.4.2 relay.test closing: too many messages\r\n")
                await writer.drain()
                break
            if verb == "DATA" and verb not in self.replies:
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                await writer.drain()
                while await reader.readline() not in (b".\r\n", b""):
                    pass
                taken += 1
                self.accepted += 1
                writer.write(b"250 2.0.0 Ok: queued\r\n")
                await writer.drain()
                continue
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
