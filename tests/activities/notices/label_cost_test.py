"""What a return label costs the customer: shown with each way of sending before they choose,
then withheld, visibly, from the refund (Directive 2011/83/EU Art. 6(1)(i), 13(1), 14(1))."""

from __future__ import annotations

from decimal import Decimal

import pytest

from activities.notices import NoticeComposer
from domain.base import Money
from domain.carriers import CarrierCapability, CarrierOffer, LabelCostBearer
from domain.money import refund_breakdown
from domain.notices import NoticeKind

from .compose_test import bodies
from .stories import COLISSIMO, SANDBOX_POST, ReturnStory

LABEL = Money(amount=Decimal("6.25"), currency="EUR")

COUNTER_ONLY = CarrierOffer(
    code="counter",
    name="Counter Post",
    capabilities=frozenset({CarrierCapability.COUNTER_LABEL}),
    label_price=Money(amount=Decimal("3.10"), currency="EUR"),
)


def test_the_address_email_shows_each_labels_price_and_that_it_comes_off_the_refund(
    composer: NoticeComposer, french_return: ReturnStory
) -> None:
    request = french_return.notice(
        NoticeKind.RETURN_ADDRESS,
        carriers=[SANDBOX_POST.model_copy(update={"label_price": LABEL}), COLISSIMO],
    )

    for part in bodies(composer.compose(request)):
        # Sandbox Post: mailbox pickup, drop-off, and the counter with its code: each a label.
        assert part.count("Étiquette : 6,25\u00a0€, déduits de votre remboursement.") == 3
        # Colissimo quoted nothing: nothing is shown, so nothing is withheld.
        assert part.count("Étiquette : gratuite.") == 2
        assert "Le retour est à vos frais." in part


def test_a_seller_who_pays_for_labels_is_said_to_and_no_price_is_shown(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    request = english_return.notice(
        NoticeKind.RETURN_ADDRESS,
        carriers=[SANDBOX_POST.model_copy(update={"label_price": LABEL}), COUNTER_ONLY],
        label_paid_by=LabelCostBearer.SELLER,
    )

    for part in bodies(composer.compose(request)):
        assert part.count("Label: paid by the seller.") == 3
        assert "€6.25" not in part and "3.10" not in part, "a counter without code buys none"
        assert "The seller pays for the labels offered below" in part


@pytest.mark.parametrize(
    ("story", "sentence"),
    [
        (
            "french_return",
            "387,65\u00a0€ : 393,90\u00a0€ (389,00\u00a0€ pour l'appareil et 4,90\u00a0€ pour "
            "sa livraison), moins 6,25\u00a0€ pour l'étiquette de retour",
        ),
        (
            "english_return",
            "€1,152.65: €1,158.90 (€1,149.00 for the device and €9.90 for its delivery), less "
            "€6.25 for the return label",
        ),
    ],
)
def test_the_refund_email_shows_the_label_withheld_in_both_languages(
    composer: NoticeComposer, story: str, sentence: str, request: pytest.FixtureRequest
) -> None:
    told: ReturnStory = request.getfixturevalue(story)
    owed = refund_breakdown(told.order, LABEL)
    refund = told.refund.model_copy(update={"amount": owed.total})
    notice = told.notice(NoticeKind.REFUND_REQUESTED, refund=refund, label_withheld=LABEL)

    text, page = bodies(composer.compose(notice))

    assert sentence in text
    assert sentence in page


def test_labels_nobody_priced_and_labels_offered_after_the_refund_are_free(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    unpriced = english_return.notice(NoticeKind.RETURN_ADDRESS, carriers=[SANDBOX_POST])
    after_refund = english_return.notice(
        NoticeKind.RETURN_ADDRESS,
        carriers=[SANDBOX_POST.model_copy(update={"label_price": LABEL})],
        refund=english_return.refund,
    )

    for request in (unpriced, after_refund):
        for part in bodies(composer.compose(request)):
            assert part.count("Label: free of charge.") == 3
            assert "€6.25" not in part and "deducted" not in part
            assert "The labels offered below are free of charge" in part


@pytest.mark.parametrize(
    ("story", "paid_by", "said", "not_said"),
    [
        ("en", LabelCostBearer.CUSTOMER, "The return is at your own expense", "The seller pays"),
        ("en", LabelCostBearer.SELLER, "The seller pays for the return labels", "own expense:"),
        (
            "fr",
            LabelCostBearer.SELLER,
            "Le vendeur paie les étiquettes de retour",
            "à votre charge",
        ),
    ],
)
def test_the_acknowledgement_says_who_pays_for_sending_as_the_policy_does(
    composer: NoticeComposer,
    stories: dict[str, ReturnStory],
    story: str,
    paid_by: LabelCostBearer,
    said: str,
    not_said: str,
) -> None:
    """Before any label is offered, the acknowledgement must not tell a customer whose seller
    pays for labels that the return is at their expense (the address email then says it is not)."""
    request = stories[story].notice(NoticeKind.ACKNOWLEDGEMENT, label_paid_by=paid_by)

    for part in bodies(composer.compose(request)):
        assert said in part.replace("&#39;", "'")
        assert not_said not in part.replace("&#39;", "'")
