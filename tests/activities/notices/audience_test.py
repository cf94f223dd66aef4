"""Each notice goes to whom its kind is for: the customer, the seller (the sellers file's
contact, in the seller's language) or operations (the configured team, in its language)."""

from __future__ import annotations

import dataclasses
from email.message import EmailMessage
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notices import (
    CarrierPostOffices,
    NoticeActivities,
    NoticeComposer,
    SmtpNotifier,
)
from activities.notices.partner_facts import SUGGESTED_ACTIONS
from activities.notices.sent import SentNotices
from activities.sellers.directory import FileSellerDirectory
from domain.notices import NoticeKind
from domain.returns import AttentionReason
from mail_sink import MailSink, read_mailbox
from plumbing.settings import Settings

from .compose_test import bodies
from .labels import PrintedLabels
from .stories import ReturnStory, sellers_file


def everything_readable(email: EmailMessage) -> str:
    """The headers and both parts, decoded: all a reader (or a forward) can see."""
    text, page = bodies(email)
    headers = "\n".join(f"{name}: {value}" for name, value in email.items())
    return f"{headers}\n{text}\n{page}"


def assert_nothing_personal_of_the_customer(email: EmailMessage, story: ReturnStory) -> None:
    seen = everything_readable(email)
    customer = story.customer
    for personal in (customer.email, customer.name, customer.address.line1, "elodie", "Tanneurs"):
        assert personal not in seen, f"{personal!r} reached a reader who does not need it"


async def test_seller_notice_goes_to_the_seller_in_the_sellers_language(
    notice_activities: NoticeActivities,
    sink: MailSink,
    sellers_path: Path,
    french_return: ReturnStory,
) -> None:
    # A French customer's return to a seller who reads English.
    story = dataclasses.replace(
        french_return, seller=french_return.seller.model_copy(update={"locale": "en"})
    )
    sellers_path.write_text(sellers_file([story]), encoding="utf-8")

    receipt = await ActivityEnvironment().run(
        notice_activities.send_notice, story.notice(NoticeKind.SELLER_PARCEL_INBOUND)
    )

    [email] = read_mailbox(sink.directory)
    assert email["To"] == "Atelier Reconditionné <retours@atelier-reconditionne.example>"
    # A long Message-ID header comes back folded: compare it unfolded.
    assert (
        str(email["Message-ID"]).strip()
        == receipt.message_id
        == ("<return-O-7731-1.seller_parcel_inbound.1@returns.marketplace.example>")
    )
    assert email["Content-Language"] == "en"
    assert email["Subject"] == "A returned parcel is on its way: order O-7731, line 1"
    text, _ = bodies(email)
    assert text.startswith("Hello Atelier Reconditionné,")
    assert "Tracking number: SB0012345678FR" in text
    # In the seller's zone: Bordeaux, where the parcel goes (07:42 UTC is 08:42 there).
    assert "Handed to the carrier: 27 November 2026 at 08:42" in text
    assert_nothing_personal_of_the_customer(email, story)


async def test_seller_notices_are_in_french_for_a_french_seller(
    notice_activities: NoticeActivities, sink: MailSink, french_return: ReturnStory
) -> None:
    await ActivityEnvironment().run(
        notice_activities.send_notice, french_return.notice(NoticeKind.SELLER_PARCEL_DELIVERED)
    )

    [email] = read_mailbox(sink.directory)
    text, _ = bodies(email)
    assert text.startswith("Bonjour Atelier Reconditionné,")
    assert "Livré le : 30 novembre 2026 à 14 h 05" in text
    assert (
        "Le remboursement du client de 393,90\u00a0€ (389,00\u00a0€ pour l'appareil et "
        "4,90\u00a0€ pour sa livraison) a été demandé"
    ) in text
    assert_nothing_personal_of_the_customer(email, french_return)


