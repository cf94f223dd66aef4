"""Whether a return takes a person's message now, and why not: read by the update validators,
and again by the run loop when it comes to the message (the return may have moved meanwhile).

A refusal that blames a field of the request starts with the field's name (`carrier: ...`); one
that depends on where the return stands names the stage.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.calendar import country_time_zone, pickup_date_problem
from domain.carriers import tracking_number_problem
from domain.inspection import InspectionReport
from domain.returns import (
    AttentionAction,
    AttentionReason,
    AttentionResolution,
    ReturnMethodChoice,
    ReturnStage,
    ShipmentReport,
)
from workflows.context import ReturnContext
from workflows.return_state import CHOICE_PROBLEMS, METHOD_NEEDS_LABEL, ReturnState
from workflows.transitions import (
    AWAITING_SHIPMENT,
    DISPATCHED,
    Message,
    Moment,
    Phase,
    refusal,
    rule,
)

ACTION_MESSAGES = {
    AttentionAction.RETRY: Message.RETRY,
    AttentionAction.GIVE_ADDRESS: Message.GIVE_ADDRESS,
    AttentionAction.OVERRIDE_ELIGIBILITY: Message.OVERRIDE,
    AttentionAction.CLOSE: Message.CLOSE,
    AttentionAction.REFUND_WITHOUT_RETURN: Message.REFUND_WITHOUT_RETURN,
    AttentionAction.APPROVE_DEDUCTION: Message.APPROVE_DEDUCTION,
    AttentionAction.DECLINE_DEDUCTION: Message.DECLINE_DEDUCTION,
}
"""The message each operations action is, in the transition table."""


SHIPPING = frozenset(
    {
        ReturnStage.AWAITING_CUSTOMER_CHOICE,
        ReturnStage.PREPARING_SHIPMENT,
        *AWAITING_SHIPMENT,
    }
)
"""Phases the shipping deadline runs in, and a proof of dispatch ends."""

WINDING_DOWN = frozenset({ReturnStage.CANCELLED, ReturnStage.CLOSED})
"""Stages a return is in, not finished yet, while what was booked is undone at the carrier."""

OVERTAKEN = frozenset({Message.CHOOSE, Message.REPORT_SHIPMENT, Message.CANCEL, Message.CLOSE})
"""Messages a recorded proof of dispatch, or the expiry instant, overtakes before the loop has
acted on it: refused at once, as they would be in the loop's next turn."""


WITHHELD_LABEL_KEPT_IN_TURN = "withheld-label-kept-in-turn"
"""Patch: a change of way that would void the label whose price the refund withheld is refused
in its turn as by the validator; before, one the validator took before the refund was asked
went through, and the customer paid for a label voided."""


