"""What each notice tells the customer, in their language, as text and as HTML."""

from __future__ import annotations

import html
import re
from email.message import EmailMessage

import pytest

from activities.notices import NoticeComposer
from activities.notices.compose import NoticeKey, notice_key
from activities.notices.wording import WORDINGS
from domain.carriers import ReturnMethod
from domain.notices import Audience, NoticeKind
from domain.returns import AttentionAction, RejectionReason
from plumbing.settings import Settings

from .stories import ReturnStory

SHIP_BY = {"en": "8 December 2026", "fr": "8 décembre 2026"}
WINDOW_END = {"en": "1 December 2026", "fr": "1er décembre 2026"}
PICKUP_DAY = {"en": "27 November 2026", "fr": "27 novembre 2026"}
EXPIRED_ON = {"en": "11 December 2026", "fr": "11 décembre 2026"}
DEPOSIT_BEFORE = {"en": "before 08:00", "fr": "avant 8 h"}
# The first scan, 07:42 UTC, on each customer's own clock (Dublin UTC+0, Lyon UTC+1).
SCANNED_AT = {"en": "27 November 2026 at 07:42", "fr": "27 novembre 2026 à 8 h 42"}
BOX = {
    "en": "45 \N{MULTIPLICATION SIGN} 35 \N{MULTIPLICATION SIGN} 10 cm for a laptop",
    "fr": "25 \N{MULTIPLICATION SIGN} 18 \N{MULTIPLICATION SIGN} 8 cm pour un smartphone",
}
PRICE = {"en": "€1,149.00", "fr": "389,00\u00a0€"}
LINE = {"en": "line 1", "fr": "ligne 1"}
INSPECTION_DUE = {"en": "7 December 2026 at 14:05", "fr": "7 décembre 2026 à 14 h 05"}
"""Seven days after the delivery, to the minute: the report is refused after it."""
DEDUCTION = {"en": "€25.00", "fr": "25,00\u00a0€"}


def bodies(message: EmailMessage) -> tuple[str, str]:
    """The text part, and the HTML part as a reader sees it (entities decoded)."""
    text = message.get_body(("plain",))
    page = message.get_body(("html",))
    assert text is not None
    assert page is not None
    return text.get_content(), html.unescape(page.get_content())


