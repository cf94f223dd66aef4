"""Turn a notice request into the email the customer receives: text and HTML, maybe a PDF."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from activities.notices.context import (
    InvalidNoticeRequest,
    check_complete,
    label_filename,
    template_context,
)
from activities.notices.wording import WORDINGS, language_of
from domain.notices import NoticeKind, NoticeRequest
from returnflow.settings import Settings

# The left part of a Message-ID must be a dot-atom (RFC 5322 3.6.4): letters, digits and a few
# symbols. A return ID may hold a ':' (allowed in identifiers); write such characters as =XX so
# that the ID stays valid and still maps one-to-one to its notice.
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9._!#$%&'*+/=?^`{|}~-]")


@dataclass(frozen=True)
class NoticeKey:
    """Which notice of which return an email is, read back from its Message-ID."""

    return_id: str
    kind: NoticeKind
    revision: int


def notice_key(message_id: str) -> NoticeKey | None:
    """The inverse of `NoticeComposer.message_id`; None for a message this product did not send.

    Tolerates the folding whitespace a long Message-ID header gets in a stored message.
    """
    local = message_id.strip().strip("<>").split("@", 1)[0]
    return_id, _, rest = local.rpartition(".")
    return_id, _, kind = return_id.rpartition(".")
    if not return_id or not rest.isdigit() or kind not in {k.value for k in NoticeKind}:
        return None
    unescaped = re.sub(r"=([0-9A-F]{2})", lambda m: chr(int(m[1], 16)), return_id)
    return NoticeKey(unescaped, NoticeKind(kind), int(rest))


class NoticeComposer:
    """Writes the notices of a return in the customer's language, from the package templates."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._templates = Environment(
            loader=PackageLoader("activities.notices", "templates"),
            # Customer-supplied text (names, product titles) is escaped in the HTML part.
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            # A misspelt variable is a bug to see, not an empty gap in a customer's email.
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def message_key(self, request: NoticeRequest) -> str:
        """`{return_id}.{kind}.{revision}`: which notice this is, and nothing about whom to."""
        key = f"{request.return_id}.{request.kind}.{request.revision}"
        return _NOT_ATEXT.sub(lambda m: "".join(f"={b:02X}" for b in m[0].encode()), key)

    def message_id(self, request: NoticeRequest) -> str:
        """`<{message_key}@{mail_domain}>`: the same notice, the same ID.

        Derived only from the request, so that every retry of a send carries the ID of the
        first attempt: it is the email's idempotency key.
        """
        return f"<{self.message_key(request)}@{self._settings.mail_domain}>"

    def compose(
        self,
        request: NoticeRequest,
        *,
        label_pdf: bytes | None = None,
        sent_at: dt.datetime | None = None,
    ) -> EmailMessage:
        """The email for `request`; a return_label notice needs the label's PDF to attach."""
        check_complete(request)
        lang = language_of(request.customer.locale)
        facts = template_context(
            request,
            lang,
            marketplace=self._settings.marketplace_name,
            portal_url=self._settings.customer_portal_url,
        )
        subject = _one_line(
            WORDINGS[lang]
            .subjects[request.kind]
            .format(
                product=request.order.product.title,
                order_id=request.order.order_id,
                carrier=facts.get("carrier_name", ""),
            )
        )
        facts["subject"] = subject

        message = EmailMessage()
        message["From"] = self._settings.mail_from
        message["To"] = _recipient(request)
        message["Subject"] = subject
        message["Date"] = format_datetime(sent_at or dt.datetime.now(dt.UTC))
        message["Message-ID"] = self.message_id(request)
        # RFC 3834: tells out-of-office responders not to answer a machine.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(self._render(f"{lang}/{request.kind}.txt", facts))
        message.add_alternative(self._render(f"{lang}/{request.kind}.html", facts), subtype="html")
        if request.kind is NoticeKind.RETURN_LABEL:
            assert request.label is not None  # check_complete made sure
            if label_pdf is None:
                raise InvalidNoticeRequest("label", "PDF is required to attach the label")
            message.add_attachment(
                label_pdf,
                maintype="application",
                subtype="pdf",
                filename=label_filename(request.label.tracking_number),
            )
        # Set last: making the message multipart moves Content-* headers into its first part.
        message["Content-Language"] = lang
        return message

    def _render(self, name: str, facts: dict[str, object]) -> str:
        return self._templates.get_template(name).render(facts)


def _recipient(request: NoticeRequest) -> Address:
    try:
        return Address(
            display_name=_one_line(request.customer.name), addr_spec=request.customer.email
        )
    except ValueError:
        # Says which field, never the address itself: this message reaches the workflow history.
        raise InvalidNoticeRequest("customer.email", "is not an address mail can go to") from None


def _one_line(text: str) -> str:
    # A header value may not hold a line break (header injection): fold all white space.
    return " ".join(text.split())
