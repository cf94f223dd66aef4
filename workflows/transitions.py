"""The return as a state machine: for each phase, the messages it accepts, where each leads,
and the clocks that run. The one table both the update validators and the run loop read.

A *phase* is the return's stage, or one of two moments a stage does not show: an expiry under
way (the last look at the carrier before a return expires) and an ended return waiting for
operations to settle a problem left. Messages are the updates people send and the signals
machines send; clocks are the timers the run loop sets in that phase. An update a phase does not
accept is refused with the phase's reason; a signal is always recorded, and the table says what
it moves.

Pure data and functions, no Temporal: the docs' table is generated from `TABLE`
(`markdown_table`), and the tests check the loop never moves a return where the table does not
say it may.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from domain.returns import FINAL_STAGES, ReturnStage


class Moment(StrEnum):
    """The phases that are not stages."""

    EXPIRING = "expiring"
    """The deadline passed: the carrier is asked a last time, then the return expires (or, if
    the carrier has the parcel after all, goes on as dispatched)."""
    ENDED_WITH_PROBLEMS = "ended_with_problems"
    """The return has reached its end with a reason for attention left: it stays open until
    operations retry the failed step or close it as handled."""


Phase = ReturnStage | Moment


class Message(StrEnum):
    """What reaches a return from outside."""

    CHOOSE = "choose_return_method"
    GIVE_ADDRESS = "provide_return_address"
    """`provide_return_address`, or `resolve_attention` `give_address`."""
    REPORT_SHIPMENT = "report_shipment"
    REPORT_INSPECTION = "report_inspection"
    CANCEL = "cancel"
    RETRY = "resolve_attention:retry"
    OVERRIDE = "resolve_attention:override_eligibility"
    CLOSE = "resolve_attention:close"
    REFUND_WITHOUT_RETURN = "resolve_attention:refund_without_return"
    APPROVE_DEDUCTION = "resolve_attention:approve_deduction"
    DECLINE_DEDUCTION = "resolve_attention:decline_deduction"
    SCANS = "carrier_scans"
    """Signal: the carrier's scans (a fact, always recorded; the table says what it moves)."""
    REMIND = "remind_to_ship"
    """Signal: the reminder sweep asks for a shipping reminder (sent, or skipped and recorded)."""


class Clock(StrEnum):
    """The timers the run loop sets."""

    REVIEW_ENDS = "review period ends"
    REVIEW_REMINDER = "operations reminded (every review period)"
    SELLER_REMINDER = "seller reminder"
    ESCALATION = "escalation to operations"
    POLLING = "carrier polled (no scan yet)"
    EXPIRY = "shipping deadline + grace"
    REFUND_DEADLINE = "refund deadline"
    REFUND_DECISION = (
        "operations asked to decide (RETURNFLOW_REFUND_DECISION_BEFORE the refund deadline)"
    )
    DELIVERY_OVERDUE = "the parcel taken as lost (RETURNFLOW_DELIVERY_OVERDUE)"
    INSPECTION_ENDS = "the inspection period ends (silence: as sold)"
    LATE_PARCEL_WATCH = "the watch for a late parcel ends"


@dataclass(frozen=True)
class Rule:
    """What one message does in one phase."""

    leads_to: tuple[Phase, ...]
    """The phases it may move the return to (the phase itself when it stays)."""
    when: str = ""
    """The further condition, or what it does, in words (for the docs)."""
    deferred: bool = False
    """Accepted now, acted on once the carrier call in flight has settled."""


@dataclass(frozen=True)
class PhaseRules:
    waits_for: str
    accepts: dict[Message, Rule] = field(default_factory=dict)
    clocks: dict[Clock, tuple[Phase, ...]] = field(default_factory=dict)
    """Each timer of the phase, and where its firing may lead."""
    moves_on: tuple[Phase, ...] = ()
    """Where the return goes by itself, without a message or a clock (the loop's own steps)."""
    refusal: str = ""
    """Why a message the phase does not accept is refused: the default sentence."""


S = ReturnStage
AWAITING_SHIPMENT = (S.AWAITING_PICKUP, S.AWAITING_DROP_OFF, S.AWAITING_COUNTER_DROP_OFF)
DISPATCHED = (S.PICKED_UP, S.DELIVERED)