def key_facts(story: ReturnStory, kind: NoticeKind, lang: str) -> list[str]:
    """What the reader must be able to read in `kind`, whichever part they open.

    A kind missing here fails the test: a new kind comes with what it must say.
    """
    seller = story.seller_address
    # The link's token opens this return's page (tests/customer_page/tokens_test.py).
    return_page = "http://127.0.0.1:8000/my/returns/page-2026-a."
    seller_facts = [story.seller.display_name, story.order.product.title, LINE[lang]]
    facts = {
        NoticeKind.ACKNOWLEDGEMENT: [story.order.product.title, SHIP_BY[lang], PRICE[lang]],
        NoticeKind.REJECTION: [story.order.product.title, WINDOW_END[lang]],
        NoticeKind.RETURN_ADDRESS: [
            seller.city,
            seller.line1,
            SHIP_BY[lang],
            BOX[lang],
            "Sandbox Post",
            "Colissimo",
            return_page,
        ],
        NoticeKind.RETURN_LABEL: [
            story.tracking_number,
            PICKUP_DAY[lang],
            DEPOSIT_BEFORE[lang],
            story.pickup_confirmation,
            f"return-label-{story.tracking_number}.pdf",
        ],
        NoticeKind.COUNTER_CODE: [story.counter_code, story.tracking_number, SHIP_BY[lang]],
        NoticeKind.PICKUP_CONFIRMED: [story.tracking_number, SCANNED_AT[lang], PRICE[lang]],
        NoticeKind.COUNTER_INSTRUCTIONS: [
            seller.company or "",
            seller.line1,
            seller.city,
            SHIP_BY[lang],
            "Sandbox Post",
            return_page,
        ],
        NoticeKind.SHIPMENT_PROBLEM: [
            story.tracking_number,
            SCANNED_AT[lang],
            "No parcel in the mailbox at pickup",
            DEPOSIT_BEFORE[lang],
            return_page,
        ],
        NoticeKind.REFUND_REQUESTED: [story.order.product.title, PRICE[lang], SHIP_BY[lang]],
        NoticeKind.CANCELLATION_CONFIRMED: [PRICE[lang], SHIP_BY[lang], return_page],
        NoticeKind.RETURN_CANCELLED: [story.tracking_number, PICKUP_DAY[lang], return_page],
        NoticeKind.RETURN_EXPIRED: [SHIP_BY[lang], EXPIRED_ON[lang], return_page],
        NoticeKind.SHIPPING_REMINDER: [
            SHIP_BY[lang],
            PICKUP_DAY[lang],
            DEPOSIT_BEFORE[lang],
            EXPIRED_ON[lang],
            return_page,
        ],
        NoticeKind.SELLER_STOP_SHIPMENT: [*seller_facts, story.return_id, PRICE[lang]],
        NoticeKind.SELLER_PARCEL_INBOUND: [*seller_facts, story.tracking_number, "Sandbox Post"],
        NoticeKind.SELLER_PARCEL_DELIVERED: [
            *seller_facts,
            story.tracking_number,
            PRICE[lang],
            INSPECTION_DUE[lang],
        ],
        NoticeKind.PARCEL_NOT_DELIVERED: [
            story.tracking_number,
            SCANNED_AT[lang],
            PRICE[lang],
            return_page,
        ],
        NoticeKind.REFUND_BEFORE_RETURN: [
            story.order.product.title,
            PRICE[lang],
            SHIP_BY[lang],  # the refund's due date, the same day in these stories
            return_page,
        ],
        NoticeKind.DEDUCTION_APPROVED: [
            story.order.product.title,
            DEDUCTION[lang],
            "The charger sold with the phone is missing",
            PRICE[lang],
            return_page,
        ],
        NoticeKind.SELLER_RETURN_CANCELLED: seller_facts,
        NoticeKind.SELLER_RETURN_EXPIRED: [*seller_facts, SHIP_BY[lang], EXPIRED_ON[lang]],
        NoticeKind.OPERATIONS_ATTENTION: [
            story.return_id,
            story.order.seller_id,
            "carrier_credentials_refused:colissimo",
            "401 from the label API",
            f"http://localhost:8233/namespaces/default/workflows/{story.return_id}",
            "resolve_attention",
            *(action.value for action in AttentionAction),
        ],
    }[kind]
    if kind.audience is Audience.CUSTOMER:
        return [story.customer.name, story.order.order_id, *facts]
    return [story.order.order_id, *facts]


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_renders_in_both_languages(
    stories: dict[str, ReturnStory], kind: NoticeKind, lang: str
) -> None:
    story = stories[lang]  # the customer, and the seller, read `lang`
    composer = NoticeComposer(Settings(operations_locale=lang))
    message = composer.compose(story.notice(kind), seller=story.seller, label_pdf=b"%PDF-1.4")

    text, page = bodies(message)
    for fact in key_facts(story, kind, lang):
        assert fact in text, f"{fact!r} missing from the text part"
        assert fact in page, f"{fact!r} missing from the HTML part"
    # A block tag at a line's end takes its newline: no sentence runs into the next line's.
    words = re.sub(r"\S+://\S+", "", text)  # the links' tokens are not sentences
    assert not re.search(r"[.!?][A-ZÀ-Ý]", words), "two lines run together in the text part"
    assert message["Content-Language"] == lang
    assert message["Message-ID"] == f"<{story.return_id}.{kind}.1@returns.marketplace.example>"
    # The address is in the To header only: a forwarded or printed email does not spread it.
    assert story.customer.email not in text + page
    if kind.audience is not Audience.CUSTOMER:
        # Neither the seller nor operations get the customer's name or home address.
        for personal in (story.customer.name, story.customer.address.line1):
            assert personal not in text + page + str(message["Subject"])