def problem(ctx: ReturnContext, message: Message, argument: Any, *, queued: bool) -> str | None:
    """Why the return does not take `message` now; None when it does. `queued`: the update is
    being validated (others may be waiting before it), not acted on by the loop."""
    phase = ctx.phase
    state = ctx.state
    if state.finished and phase is not Moment.ENDED_WITH_PROBLEMS:
        return f"the return has ended (stage: {state.stage})"
    if message is Message.CLOSE and phase in WINDING_DOWN:
        return (
            "the return is ending: what was booked is being undone; if a problem is left "
            f"once it has ended, send close again to settle it (stage: {phase})"
        )
    refused = refusal(phase, message)
    if refused:
        return refused
    if queued and ctx.ending_queued():
        return f"the return is being ended by an earlier request (stage: {phase})"
    now = ctx.now()
    if phase in SHIPPING and message in OVERTAKEN:
        if state.dispatch_scan is not None:
            picked_up = ReturnStage.PICKED_UP
            return refusal(picked_up, message) or changed_meaning(phase, message, picked_up)
        if now >= state.expires_at:
            return f"the shipping deadline has passed (stage: {phase})"
    match message:
        case Message.CHOOSE:
            if queued and (exhausted := changes_exhausted(state)):
                return exhausted
            if voided := withheld_label_refusal(ctx, argument, queued=queued):
                return voided
            return choice_problem(state, argument, now)
        case Message.GIVE_ADDRESS:
            if state.return_address is not None:
                return f"the return is not waiting for an address (stage: {state.stage})"
        case Message.REPORT_SHIPMENT:
            if queued and (again := reported_already(state, argument)):
                return again
            return report_problem(state, argument)
        case Message.REPORT_INSPECTION:
            return inspection_problem(state, argument)
        case Message.APPROVE_DEDUCTION | Message.DECLINE_DEDUCTION:
            if AttentionReason.DEDUCTION_TO_APPROVE not in state.attention:
                return f"action: no deduction awaits approval (stage: {state.stage})"
        case Message.CANCEL if state.refund_reason is not None:
            return (
                "the refund is requested already: the goods are to be sent back (customer "
                f"service can help) (stage: {phase})"
            )
        case Message.CLOSE if phase in DISPATCHED and state.refund_reason is None:
            return f"action: the refund is not requested yet (stage: {phase})"
        case Message.RETRY:
            if not retryable(state, phase):
                needs = ", ".join(state.attention) or "nothing"
                return f"action: nothing to retry (needs attention: {needs})"
        case Message.OVERRIDE:
            if state.decision is not None and state.decision.overridden_by:
                return "action: the rejection was already overridden"
            ends = state.rejection_review_ends
            awaiting_review = phase is ReturnStage.AWAITING_REVIEW
            if ends is not None and now >= ends and not awaiting_review:
                return "action: the review period is over: the return ends rejected"
    return None


def changed_meaning(intent_phase: Phase | None, message: Message, phase: Phase) -> str | None:
    """Why a message accepted in one phase cannot be acted on in the phase the return is in
    now: a `close` sent to end a live return must not settle the problems of an ended one, nor
    stop following a parcel that has left meanwhile."""
    if message is not Message.CLOSE or intent_phase is None:
        return None
    if _close_means(intent_phase) == _close_means(phase):
        return None
    if phase is Moment.ENDED_WITH_PROBLEMS:
        return (
            f"the return ended meanwhile (stage: {phase}): send close again to settle the "
            "problems left"
        )
    return (
        f"the carrier took the parcel meanwhile (stage: {phase}): send close again to stop "
        "following it"
    )


def _close_means(phase: Phase) -> str:
    if phase is Moment.ENDED_WITH_PROBLEMS:
        return "settle"
    return "stop following" if phase in DISPATCHED else "end"


def resolution_message(resolution: AttentionResolution) -> Message:
    return ACTION_MESSAGES[resolution.action]


def choice_problem(state: ReturnState, choice: ReturnMethodChoice, now: dt.datetime) -> str | None:
    if now >= state.expires_at:
        return f"the shipping deadline has passed (stage: {state.stage})"
    if choice == state.choice:
        return "method: this is already the chosen way of sending the parcel"
    offer = state.offer(choice.carrier)
    if offer is None:
        known = ", ".join(o.code for o in state.offers)
        return f"carrier: unknown carrier {choice.carrier!r} (offered: {known})"
    if choice.method not in offer.methods():
        methods = ", ".join(offer.methods())
        return f"method: {offer.code} does not offer {choice.method} (it offers: {methods})"
    if choice.pickup_date is not None:
        mailbox = choice.pickup_address or state.event.customer.address
        zone = country_time_zone(mailbox.country_code)
        return pickup_date_problem(choice.pickup_date, now, state.ship_by, zone)
    return None


def withheld_label_refusal(
    ctx: ReturnContext, choice: ReturnMethodChoice, *, queued: bool
) -> str | None:
    """`voids_withheld_label`'s refusal: the validator's, and in the loop's turn too (the
    refund, less the label, may have been asked since the validator took the choice, or
    since a refused one waits for operations' retry). The patch is asked only when it
    refuses, so that no other history records it."""
    voided = voids_withheld_label(ctx.state, choice)
    if voided and (queued or ctx.patched(WITHHELD_LABEL_KEPT_IN_TURN)):
        return voided
    return None


