"""What sending a notice needs from the world: a way to send mail, the label's PDF, and the
nearest post offices (the seller's contact comes from `activities.sellers.SellerDirectory`).

Adapters raise `temporalio.exceptions.ApplicationError` with the types below, so the workflow's
retry policies and error handling name the same failures whichever adapter is configured.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

from domain.carriers import Label, PostOffice, PostOfficeQuery

RECIPIENT_REJECTED = "RecipientRejected"
"""The customer's address was refused for good (SMTP 5xx): retrying cannot help."""
MESSAGE_REJECTED = "MessageRejected"
"""The relay refused this message's content for good (SMTP 5xx after DATA)."""
MAIL_RELAY_UNAVAILABLE = "MailRelayUnavailable"
"""The relay could not be reached or asked us to come back later: retried with backoff."""
INVALID_NOTICE = "InvalidNotice"
"""The request lacks a fact its kind of notice has to tell: a bug upstream, never retried."""


class Notifier(Protocol):
    """Delivers one composed email to the recipients in its headers."""

    async def send(self, message: EmailMessage) -> None: ...


class LabelDocuments(Protocol):
    """Fetches the printable PDF of a return label from the carrier that made it."""

    async def label_pdf(self, label: Label) -> bytes: ...


class PostOfficeFinder(Protocol):
    """Finds a carrier's counters nearest to an address (`query.carrier` names the carrier).

    May raise anything: a notice is written without the list rather than not sent.
    """

    async def find_post_offices(self, query: PostOfficeQuery) -> list[PostOffice]: ...