def test_html_escapes_customer_supplied_text(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    customer = english_return.customer.model_copy(
        update={"name": 'Zoë "Z" <script>alert(1)</script>'}
    )
    request = english_return.notice(NoticeKind.ACKNOWLEDGEMENT, customer=customer)

    message = composer.compose(request)

    page = message.get_body(("html",))
    assert page is not None
    assert "<script>" not in page.get_content()
    assert "Zoë &#34;Z&#34; &lt;script&gt;alert(1)&lt;/script&gt;" in page.get_content()
    text, _ = bodies(message)
    assert 'Hello Zoë "Z" <script>alert(1)</script>,' in text


def test_a_line_break_in_a_title_cannot_add_a_header(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    product = english_return.order.product.model_copy(
        update={"title": "Pixel 7\r\nBcc: someone@example.com"}
    )
    order = english_return.order.model_copy(update={"product": product})

    message = composer.compose(english_return.notice(NoticeKind.RETURN_ADDRESS, order=order))

    assert message["Bcc"] is None
    assert message["Subject"] == "How to send back Pixel 7 Bcc: someone@example.com (order O-8812)"


def test_unknown_locale_falls_back_to_english(
    composer: NoticeComposer, french_return: ReturnStory
) -> None:
    customer = french_return.customer.model_copy(update={"locale": "de-DE"})

    message = composer.compose(french_return.notice(NoticeKind.ACKNOWLEDGEMENT, customer=customer))

    assert message["Content-Language"] == "en"
    assert message["Subject"].startswith("Your return of iPhone 13")
    assert bodies(message)[0].startswith("Hello Élodie Marchand,")


def test_message_id_is_the_idempotency_key_of_a_notice(
    composer: NoticeComposer, french_return: ReturnStory
) -> None:
    label = french_return.notice(NoticeKind.RETURN_LABEL)
    relabel = french_return.notice(NoticeKind.RETURN_LABEL, revision=2)
    colon = french_return.notice(NoticeKind.RETURN_LABEL, return_id="return-O:7731-1")

    first = composer.compose(label, label_pdf=b"%PDF-1.4")
    retried = composer.compose(label, label_pdf=b"%PDF-1.4")

    assert first["Message-ID"] == retried["Message-ID"] == composer.message_id(label)
    assert composer.message_id(relabel) == (
        "<return-O-7731-1.return_label.2@returns.marketplace.example>"
    )
    # A ':' may be in an identifier but not in a Message-ID: it is written =3A.
    assert composer.message_id(colon) == (
        "<return-O=3A7731-1.return_label.1@returns.marketplace.example>"
    )


def test_a_dot_of_a_return_id_is_escaped_so_that_the_message_id_is_valid_and_reads_back(
    composer: NoticeComposer, french_return: ReturnStory
) -> None:
    # A line `1.` would end a word of the dot-atom on a dot, and make `..` before the kind.
    dotted = french_return.notice(NoticeKind.RETURN_LABEL, return_id="return-O.7731-1.")

    message = composer.compose(dotted, label_pdf=b"%PDF-1.4")
    header = message["Message-ID"]

    assert header == "<return-O.7731-1=2E.return_label.1@returns.marketplace.example>"
    assert not header.defects
    assert notice_key(header) == NoticeKey("return-O.7731-1.", NoticeKind.RETURN_LABEL, 1)


def test_return_address_offers_only_what_each_carrier_can_do(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    text, page = bodies(composer.compose(english_return.notice(NoticeKind.RETURN_ADDRESS)))

    for part in (text, page):
        assert "Sandbox Post: Pickup from your mailbox" in part
        assert "Sandbox Post: Drop-off at a post office" in part
        assert "Sandbox Post: At the post office counter" in part
        assert "Colissimo: Pickup from your mailbox" in part
        assert "Colissimo: Drop-off at a post office" in part
        assert "Colissimo: At the post office counter" not in part
    assert "put the parcel in your mailbox before 08:00: Colissimo collects it" in text
    assert "Reuse the original box if you still have it." in text


def test_drop_off_label_says_where_and_by_when(
    composer: NoticeComposer, french_return: ReturnStory
) -> None:
    request = french_return.notice(
        NoticeKind.RETURN_LABEL, method=ReturnMethod.POST_OFFICE_DROP_OFF, pickup=None
    )

    text, page = bodies(composer.compose(request, label_pdf=b"%PDF-1.4"))

    where = "Déposez le colis dans n'importe quel bureau de poste Sandbox Post"
    sentence = f"{where} au plus tard le 8 décembre"
    assert sentence in text
    assert sentence in page
    assert "boîte aux lettres" not in text


@pytest.mark.parametrize(
    ("reason", "english", "french"),
    [
        (RejectionReason.OUTSIDE_RETURN_WINDOW, "closed on 1 December 2026", "le 1er décembre"),
        (RejectionReason.ORDER_CANCELLED, "already cancelled", "déjà été annulée"),
        (RejectionReason.ALREADY_BEING_RETURNED, "already under way", "déjà en cours"),
        (RejectionReason.ALREADY_RETURNED, "already been returned", "déjà été retourné"),
        (RejectionReason.UNKNOWN_ORDER_STATUS, "will contact you", "vous contactera"),
        (RejectionReason.NOT_RETURNABLE, "excluded from the right of withdrawal", "exclu du droit"),
    ],
)
def test_rejection_says_why_in_the_customers_words(
    composer: NoticeComposer,
    stories: dict[str, ReturnStory],
    reason: RejectionReason,
    english: str,
    french: str,
) -> None:
    for lang, expected in (("en", english), ("fr", french)):
        story = stories[lang]
        rejection = story.notice(NoticeKind.REJECTION)
        assert rejection.decision is not None
        decision = rejection.decision.model_copy(update={"reason": reason})

        text, page = bodies(composer.compose(story.notice(NoticeKind.REJECTION, decision=decision)))

        assert expected in text
        assert expected in page


def test_every_rejection_reason_has_its_sentence_in_each_language() -> None:
    for wording in WORDINGS.values():
        assert set(wording.reasons) == set(RejectionReason)