@pytest.mark.parametrize("on_file", ["without an email", "not at all"])
async def test_a_seller_with_no_email_on_file_is_refused_naming_the_field(
    notice_activities: NoticeActivities,
    sink: MailSink,
    sellers_path: Path,
    french_return: ReturnStory,
    on_file: str,
) -> None:
    if on_file == "not at all":
        sellers_path.write_text('{"sellers": []}', encoding="utf-8")
    else:
        sellers_path.write_text(
            sellers_file([french_return]).replace(
                '"retours@atelier-reconditionne.example"', "null"
            ),
            encoding="utf-8",
        )

    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            notice_activities.send_notice, french_return.notice(NoticeKind.SELLER_STOP_SHIPMENT)
        )

    assert caught.value.type == "InvalidNotice"
    assert caught.value.non_retryable
    assert caught.value.details == ("seller.email",)
    assert caught.value.message == (
        "Cannot send the notice: seller.email is not on file for seller S-4410"
    )
    assert read_mailbox(sink.directory) == []


async def test_operations_notice_goes_to_the_operations_team_with_a_web_ui_link(
    sink: MailSink,
    labels: PrintedLabels,
    sellers: FileSellerDirectory,
    post_offices: CarrierPostOffices,
    french_return: ReturnStory,
    sent_notices: SentNotices,
) -> None:
    settings = Settings(
        smtp_host=sink.host,
        smtp_port=sink.port,
        operations_email="ops@marketplace.example",
        operations_locale="fr",
        web_ui_url="https://temporal.marketplace.example/",
    )
    notices = NoticeActivities(
        SmtpNotifier(settings),
        NoticeComposer(settings),
        labels,
        sellers,
        post_offices,
        sent_notices,
    )
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, namespace="returns-prod")
    request = french_return.notice(
        NoticeKind.OPERATIONS_ATTENTION, attention="seller_return_address_missing", detail=None
    )

    await env.run(notices.send_notice, request)

    [email] = read_mailbox(sink.directory)
    assert email["To"] == "Marketplace returns operations <ops@marketplace.example>"
    assert email["Content-Language"] == "fr"
    assert email["Subject"] == (
        "Le retour return-O-7731-1 demande une intervention : seller_return_address_missing"
    )
    text, page = bodies(email)
    link = "https://temporal.marketplace.example/namespaces/returns-prod/workflows/return-O-7731-1"
    for part in (text, page):
        assert link in part
        assert "Le vendeur n'a pas d'adresse de retour enregistrée" in part
        assert "S-4410" in part
    assert "Vendeur : S-4410" in text
    # What usually resolves it comes first.
    assert text.index("give_address") < text.index("retry")
    assert "Précision" not in text
    assert_nothing_personal_of_the_customer(email, french_return)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("notice_undeliverable:return_label", "The return_label email could not be delivered"),
        ("carrier_exception", "The carrier reported a problem with the parcel"),
        ("eligibility_unknown_order_status", "an order status this version does not know"),
        ("stock_mismatch:7", "Reason code stock_mismatch:7: this version has no explanation"),
        ("notice_undeliverable", "Reason code notice_undeliverable: this version has no"),
    ],
)
def test_operations_read_the_reason_in_a_sentence_and_unknown_codes_as_they_are(
    composer: NoticeComposer, english_return: ReturnStory, code: str, sentence: str
) -> None:
    request = english_return.notice(NoticeKind.OPERATIONS_ATTENTION, attention=code)

    text, page = bodies(composer.compose(request))

    assert sentence in text
    assert sentence in page
    assert f"Reason code: {code}" in text


@pytest.mark.parametrize("reason", list(AttentionReason), ids=str)
def test_every_reason_a_return_needs_operations_for_is_explained_in_both_languages(
    stories: dict[str, ReturnStory], reason: AttentionReason
) -> None:
    for story in stories.values():
        request = story.notice(NoticeKind.OPERATIONS_ATTENTION, attention=reason.about("sandbox"))
        for locale in ("en", "fr"):
            composer_in = NoticeComposer(Settings(operations_locale=locale))
            text, _page = bodies(composer_in.compose(request))
            assert "this version has no explanation" not in text
            assert "cette version n'a pas d'explication" not in text
    assert SUGGESTED_ACTIONS[reason], "what usually resolves it"


def test_a_seller_notice_needs_the_contact_of_the_orders_seller(
    composer: NoticeComposer, french_return: ReturnStory, english_return: ReturnStory
) -> None:
    request = french_return.notice(NoticeKind.SELLER_RETURN_CANCELLED)

    with pytest.raises(ValueError, match=r"^seller contact of the order's seller is needed$"):
        composer.compose(request)
    with pytest.raises(ValueError, match=r"^seller contact"):
        composer.compose(request, seller=english_return.seller)
