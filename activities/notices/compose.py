"""Turn a notice request into the email its reader receives: text and HTML, maybe a PDF."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from activities.notices.context import InvalidNoticeRequest, check_complete, template_context
from activities.notices.customer_facts import label_filename
from activities.notices.view import View
from activities.notices.wording import Wording, language_of
from customer_page.links import PageLinks
from domain.calendar import counted_zone, country_time_zone
from domain.carriers import PostOffice
from domain.emails import NOT_DELIVERABLE, ascii_address
from domain.notices import Audience, NoticeKind, NoticeRequest, SellerContact
from plumbing.settings import Settings
from plumbing.temporal import web_ui_link

DEFAULT_NAMESPACE = "default"
"""The Temporal namespace of links when the notice is composed outside an activity."""
UTC = ZoneInfo("UTC")

# The left part of a Message-ID must be a dot-atom (RFC 5322 3.6.4): letters, digits and a few
# symbols. A return ID may hold a ':' (allowed in identifiers); write such characters as =XX so
# that the ID stays valid and still maps one-to-one to its notice.
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9._!#$%&'*+/=?^`{|}~-]")
_LOOSE_DOT = re.compile(r"^\.|\.$|(?<=\.)\.")
"""A dot a dot-atom may not hold: first, last, or after another (a line `1.` joined to what
follows would make `1..`)."""


def _escaped(text: str) -> str:
    return "".join(f"={b:02X}" for b in text.encode())


def message_id_part(*words: str) -> str:
    """`words` as the left part of a Message-ID, joined by dots: each character a Message-ID may
    not hold there (`:` of an order's ID, for one), and each dot that would start or end a word
    or follow another, written `=XX`, so that the header reads back whole and two keys never
    share an ID. (A dot inside a word stays: the IDs of such returns are as they were.)"""
    return ".".join(
        _LOOSE_DOT.sub(lambda m: _escaped(m[0]), _NOT_ATEXT.sub(lambda m: _escaped(m[0]), word))
        for word in words
    )


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
    """Writes the notices of a return in their reader's language, from the package templates.

    The reader is the kind's audience: the customer (the event's name, email and locale), the
    seller (the directory's contact) or operations (`operations_email`, `operations_locale`).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._links = PageLinks(settings)
        self._templates = Environment(
            loader=PackageLoader("activities.notices", "templates"),
            # Customer-supplied text (names, product titles) is escaped in the HTML part.
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            # A misspelt variable is a bug to see, not an empty gap in a customer's email.
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # The templates ship with the code: compiled once, not checked on disk per email.
            auto_reload=False,
        )

    def message_key(self, request: NoticeRequest) -> str:
        """`{return_id}.{kind}.{revision}`: which notice this is, and nothing about whom to."""
        return message_id_part(request.return_id, request.kind, str(request.revision))

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
        seller: SellerContact | None = None,
        label_pdf: bytes | None = None,
        post_offices: Sequence[PostOffice] = (),
        namespace: str = DEFAULT_NAMESPACE,
        sent_at: dt.datetime | None = None,
    ) -> EmailMessage:
        """The email for `request`, to the reader its kind is for, in the reader's language.

        A seller notice needs the seller's contact (`seller`); a return_label notice the
        label's PDF to attach; return_address and counter_instructions list `post_offices`
        (or say where to find one); an operations notice links the return in the Web UI of
        `namespace`.
        """
        check_complete(request)
        recipient, view = self._reader(request, seller, post_offices, namespace)
        facts = template_context(
            request,
            view,
            marketplace=self._settings.marketplace_name,
            return_page=(
                self._links.return_page(request.return_id, sent_at)
                if request.kind.audience is Audience.CUSTOMER
                else ""
            ),
        )
        subject = _one_line(
            _subject_wording(request, view.words).format(
                product=request.order.product.title,
                order_id=request.order.order_id,
                line_id=request.order.line_id,
                return_id=request.return_id,
                carrier=facts.get("carrier_name", ""),
                attention=request.attention or "",
            )
        )
        facts["subject"] = subject

        message = email_to(
            self._settings,
            recipient,
            subject,
            self._render(f"{view.lang}/{request.kind}.txt", facts),
            message_id=self.message_id(request),
            sent_at=sent_at,
        )
        html = self._render(f"{view.lang}/{request.kind}.html", facts)
        message.add_alternative(html, subtype="html")
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
        message["Content-Language"] = view.lang
        return message

    def _reader(
        self,
        request: NoticeRequest,
        seller: SellerContact | None,
        post_offices: Sequence[PostOffice],
        namespace: str,
    ) -> tuple[Address, View]:
        """Whom the notice goes to, and how it is written for them."""
        match request.kind.audience:
            case Audience.CUSTOMER:
                customer = request.customer
                zone = counted_zone(request.time_zone, customer.address.country_code)
                view = View(language_of(customer.locale), zone, customer.name, post_offices)
                return _address(customer.name, customer.email, "customer.email"), view
            case Audience.SELLER:
                if seller is None or seller.seller_id != request.order.seller_id:
                    raise InvalidNoticeRequest("seller", "contact of the order's seller is needed")
                view = View(
                    language_of(seller.locale), _seller_zone(request, seller), seller.display_name
                )
                return _address(seller.display_name, seller.email, "seller.email"), view
            case Audience.OPERATIONS:
                settings = self._settings
                link = web_ui_link(settings, namespace, request.return_id)
                view = View(language_of(settings.operations_locale), UTC, workflow_link=link)
                team = f"{settings.marketplace_name} returns operations"
                return _address(team, settings.operations_email, "operations_email"), view

    def _render(self, name: str, facts: dict[str, object]) -> str:
        return self._templates.get_template(name).render(facts)


