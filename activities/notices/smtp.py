"""The SMTP adapter: one connection per notice to the configured relay (or the local sink)."""

from __future__ import annotations

import socket
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


class SmtpNotifier:
    """Sends notices through an SMTP relay, classifying every failure as retryable or not.

    Error messages never carry the recipient's address: a relay's reply often quotes it, and
    the message of an activity failure is stored in the workflow history and shown in the Web
    UI. Errors are raised `from None` for the same reason: the cause would be serialised too.
    """

    def __init__(self, settings: Settings) -> None:
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
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                use_tls=self._use_tls,
                start_tls=self._start_tls,
                username=self._username,
                password=self._password,
                timeout=self._timeout,
                local_hostname=self._local_hostname,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise _classify(error) from None


def _classify(error: Exception) -> ApplicationError:
    """A permanent (5xx) refusal of the recipient or the content is final; the rest is retried."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        replies = _describe([(refused.code, refused.message) for refused in error.recipients])
        if all(refused.code >= 500 for refused in error.recipients):
            return _refused("recipient", RECIPIENT_REJECTED, replies)
        return _unavailable(replies)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        reply = _describe([(error.code, error.message)])
        if isinstance(error, aiosmtplib.SMTPDataError) and error.code >= 500:
            return _refused("message", MESSAGE_REJECTED, reply)
        # A deferral (4xx), or the sender, greeting or login refused: our configuration or the
        # relay's, which an operator fixes; until then retrying with backoff keeps notices waiting.
        return _unavailable(reply)
    return _unavailable(f"{type(error).__name__}: {redact_text(str(error))}")


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
