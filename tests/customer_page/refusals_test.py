"""Every refusal a customer's action can meet is said in the customer's words, in English and
in French: the transition table's, the validators' and the run loop's."""

from __future__ import annotations

import datetime as dt

import pytest

from customer_page.refusals import GENERAL, customer_words, rule_for
from domain.calendar import pickup_date_problem
from domain.carriers import tracking_number_problem
from workflows.transitions import TABLE, Message, refusal

CUSTOMER_MESSAGES = (Message.CHOOSE, Message.REPORT_SHIPMENT, Message.CANCEL)

TABLE_REFUSALS = sorted(
    {
        why
        for phase in TABLE
        for message in CUSTOMER_MESSAGES
        if (why := refusal(phase, message)) is not None
    }
)

NOW = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)  # a Wednesday
SHIP_BY = dt.datetime(2026, 12, 16, 23, tzinfo=dt.UTC)

PICKUP_DAYS = [dt.date(2026, 12, d) for d in (2, 6, 25, 28)]
"""Today, a Sunday, Christmas Day, after the deadline."""

VALIDATOR_AND_LOOP_REFUSALS = [
    "the return has ended (stage: cancelled)",
    "the return is being ended by an earlier request (stage: awaiting_pickup)",
    "the shipping deadline has passed (stage: awaiting_drop_off)",
    "the shipping deadline passed while the carrier prepared the shipment",
    "the carrier already has the parcel sent with the previous choice",
    "method: this is already the chosen way of sending the parcel",
    "method: your refund was requested less the price of the label you have: send the parcel "
    "with that label (a pickup or a drop-off with sandbox)",
    "carrier: unknown carrier 'dhl' (offered: sandbox, colissimo)",
    "method: sandbox does not offer post_office_counter (it offers: mailbox_pickup)",
    *(
        problem
        for day in PICKUP_DAYS
        if (problem := pickup_date_problem(day, NOW, SHIP_BY)) is not None
    ),
    "the return is not waiting for a parcel (stage: awaiting_customer_choice)",
    "tracking_number: this return's parcel is 6A12345678901",
    f"tracking_number: {tracking_number_problem('colissimo', 'NOTANUMBER1')}",
    "tracking_number: 6A12345678901 is another running return's parcel",
    "tracking_number: 6A12345678901 is reported already: nothing to change",
    "tracking_number: sandbox shows the parcel SB12345678 going elsewhere than the seller's "
    "return address",
    "the refund is requested already: the goods are to be sent back (customer service can "
    "help) (stage: picked_up)",
    "the way of sending the parcel was changed 3 times already: customer service will contact "
    "you to change it",
    "sandbox is not answering just now: try again in a few minutes",
    "sandbox refused: pickup date not available",
    "sandbox cannot take returns just now: try again later or choose another",
    "the shipment could not be prepared: operations will look into it",
]


def test_every_kind_of_pickup_day_problem_is_in_the_list() -> None:
    assert len([r for r in VALIDATOR_AND_LOOP_REFUSALS if r.startswith("pickup_date")]) == 4


@pytest.mark.parametrize("why", TABLE_REFUSALS + VALIDATOR_AND_LOOP_REFUSALS)
def test_each_refusal_has_customer_words_in_both_languages(why: str) -> None:
    rule = rule_for(why)

    assert rule is not None, f"no customer wording for: {why}"
    assert customer_words(why, "en") == rule.en
    assert customer_words(why, "fr") == rule.fr
    assert rule.en != rule.fr


def test_a_refusal_nobody_foresaw_is_still_shown_with_its_reason() -> None:
    words = customer_words("a reason this version has never given", "fr")

    assert words == GENERAL["fr"].format(reason="a reason this version has never given")


def test_a_change_refused_for_a_withheld_label_says_why_not_pick_another_way() -> None:
    why = (
        "method: your refund was requested less the price of the label you have: send the "
        "parcel with that label"
    )

    assert customer_words(why, "fr") == (
        "Votre remboursement a été demandé déduction faite du prix de votre étiquette : envoyez "
        "le colis avec cette étiquette."
    )