_RETRY = Rule((), "a failed step to run again: a notice, the refund, the seller's request")
_SCANS_DISPATCH = Rule(DISPATCHED, "a scan proving the carrier has the parcel")
_REMIND = Rule((), "a shipping reminder, at most one a day")
_STOP_FOLLOWING = Rule(
    (), "once the refund is requested: handled outside returnflow, the return completes"
)


def _unshipped(*, parcel: bool) -> dict[Message, Rule]:
    """What a return whose parcel the carrier does not have yet accepts (`parcel`: a parcel
    has been chosen, whose scans the return follows)."""
    scans = {Message.SCANS: _SCANS_DISPATCH} if parcel else {}
    return {
        Message.CHOOSE: Rule(
            (S.PREPARING_SHIPMENT,), "before the expiry instant, within the change cap"
        ),
        Message.CANCEL: Rule((S.CANCELLED,)),
        Message.CLOSE: Rule((S.CLOSED,)),
        Message.RETRY: Rule(
            (S.PREPARING_SHIPMENT,),
            "a notice, or the customer's last refused choice (prepared again)",
        ),
        **scans,
        Message.REMIND: _REMIND,
    }


TABLE: dict[Phase, PhaseRules] = {
    S.CHECKING_ELIGIBILITY: PhaseRules(
        waits_for="its intake (one local activity)",
        moves_on=(
            S.CANCELLED_BEFORE_SHIPMENT,
            S.REJECTED,
            S.AWAITING_REVIEW,
            S.AWAITING_RETURN_ADDRESS,
            S.AWAITING_CUSTOMER_CHOICE,
        ),
        refusal="the withdrawal is being checked: try again in a moment",
    ),
    S.REJECTED: PhaseRules(
        waits_for="operations, during the review period",
        accepts={
            Message.OVERRIDE: Rule(
                (S.AWAITING_RETURN_ADDRESS, S.AWAITING_CUSTOMER_CHOICE), "not overridden yet"
            ),
            Message.CLOSE: Rule((S.CLOSED,)),
            Message.RETRY: Rule((), "the rejection email, if it was refused"),
        },
        clocks={Clock.REVIEW_ENDS: (S.REJECTED,)},
        moves_on=(Moment.ENDED_WITH_PROBLEMS,),
        refusal="the withdrawal was not accepted as a return",
    ),
    S.AWAITING_REVIEW: PhaseRules(
        waits_for="operations: the order's status is unknown here, nobody has decided yet",
        accepts={
            Message.OVERRIDE: Rule(
                (S.AWAITING_RETURN_ADDRESS, S.AWAITING_CUSTOMER_CHOICE), "accepted as a return"
            ),
            Message.CLOSE: Rule((S.CLOSED,)),
            Message.RETRY: Rule((), "an email, if it was refused"),
        },
        clocks={Clock.REVIEW_REMINDER: ()},
        refusal="the withdrawal awaits operations' review",
    ),
    S.AWAITING_RETURN_ADDRESS: PhaseRules(
        waits_for="the seller's return address",
        accepts={
            Message.GIVE_ADDRESS: Rule(
                (S.AWAITING_CUSTOMER_CHOICE,),
                "the first address given (the seller's, a fallback)",
            ),
            Message.REFUND_WITHOUT_RETURN: Rule(
                (S.CLOSED,), "the refund requested, the customer keeps the goods"
            ),
            Message.CANCEL: Rule((S.CANCELLED,)),
            Message.CLOSE: Rule((S.CLOSED,)),
            Message.RETRY: Rule((), "a notice, or the request in the seller chat"),
        },
        clocks={
            Clock.SELLER_REMINDER: (),
            Clock.ESCALATION: (),
            Clock.REFUND_DECISION: (),
            Clock.REFUND_DEADLINE: (S.AWAITING_RETURN_ADDRESS,),
        },
        refusal="the return is waiting for the seller's return address",
    ),
    S.AWAITING_CUSTOMER_CHOICE: PhaseRules(
        waits_for="the customer's choice",
        accepts=_unshipped(parcel=False),
        clocks={Clock.EXPIRY: (Moment.EXPIRING,)},
        refusal="the return is waiting for the customer's choice",
    ),
    S.PREPARING_SHIPMENT: PhaseRules(
        waits_for="the carrier: label, pickup, counter code (bounded in time)",
        accepts={
            Message.CANCEL: Rule((S.CANCELLED,), deferred=True),
            Message.CLOSE: Rule((S.CLOSED,), deferred=True),
            Message.SCANS: Rule((), "recorded; a proof of dispatch wins once the call settles"),
            Message.REMIND: Rule((), "skipped: the label or code is on its way"),
        },
        moves_on=(
            *AWAITING_SHIPMENT,
            S.AWAITING_CUSTOMER_CHOICE,
            *DISPATCHED,
            Moment.EXPIRING,
        ),
        refusal="the carrier is preparing the shipment: wait for its answer",
    ),
    **{
        stage: PhaseRules(
            waits_for=waits_for,
            accepts={
                **_unshipped(parcel=True),
                **(
                    {
                        Message.REPORT_SHIPMENT: Rule(
                            DISPATCHED,
                            "the parcel's number (held scans taken); the same again: refused",
                        )
                    }
                    if stage is not S.AWAITING_PICKUP
                    else {}
                ),
            },
            clocks={Clock.POLLING: (), Clock.EXPIRY: (Moment.EXPIRING,)},
            refusal="the parcel has not been sent yet",
        )
        for stage, waits_for in (
            (S.AWAITING_PICKUP, "the carrier's round on the pickup day"),
            (S.AWAITING_DROP_OFF, "the customer at a post office"),
            (S.AWAITING_COUNTER_DROP_OFF, "the customer at the counter"),
        )
    },
    Moment.EXPIRING: PhaseRules(
        waits_for="the carrier's last answer before the return expires",
        accepts={Message.SCANS: Rule(DISPATCHED, "a proof of dispatch beats the expiry")},
        moves_on=(S.EXPIRED, *DISPATCHED),
        refusal="the shipping deadline has passed: the return is expiring",
    ),
    S.PICKED_UP: PhaseRules(
        waits_for="the parcel's delivery to the seller (the refund requested at once, or on "
        "delivery and at the latest by the refund deadline)",
        accepts={
            Message.RETRY: _RETRY,
            Message.SCANS: Rule(
                (S.DELIVERED, Moment.ENDED_WITH_PROBLEMS),
                "the delivery scan; a return to the customer: operations and the customer told",
            ),
            Message.REPORT_INSPECTION: Rule(
                (S.DELIVERED, Moment.ENDED_WITH_PROBLEMS),
                "the seller has the parcel though no delivery scan came",
            ),
            Message.CLOSE: _STOP_FOLLOWING,
        },
        clocks={
            Clock.REFUND_DEADLINE: (S.PICKED_UP,),
            Clock.DELIVERY_OVERDUE: (Moment.ENDED_WITH_PROBLEMS,),
        },
        moves_on=(Moment.ENDED_WITH_PROBLEMS,),
        refusal="the carrier has the parcel: it is on its way to the seller",
    ),
    S.DELIVERED: PhaseRules(
        waits_for="the seller's inspection report, within the inspection period; then, for a "
        "deduction, operations' approval",
        accepts={
            Message.RETRY: _RETRY,
            Message.REPORT_INSPECTION: Rule(
                (S.DELIVERED, Moment.ENDED_WITH_PROBLEMS),
                "once: as sold completes; a deduction waits for operations; a dispute is theirs",
            ),
            Message.APPROVE_DEDUCTION: Rule(
                (S.DELIVERED,), "the customer told, the deduction claimed from the refund"
            ),
            Message.DECLINE_DEDUCTION: Rule((S.DELIVERED,), "the refund stands whole"),
            Message.CLOSE: _STOP_FOLLOWING,
        },
        clocks={Clock.INSPECTION_ENDS: (S.DELIVERED,)},
        moves_on=(Moment.ENDED_WITH_PROBLEMS,),
        refusal="the parcel is back with the seller",
    ),
    **{
        stage: PhaseRules(
            waits_for="nothing: it completes",
            moves_on=(Moment.ENDED_WITH_PROBLEMS,),
            refusal=refusal,
        )
        for stage, refusal in (
            (S.CANCELLED_BEFORE_SHIPMENT, "the order was cancelled before it shipped"),
            (S.CANCELLED, "the customer cancelled the return"),
            (S.CLOSED, "operations closed the return"),
        )
    },
    S.EXPIRED: PhaseRules(
        waits_for="a parcel sent late, for RETURNFLOW_LATE_PARCEL_WATCH when it has a tracking "
        "number; else nothing: it completes",
        accepts={
            Message.SCANS: Rule(
                DISPATCHED, "while listening, a late dispatch: refunded after all, operations told"
            )
        },
        clocks={Clock.LATE_PARCEL_WATCH: (S.EXPIRED,)},
        moves_on=(Moment.ENDED_WITH_PROBLEMS,),
        refusal="the return has expired",
    ),
    Moment.ENDED_WITH_PROBLEMS: PhaseRules(
        waits_for="operations: a problem is left",
        accepts={
            Message.RETRY: _RETRY,
            Message.CLOSE: Rule((), "as handled outside returnflow: the return completes"),
        },
        # Once no problem is left the return completes in the stage it ended in.
        moves_on=tuple(sorted(FINAL_STAGES)),
        refusal="the return has ended: operations may retry the failed step or close it",
    ),
}