def voids_withheld_label(state: ReturnState, choice: ReturnMethodChoice) -> str | None:
    """A choice that would void the label whose price the refund withheld (and have the
    customer pay again): refused before it is written to the history. One that reuses it (a
    pickup or a drop-off with its carrier) is taken."""
    asked = state.refund_asked
    if asked is None or asked.label is None:
        return None
    label = state.label
    if (
        label is not None
        and choice.method in METHOD_NEEDS_LABEL
        and choice.carrier == label.carrier
    ):
        return None
    with_it = f" (a pickup or a drop-off with {label.carrier})" if label is not None else ""
    return (
        "method: your refund was requested less the price of the label you have: send the "
        f"parcel with that label{with_it}"
    )


def changes_exhausted(state: ReturnState) -> str | None:
    """A customer's change of mind past the cap, once operations have been told: refused before
    it is written to the history, so that asking again and again costs the return nothing. (The
    first one past the cap reaches the loop, which tells operations.)"""
    if at_change_cap(state) and AttentionReason.CHOICE_CHANGES_EXHAUSTED in state.attention:
        return changes_exhausted_words(state.timings.max_choice_changes)
    return None


def at_change_cap(state: ReturnState) -> bool:
    """A customer's new choice would be a change of mind past the cap (operations' are not
    counted)."""
    return state.choice is not None and state.choice_changes >= state.timings.max_choice_changes


def changes_exhausted_words(limit: int) -> str:
    return (
        f"the way of sending the parcel was changed {limit} times already: "
        "customer service will contact you to change it"
    )


def reported_already(state: ReturnState, report: ShipmentReport) -> str | None:
    """The same number reported again: nothing would change, so it is refused before it is
    written to the history (each report taken is a few events: repeated, they would fill it)."""
    number = report.tracking_number.upper()
    if state.reported_at is not None and number in (
        state.tracking_number,
        state.reported_tracking_number,
    ):
        return f"tracking_number: {number} is reported already: nothing to change"
    return None


def report_problem(state: ReturnState, report: ShipmentReport) -> str | None:
    if state.choice is None:
        return f"the return is not waiting for a parcel (stage: {state.stage})"
    number = report.tracking_number.upper()
    known = state.tracking_number
    if known is not None and number != known:
        return f"tracking_number: this return's parcel is {known}"
    problem = tracking_number_problem(state.choice.carrier, number)
    return f"tracking_number: {problem}" if problem else None


def inspection_problem(state: ReturnState, report: InspectionReport) -> str | None:
    """A report is taken once, from a return that follows its parcel, and a deduction is at
    most what the customer is refunded, in the same currency."""
    if not state.following:
        return f"the return is not waiting for an inspection report (stage: {state.stage})"
    if state.inspection_report is not None:
        return f"the inspection was already reported ({state.inspection_report.outcome})"
    if report.deduction is not None:
        owed = state.refund_owed
        if report.deduction.currency != owed.currency:
            return f"deduction.currency: the refund is in {owed.currency}"
        if report.deduction.amount > owed.amount:
            return f"deduction.amount: at most the refund, {owed.amount} {owed.currency}"
    return None


def retryable(state: ReturnState, phase: Phase) -> bool:
    """Whether operations have a failed step to run again in `phase`: a notice, the refund;
    the seller's request while the address is awaited; the customer's refused choice while the
    return takes a choice."""
    codes = {AttentionReason.of(code) for code in state.attention}
    if state.failed_notices or AttentionReason.REFUND_REQUEST_FAILED in codes:
        return True
    if AttentionReason.CLAIM_FAILED in codes:
        return True
    if phase is ReturnStage.AWAITING_RETURN_ADDRESS:
        return AttentionReason.SELLER_ADDRESS_MISSING in codes
    if rule(phase, Message.CHOOSE) is None or state.refused_choice is None:
        return False
    return any(r in codes for r in CHOICE_PROBLEMS)
