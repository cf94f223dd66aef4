"""The SMTP adapter: notices sent to the configured relay (or the local sink), over a connection
kept open between them on the worker."""

from __future__ import annotations

import contextlib
import re
import socket
import time
from email.message import EmailMessage

import aiosmtplib
from temporalio.exceptions import ApplicationError

from activities.notices.protocol import (
    MAIL_RELAY_UNAVAILABLE,
    MESSAGE_REJECTED,
    RECIPIENT_REJECTED,
)
from plumbing.logs import redact_text
from plumbing.settings import Settings

KEEP_OPEN = 4
"""How many connections the worker's notifier keeps open between notices: as many as send at
once on a busy worker, each saving the next notice a connection, greeting, TLS handshake and
login."""

IDLE_SECONDS = 30.0
"""A connection unused for longer is not used again (it is closed when the next email comes):
well under the minutes after which relays and firewalls drop an idle session."""

NOOP_TIMEOUT_SECONDS = 5.0
"""How long a kept connection may take to answer the NOOP that checks it before it is reused."""


class SmtpNotifier:
    """Sends notices through an SMTP relay, classifying every failure as retryable or not.

    With `keep_open`, up to that many connections stay open between notices (the worker's
    notifier, closed by `aclose`); each is checked with a NOOP before it is reused, a kept one
    whose MAIL the relay answers 421 is replaced by a new one for the same email, and any
    failure closes it. Without, each notice has its own connection (a page sending one email).

    Error messages never carry the recipient's address: a relay's reply often quotes it, and
    the message of an activity failure is stored in the workflow history and shown in the Web
    UI. Errors are raised `from None` for the same reason: the cause would be serialised too.
    """

    def __init__(self, settings: Settings, *, keep_open: int = 0) -> None:
        self._keep_open = keep_open
        self._idle: list[tuple[float, aiosmtplib.SMTP]] = []
        self._host = settings.smtp_host
        self._port = settings.smtp_port
        self._use_tls = settings.smtp_security == "tls"
        # False rather than aiosmtplib's None ("upgrade if offered"): "none" means plain SMTP.
        self._start_tls = settings.smtp_security == "starttls"
        self._username = settings.smtp_username
        self._password = (
            settings.smtp_password.get_secret_value() if settings.smtp_password else None
        )
        self._timeout = settings.smtp_timeout_seconds
        # The name this host gives in EHLO, looked up once, when the adapter is made.
        self._local_hostname = socket.getfqdn()

    async def send(self, message: EmailMessage) -> None:
        try:
            smtp, kept = await self._connection()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise _classify(error) from None
        try:
            try:
                await smtp.send_message(message)
            except aiosmtplib.SMTPSenderRefused as refused:
                # A kept session the relay ends at the next MAIL (a limit of messages per
                # session, a shutdown): nothing was sent; once more on a new connection.
                if not (kept and refused.code == 421):
                    raise
                smtp.close()
                smtp = await self._connect()
                await smtp.send_message(message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            await _quit(smtp)
            raise _classify(error) from None
        except BaseException:
            smtp.close()  # cancelled mid-conversation: the session is in an unknown state
            raise
        if len(self._idle) < self._keep_open:
            self._idle.append((time.monotonic(), smtp))
        else:
            await _quit(smtp)

    async def aclose(self) -> None:
        """Close the connections kept open (the worker's shutdown)."""
        idle, self._idle = self._idle, []
        try:
            for _, smtp in idle:
                await _quit(smtp)
        finally:
            for _, smtp in idle:
                smtp.close()

    async def _connection(self) -> tuple[aiosmtplib.SMTP, bool]:
        """The most recently used kept connection that still answers (and True), or a new one.

        Those idle too long are closed without a word: a relay or firewall may have dropped
        them already, and a goodbye to each would only make this email wait."""
        now = time.monotonic()
        kept, self._idle = self._idle, []
        for since, smtp in kept:
            if now - since > IDLE_SECONDS:
                smtp.close()
            else:
                self._idle.append((since, smtp))
        while self._idle:
            _, smtp = self._idle.pop()
            try:
                await smtp.noop(timeout=min(self._timeout, NOOP_TIMEOUT_SECONDS))
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                smtp.close()
                continue
            except BaseException:
                smtp.close()
                raise
            return smtp, True
        return await self._connect(), False

    async def _connect(self) -> aiosmtplib.SMTP:
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            use_tls=self._use_tls,
            start_tls=self._start_tls,
            username=self._username,
            password=self._password,
            timeout=self._timeout,
            local_hostname=self._local_hostname,
        )
        try:
            await smtp.connect()
        except BaseException:
            smtp.close()
            raise
        return smtp


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    """Say goodbye if the relay still listens; close in any case, cancelled or not."""
    try:
        if smtp.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await smtp.quit(timeout=NOOP_TIMEOUT_SECONDS)
    finally:
        smtp.close()


def _classify(error: Exception) -> ApplicationError:
    """A permanent (5xx) refusal of the recipient or the content is final; the rest is retried."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        replies = _describe([(refused.code, refused.message) for refused in error.recipients])
        if all(
            refused.code >= 500 and not _not_ours_to_relay(refused.code, refused.message)
            for refused in error.recipients
        ):
            return _refused("recipient", RECIPIENT_REJECTED, replies)
        return _unavailable(replies)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        reply = _describe([(error.code, error.message)])
        if isinstance(error, aiosmtplib.SMTPDataError) and error.code >= 500:
            return _refused("message", MESSAGE_REJECTED, reply)
        if _too_large(error):
            return _refused("message", MESSAGE_REJECTED, reply)
        # A deferral (4xx), or the sender, greeting or login refused: our configuration or the
        # relay's, which an operator fixes; until then retrying with backoff keeps notices waiting.
        return _unavailable(reply)
    return _unavailable(f"{type(error).__name__}: {redact_text(str(error))}")


_RELAYING = re.compile(r"\brelay(?:ing)?\b", re.IGNORECASE)


def _not_ours_to_relay(code: int, message: str) -> bool:
    """A recipient refused because the relay will not take mail from us (530: log in first;
    550 5.7.1 "Relaying denied"): our configuration, which an operator fixes, not the
    recipient's address. Retried, as a refused sender is, rather than every notice marked
    undeliverable."""
    return code == 530 or _RELAYING.search(message) is not None


def _too_large(error: aiosmtplib.SMTPResponseException) -> bool:
    """The relay refuses the message's size for good: 552 (or 5.3.4) to the `SIZE` the sender
    announces with MAIL FROM (RFC 1870), before any data is sent."""
    return error.code == 552 or error.message.startswith("5.3.4")


def _describe(replies: list[tuple[int, str]]) -> str:
    return "; ".join(f"{code} {redact_text(text)}" for code, text in replies)


def _refused(what: str, error_type: str, reply: str) -> ApplicationError:
    return ApplicationError(
        f"The mail relay refused the {what}: {reply}", type=error_type, non_retryable=True
    )


def _unavailable(reply: str) -> ApplicationError:
    return ApplicationError(
        f"The mail relay is unavailable, will retry: {reply}",
        type=MAIL_RELAY_UNAVAILABLE,
        non_retryable=False,
    )