def rule(phase: Phase, message: Message) -> Rule | None:
    """What `message` does in `phase`; None when the phase refuses it."""
    return TABLE[phase].accepts.get(message)


MESSAGE_REFUSALS: dict[Message, str] = {
    Message.OVERRIDE: (
        "action: only a rejected return in its review period, or one awaiting review, can be "
        "accepted"
    ),
    Message.GIVE_ADDRESS: "the return is not waiting for an address",
    Message.REPORT_INSPECTION: "the return is not waiting for an inspection report",
    Message.REFUND_WITHOUT_RETURN: "action: only a return waiting for the seller's address",
    Message.APPROVE_DEDUCTION: "action: no deduction awaits approval",
    Message.DECLINE_DEDUCTION: "action: no deduction awaits approval",
}
"""The reason for messages that only one phase takes, whichever phase refuses them."""


def refusal(phase: Phase, message: Message) -> str | None:
    """Why `message` is refused in `phase`, naming the phase; None when it is accepted."""
    if message in TABLE[phase].accepts:
        return None
    why = MESSAGE_REFUSALS.get(message, TABLE[phase].refusal)
    return f"{why} (stage: {phase})"


def successors(phase: Phase) -> frozenset[Phase]:
    """Every phase the return may go to from `phase`, by a message, a clock or by itself."""
    rules = TABLE[phase]
    targets: set[Phase] = set(rules.moves_on)
    for accepted in rules.accepts.values():
        targets.update(accepted.leads_to)
    for leads_to in rules.clocks.values():
        targets.update(leads_to)
    targets.discard(phase)
    return frozenset(targets)


def markdown_table() -> str:
    """The table for the docs: one row per phase."""
    rows = [
        "| phase | waits for | accepts (→ where it leads) | clocks | moves on by itself to |",
        "| --- | --- | --- | --- | --- |",
    ]
    for phase, rules in TABLE.items():
        accepted = "; ".join(_describe(m, r) for m, r in rules.accepts.items()) or "nothing"
        clocks = "; ".join(
            f"{clock}" + (f" → {_names(to)}" if to else "") for clock, to in rules.clocks.items()
        )
        rows.append(
            f"| `{phase}` | {rules.waits_for} | {accepted} | {clocks or '—'} "
            f"| {_names(rules.moves_on) or '—'} |"
        )
    return "\n".join(rows)


def _describe(message: Message, accepted: Rule) -> str:
    text = f"`{message}`"
    if accepted.leads_to:
        text += f" → {_names(accepted.leads_to)}"
    notes = [
        n for n in (accepted.when, "after the call in flight" if accepted.deferred else "") if n
    ]
    if notes:
        text += f" ({', '.join(notes)})"
    return text


def _names(phases: tuple[Phase, ...]) -> str:
    return ", ".join(f"`{p}`" for p in phases)
