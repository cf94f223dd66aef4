"""The transition table as the validators and the loop read it: what a phase takes, the
sentence a refused message gets, and where a return may go next."""

from __future__ import annotations

from domain.returns import ReturnStage
from workflows.transitions import Message, Moment, Rule, _describe, refusal, rule, successors

S = ReturnStage


def test_a_phase_takes_only_the_messages_its_row_lists() -> None:
    cancel = rule(S.AWAITING_PICKUP, Message.CANCEL)

    assert cancel is not None and cancel.leads_to == (S.CANCELLED,)
    assert rule(S.AWAITING_PICKUP, Message.REPORT_SHIPMENT) is None
    assert rule(S.CANCELLED, Message.RETRY) is None


def test_a_refused_message_gets_the_phases_sentence_and_its_name() -> None:
    assert refusal(S.AWAITING_PICKUP, Message.CANCEL) is None
    assert refusal(S.AWAITING_PICKUP, Message.REPORT_SHIPMENT) == (
        "the parcel has not been sent yet (stage: awaiting_pickup)"
    )
    assert refusal(Moment.EXPIRING, Message.CHOOSE) == (
        "the shipping deadline has passed: the return is expiring (stage: expiring)"
    )


def test_a_message_only_one_phase_takes_gets_its_own_sentence_everywhere_else() -> None:
    assert refusal(S.AWAITING_PICKUP, Message.OVERRIDE) == (
        "action: only a rejected return in its review period, or one awaiting review, can be "
        "accepted (stage: awaiting_pickup)"
    )
    assert refusal(S.DELIVERED, Message.GIVE_ADDRESS) == (
        "the return is not waiting for an address (stage: delivered)"
    )


def test_where_a_return_may_go_by_message_clock_or_itself_never_to_where_it_is() -> None:
    assert successors(S.AWAITING_CUSTOMER_CHOICE) == {
        S.PREPARING_SHIPMENT,
        S.CANCELLED,
        S.CLOSED,
        Moment.EXPIRING,
    }
    assert successors(S.REJECTED) == {
        S.AWAITING_RETURN_ADDRESS,
        S.AWAITING_CUSTOMER_CHOICE,
        S.CLOSED,
        Moment.ENDED_WITH_PROBLEMS,
    }
    assert successors(Moment.EXPIRING) == {S.EXPIRED, S.PICKED_UP, S.DELIVERED}
    assert successors(S.AWAITING_RETURN_ADDRESS) == {
        S.AWAITING_CUSTOMER_CHOICE,
        S.CANCELLED,
        S.CLOSED,
    }


def test_the_docs_describe_a_rule_with_where_it_leads_and_its_conditions() -> None:
    assert _describe(Message.CANCEL, Rule(())) == "`cancel`"
    assert _describe(Message.CANCEL, Rule((S.CANCELLED,), deferred=True)) == (
        "`cancel` → `cancelled` (after the call in flight)"
    )
    assert _describe(Message.CHOOSE, Rule((S.PREPARING_SHIPMENT,), "in time", True)) == (
        "`choose_return_method` → `preparing_shipment` (in time, after the call in flight)"
    )
