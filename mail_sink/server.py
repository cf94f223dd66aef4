"""The SMTP side of the sink: accept every message on loopback and hand it to the mailbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
from pathlib import Path
from types import TracebackType
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from mail_sink.mailbox import Mailbox, message_key

logger = logging.getLogger("mail_sink")

SERVER_NAME = "mail-sink"
UNDELIVERABLE_TLD = ".invalid"
"""RFC 2606 reserves `.invalid` for names that cannot exist: the sink refuses recipients there
with a permanent 550, as a real relay would, so a bounced customer address can be shown."""


class _StoreEveryMessage:
    """aiosmtpd handler: accept any sender and any deliverable recipient, store each message."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain.endswith(UNDELIVERABLE_TLD):
            # The reply names no address: relays' replies end up in error messages and logs.
            return "550 5.1.2 Recipient domain does not exist"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        key = message_key(content)
        trace = _trace_headers(envelope, session, server.hostname)
        try:
            path = await asyncio.to_thread(self.mailbox.store, trace + content)
        except OSError:
            logger.exception("message not stored", extra={"message_key": key})
            # 4xx: the client keeps the message and tries again later; nothing is lost.
            return "451 4.3.0 Could not store the message, try again later"
        logger.info(
            "message stored",
            extra={
                "message_key": key,
                "bytes": len(content),
                "recipients": len(envelope.rcpt_tos),
                "file": path.name,
            },
        )
        return "250 Message accepted for delivery"


def _trace_headers(envelope: Envelope, session: Session, server_name: str) -> bytes:
    """What a delivering MTA prepends: envelope sender and recipients, and a Received line."""
    received = email.utils.format_datetime(dt.datetime.now(dt.UTC))
    lines = [f"Return-Path: <{envelope.mail_from or ''}>"]
    lines += [f"X-Original-To: {rcpt}" for rcpt in envelope.rcpt_tos]
    lines.append(
        f"Received: from {session.host_name or 'unknown'} by {server_name} with ESMTP; {received}"
    )
    return "".join(f"{line}\r\n" for line in lines).encode("utf-8")


class _Controller(Controller):
    """aiosmtpd's threaded controller, taught to listen on port 0.

    After binding, the controller connects to its own port to check the server answers; with
    port 0 that port is only known once the socket is bound, so learn it first.
    """

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class MailSink:
    """An SMTP server on loopback that stores every message it receives under `directory`.

    Use it as an async context manager. It runs in its own thread with its own event loop, so
    it serves a client in the same event loop (a test) as well as a standalone process.
    `port=0` picks a free port: read the chosen one from `.port` once started.
    """

    def __init__(self, directory: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        """The port the sink listens on: the chosen one once started, when asked for port 0."""
        self._controller: _Controller | None = None

    async def start(self) -> None:
        mailbox = Mailbox(self.directory)
        controller = _Controller(
            _StoreEveryMessage(mailbox),
            hostname=self.host,
            port=self.port,
            # A fixed name: the default (the machine's FQDN) can mean a slow DNS lookup.
            server_hostname=SERVER_NAME,
            ident="returnflow mail sink",
        )
        # start() blocks until the server answers: keep the caller's event loop free meanwhile.
        await asyncio.to_thread(controller.start)
        self._controller = controller
        self.port = controller.port

    async def stop(self) -> None:
        if self._controller is not None:
            await asyncio.to_thread(self._controller.stop)
            self._controller = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