def _subject_wording(request: NoticeRequest, words: Wording) -> str:
    if request.kind is NoticeKind.RETURN_ADDRESS and request.acknowledges:
        return words.accepted_return_address_subject
    if request.kind is NoticeKind.RETURN_LABEL and request.revision > 1:
        return words.replacement_label_subject
    return words.subjects[request.kind]


def email_to(
    settings: Settings,
    recipient: Address,
    subject: str,
    text: str,
    *,
    message_id: str,
    sent_at: dt.datetime | None = None,
    lang: str | None = None,
) -> EmailMessage:
    """An email from returnflow (`mail_from`): its headers and its text part. With `lang`, it
    is complete (`Content-Language` set); without, the caller adds its other parts first."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = _one_line(subject)
    message["Date"] = format_datetime(sent_at or dt.datetime.now(dt.UTC))
    message["Message-ID"] = message_id
    # RFC 3834: tells out-of-office responders not to answer a machine.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if lang is not None:
        message["Content-Language"] = lang
    return message


def customer_address(name: str, email: str) -> Address:
    """The customer as a recipient (`InvalidNoticeRequest` naming the field, never the address,
    when it is not one mail can go to)."""
    return _address(name, email, "customer.email")


def _seller_zone(request: NoticeRequest, seller: SellerContact) -> ZoneInfo:
    """The seller's clock: where their returns go, else the country of their locale."""
    if request.return_address is not None:
        return country_time_zone(request.return_address.country_code)
    return country_time_zone(seller.locale.rpartition("-")[2].upper())


def _address(name: str, email: str, field: str) -> Address:
    try:
        return Address(display_name=_one_line(name), addr_spec=ascii_address(email))
    except ValueError:  # NotDeliverable: `ascii_address` parsed it already
        # Says which field, never the address itself: this message reaches the workflow history.
        raise InvalidNoticeRequest(field, NOT_DELIVERABLE) from None


def _one_line(text: str) -> str:
    # A header value may not hold a line break (header injection): fold all white space.
    return " ".join(text.split())
