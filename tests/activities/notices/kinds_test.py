"""What particular notices say in particular situations, and the facts each kind cannot lack."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notices import NoticeActivities, NoticeComposer
from activities.notices.context import _NEEDS
from domain.carriers import CarrierCapability, CarrierOffer, ReturnMethod, TrackingStatus
from domain.notices import NoticeKind
from mail_sink import MailSink, read_mailbox

from .compose_test import bodies
from .stories import REFUND_DUE_BY, ReturnStory


def test_every_kind_says_what_it_needs() -> None:
    assert set(_NEEDS) == set(NoticeKind)


@pytest.mark.parametrize(
    ("kind", "field"), [(kind, field) for kind, fields in _NEEDS.items() for field in fields]
)
async def test_a_notice_missing_a_fact_it_needs_is_refused_naming_the_field(
    notice_activities: NoticeActivities,
    sink: MailSink,
    english_return: ReturnStory,
    kind: NoticeKind,
    field: str,
) -> None:
    empty: list[object] | None = [] if field == "carriers" else None
    request = english_return.notice(kind, **{field: empty})

    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(notice_activities.send_notice, request)

    assert caught.value.type == "InvalidNotice"
    assert caught.value.non_retryable
    assert caught.value.details == (field,)
    assert caught.value.message == (
        f"Cannot send the notice: {field} is required for a {kind} notice"
    )
    assert read_mailbox(sink.directory) == []


@pytest.mark.parametrize(
    "kind",
    [
        NoticeKind.PICKUP_CONFIRMED,
        NoticeKind.CANCELLATION_CONFIRMED,
        NoticeKind.SELLER_STOP_SHIPMENT,
        NoticeKind.SELLER_PARCEL_DELIVERED,
    ],
)
def test_a_refund_told_of_needs_its_due_date(
    composer: NoticeComposer, english_return: ReturnStory, kind: NoticeKind
) -> None:
    request = english_return.notice(kind, refund=english_return.refund, refund_due_by=None)

    with pytest.raises(ValueError, match=r"^refund_due_by is required to tell of the refund"):
        composer.compose(request, seller=english_return.seller)


def test_a_shipment_problem_needs_a_problem_scan(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    request = english_return.notice(
        NoticeKind.SHIPMENT_PROBLEM, scan=english_return.scan(TrackingStatus.ACCEPTED)
    )

    with pytest.raises(ValueError, match=r"^scan is not a problem scan"):
        composer.compose(request)


def test_return_address_that_acknowledges_reads_as_the_acknowledgement(
    composer: NoticeComposer, stories: dict[str, ReturnStory]
) -> None:
    expected = {
        "en": (
            "Your return of MacBook Air M2 13-inch 256 GB, good condition is accepted: here is "
            "how to send it back (order O-8812)",
            "It is accepted: please keep this email, it is the acknowledgement of your withdrawal.",
        ),
        "fr": (
            "Votre retour est accepté : voici comment renvoyer iPhone 13 128 Go Minuit, très bon "
            "état (commande O-7731)",
            "Elle est acceptée : conservez cet e-mail, c'est l'accusé de réception de votre "
            "rétractation.",
        ),
    }
    for lang, (subject, opening) in expected.items():
        story = stories[lang]
        message = composer.compose(story.notice(NoticeKind.RETURN_ADDRESS, acknowledges=True))

        text, page = bodies(message)
        assert message["Subject"] == subject
        for part in (text, page):
            # First the acceptance, then the address to send the parcel to.
            assert opening in part
            assert part.index(opening) < part.index(story.seller_address.line1)
        plain = composer.compose(story.notice(NoticeKind.RETURN_ADDRESS))
        assert opening not in bodies(plain)[0]


def test_the_acknowledgement_gives_the_whole_refund_owed_its_delivery_included(
    composer: NoticeComposer, stories: dict[str, ReturnStory]
) -> None:
    """Art. 13(1): the standard delivery is refunded with the goods, and the email says so."""
    owed = {
        "en": "The seller refunds you €1,158.90 (€1,149.00 for the device and €9.90 for its "
        "delivery) within the legal time limit.",
        "fr": "Le vendeur vous rembourse 393,90\u00a0€ (389,00\u00a0€ pour l'appareil et "
        "4,90\u00a0€ pour sa livraison) dans le délai légal.",
    }
    for lang, sentence in owed.items():
        story = stories[lang]
        message = composer.compose(story.notice(NoticeKind.RETURN_ADDRESS, acknowledges=True))

        for part in bodies(message):
            assert sentence in part


def test_a_new_label_says_the_earlier_one_no_longer_works(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    replaced = "This label replaces any earlier one for this order, which no longer works"

    first = composer.compose(english_return.notice(NoticeKind.RETURN_LABEL), label_pdf=b"%PDF")
    second = composer.compose(
        english_return.notice(NoticeKind.RETURN_LABEL, revision=2), label_pdf=b"%PDF"
    )

    assert replaced not in bodies(first)[0]
    assert all(replaced in part for part in bodies(second))
    assert second["Subject"] == "Your new prepaid return label for order O-8812"


def test_pickup_confirmation_tells_of_the_refund_when_it_is_requested(
    composer: NoticeComposer, french_return: ReturnStory
) -> None:
    request = french_return.notice(
        NoticeKind.PICKUP_CONFIRMED,
        refund=french_return.refund,
        refund_due_by=french_return.notice(NoticeKind.REFUND_REQUESTED).refund_due_by,
    )

    text, page = bodies(composer.compose(request))

    sentence = (
        "nous avons demandé votre remboursement de 393,90\u00a0€ (389,00\u00a0€ pour l'appareil "
        "et 4,90\u00a0€ pour sa livraison) : il vous sera versé au plus tard le 8 décembre 2026"
    )
    assert sentence in text
    assert sentence in page


def test_a_carrier_whose_counters_print_the_label_needs_no_code(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    counter_only = CarrierOffer(
        code="relay",
        name="Relay Express",
        capabilities=frozenset({CarrierCapability.COUNTER_LABEL, CarrierCapability.DROP_OFF}),
    )
    request = english_return.notice(NoticeKind.RETURN_ADDRESS, carriers=[counter_only])

    text, _ = bodies(composer.compose(request))

    assert "Relay Express: At the post office counter" in text
    assert "Enter the tracking number from the receipt on your return page." in text
    assert "We email you a return code." not in text


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        (
            TrackingStatus.EXCEPTION,
            ReturnMethod.MAILBOX_PICKUP,
            "If the parcel is still in your mailbox, choose a new pickup day",
        ),
        (
            TrackingStatus.EXCEPTION,
            ReturnMethod.POST_OFFICE_DROP_OFF,
            "Follow your parcel SB0012345678FR on the Sandbox Post website",
        ),
        (
            TrackingStatus.RETURNED_TO_SENDER,
            ReturnMethod.POST_OFFICE_DROP_OFF,
            "The parcel is on its way back to you.",
        ),
    ],
)
def test_a_shipment_problem_says_what_to_do_about_it(
    composer: NoticeComposer,
    english_return: ReturnStory,
    status: TrackingStatus,
    method: ReturnMethod,
    expected: str,
) -> None:
    request = english_return.notice(
        NoticeKind.SHIPMENT_PROBLEM,
        scan=english_return.scan(status),
        method=method,
        detail="Addressee unknown",
    )

    text, page = bodies(composer.compose(request))

    for part in (text, page):
        assert expected in part
        assert "Addressee unknown" in part  # the carrier's words, as given
        assert "contact customer service from your return page" in part


def test_a_cancelled_return_mentions_only_what_there_was_to_cancel(
    composer: NoticeComposer, french_return: ReturnStory
) -> None:
    request = french_return.notice(
        NoticeKind.RETURN_CANCELLED, label=None, pickup=None, method=None
    )

    text, _ = bodies(composer.compose(request))

    assert "Vous gardez l'appareil" in text
    assert "étiquette" not in text
    assert "enlèvement" not in text


def test_a_cancellation_without_the_refund_recorded_still_says_it_is_requested(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    request = english_return.notice(
        NoticeKind.CANCELLATION_CONFIRMED, refund=None, refund_due_by=None
    )

    text, _ = bodies(composer.compose(request))

    # Express delivery: the standard delivery's €9.90 is refunded, not the €19.90 paid.
    assert (
        "We have requested the refund of what you paid, €1,158.90 (€1,149.00 for the device "
        "and €9.90 for its delivery), to the"
    ) in text


@pytest.mark.parametrize(
    ("situation", "said"),
    [
        ("address missing", "The seller has not given us the address to send the item back to"),
        ("kept", "You do not need to send the item back: keep it."),
        ("collection booked", "The carrier still collects the parcel as booked, on 27 November"),
    ],
)
def test_a_refund_before_the_goods_left_says_what_the_customer_still_does(
    composer: NoticeComposer, english_return: ReturnStory, situation: str, said: str
) -> None:
    pickup = english_return.notice(NoticeKind.RETURN_CANCELLED).pickup
    facts: dict[str, object] = {
        "address missing": {"return_address": None},
        "kept": {"keeps_goods": True},
        "collection booked": {"return_address": english_return.seller_address, "pickup": pickup},
    }[situation]  # type: ignore[assignment]
    request = english_return.notice(NoticeKind.REFUND_BEFORE_RETURN, **facts)

    text, page = bodies(composer.compose(request))

    assert said in text and said in page
    assert "We have requested your refund of" in text


@pytest.mark.parametrize("kind", [NoticeKind.RETURN_EXPIRED, NoticeKind.SELLER_RETURN_EXPIRED])
def test_a_return_that_expires_after_its_refund_was_requested_says_so(
    composer: NoticeComposer, stories: dict[str, ReturnStory], kind: NoticeKind
) -> None:
    """The refund's deadline came before the goods left: its refund was requested, and the
    return then expired. Neither the customer nor the seller is told there is no refund."""
    said = {
        (NoticeKind.RETURN_EXPIRED, "en"): "Your refund of €1,158.90",
        (NoticeKind.RETURN_EXPIRED, "fr"): "Votre remboursement de 393,90\u00a0€",
        (NoticeKind.SELLER_RETURN_EXPIRED, "en"): "The customer's refund of €1,158.90",
        (NoticeKind.SELLER_RETURN_EXPIRED, "fr"): "Le remboursement du client, 393,90\u00a0€",
    }
    for lang in ("en", "fr"):
        story = stories[lang]
        refunded = story.notice(kind, refund=story.refund, refund_due_by=REFUND_DUE_BY)
        message = composer.compose(refunded, seller=story.seller)
        plain = composer.compose(story.notice(kind), seller=story.seller)

        for part in bodies(message):
            assert said[kind, lang] in part
            assert "no refund" not in part and "aucun remboursement" not in part
            assert "pas de remboursement" not in part
        assert "no refund" in bodies(plain)[0] or "remboursement." in bodies(plain)[0]


def test_a_refund_requested_at_its_deadline_does_not_say_the_seller_has_the_parcel(
    composer: NoticeComposer, stories: dict[str, ReturnStory]
) -> None:
    """The refund's deadline came while the parcel was on its way: the seller has not got it."""
    on_its_way = {
        "en": "is on its way to the seller, and the legal time limit for your refund has come",
        "fr": "est en route vers le vendeur, et le délai légal de votre remboursement arrive à "
        "échéance",
    }
    for lang, said in on_its_way.items():
        story = stories[lang]
        accepted = story.scan(TrackingStatus.ACCEPTED)
        message = composer.compose(story.notice(NoticeKind.REFUND_REQUESTED, scan=accepted))

        for part in bodies(message):
            assert said in part
            assert "has received" not in part and "a bien reçu" not in part
        assert "reçu" not in str(message["Subject"]) and "has your parcel" not in str(
            message["Subject"]
        )


def test_the_acknowledgement_does_not_promise_the_refund_only_once_the_seller_has_the_parcel(
    composer: NoticeComposer, stories: dict[str, ReturnStory]
) -> None:
    # By default the refund is requested on the proof of dispatch, before the seller has it.
    follows = {"en": "Your refund follows, within", "fr": "Votre remboursement suit, dans"}
    for lang, said in follows.items():
        text, page = bodies(composer.compose(stories[lang].notice(NoticeKind.ACKNOWLEDGEMENT)))

        assert said in text and said in page
        assert "get it back" not in text and "à sa réception" not in text
