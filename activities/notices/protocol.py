"""What sending a notice needs from the world: a way to send mail, the label's PDF, and the
nearest post offices (the seller's contact comes from `activities.sellers.SellerDirectory`).

Adapters raise `temporalio.exceptions.ApplicationError` with the types below, so the workflow's
retry policies and error handling name the same failures whichever adapter is configured.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

from domain.carriers import Label, PostOffice, PostOfficeQuery
from domain.failures import FailureType

RECIPIENT_REJECTED = FailureType.RECIPIENT_REJECTED
MESSAGE_REJECTED = FailureType.MESSAGE_REJECTED
MAIL_RELAY_UNAVAILABLE = FailureType.MAIL_RELAY_UNAVAILABLE


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
