"""What a return tells the outside: its `status`, its summary and details in the Web UI.

None of it holds personal data: stages, times, IDs, reasons.
"""

from __future__ import annotations

import datetime as dt

from domain.inspection import Inspection
from domain.returns import ReturnStage, ReturnStatus
from workflows.return_state import ReturnState
from workflows.transitions import TABLE, Moment, Phase


def status(state: ReturnState) -> ReturnStatus:
    order = state.event.order
    return ReturnStatus(
        return_id=state.return_id,
        order_id=order.order_id,
        line_id=order.line_id,
        seller_id=order.seller_id,
        product_category=order.product.category,
        stage=state.stage,
        notice_at=state.notice_at,
        ship_by=state.ship_by,
        time_zone=state.calendar.time_zone if state.calendar else None,
        refund_due_by=state.refund_due_by,
        expires_at=state.expires_at if state.address_sent_at else None,
        refund=state.refund,
        refund_owed=state.refund_owed,
        inspection=_inspection(state),
        eligibility=state.decision,
        carriers_offered=state.offers,
        method=state.choice.method if state.choice else None,
        carrier=state.choice.carrier if state.choice else None,
        label=state.label,
        pickup=state.pickup,
        counter_code=state.counter_code,
        tracking_number=state.tracking_number,
        scans=state.scans,
        problem=state.problem,
        attention=state.attention,
        timeline=state.timeline,
    )


def _inspection(state: ReturnState) -> Inspection | None:
    if state.inspection_due_by is None:
        return None
    return Inspection(
        due_by=state.inspection_due_by,
        report=state.inspection_report,
        deduction_decision=state.deduction_decision,
        decided_by=state.deduction_decided_by,
        claim=state.claim,
    )


def summary(state: ReturnState) -> str:
    """The static summary shown in the Web UI's list."""
    order = state.event.order
    return (
        f"Return of order {order.order_id} line {order.line_id} "
        f"({order.product.category.value}), seller {order.seller_id}"
    )


def details(state: ReturnState, phase: Phase) -> str:
    """Markdown for the Web UI: what the return waits for, and until when."""
    rows = [f"**Stage:** `{state.stage.value}` — {TABLE[phase].waits_for}"]
    if phase in Moment:
        rows[0] += f" ({phase})"
    until = _until(state, phase)
    if until:
        rows.append(f"**Until when:** {until}")
    rows.append(f"**Ship by:** {_at(state.ship_by)}")
    rows.append(f"**Refund due by:** {_at(state.refund_due_by)}")
    if state.refund:
        rows.append(f"**Refund:** `{state.refund.refund_id}` requested")
    if state.choice:
        rows.append(f"**Method:** {state.choice.method.value} with `{state.choice.carrier}`")
    if state.pickup:
        rows.append(f"**Pickup:** {state.pickup.pickup_date.isoformat()} before 08:00 local time")
    if state.tracking_number:
        rows.append(f"**Tracking:** `{state.tracking_number}`")
    if state.problem:
        rows.append(f"**Problem:** {state.problem}")
    if state.reminders_sent and state.last_reminder_at:
        rows.append(
            f"**Last reminder:** {_at(state.last_reminder_at)} ({state.reminders_sent} sent)"
        )
    if state.attention:
        rows.append(f"**Needs attention:** {', '.join(state.attention)}")
    return "\n\n".join(rows)


def _until(state: ReturnState, phase: Phase) -> str | None:
    """Until when the phase waits, and what happens then."""
    expiry = f"the return expires {_at(state.expires_at)} if the parcel is not sent by then"
    match phase:
        case ReturnStage.REJECTED if state.rejection_review_ends:
            ends = state.rejection_review_ends
            return f"open for operations to override until {_at(ends)}, then it ends"
        case ReturnStage.AWAITING_REVIEW if state.review_reminder_at:
            return (
                "as long as it takes: operations accept the withdrawal or close the return; "
                f"they are reminded {_at(state.review_reminder_at)}"
            )
        case ReturnStage.AWAITING_RETURN_ADDRESS if state.seller_reminder_at:
            assert state.escalation_at is not None
            return (
                f"as long as it takes: the seller is reminded {_at(state.seller_reminder_at)}, "
                f"operations are called in {_at(state.escalation_at)}; no shipping deadline "
                "runs before the customer has the address"
            )
        case ReturnStage.AWAITING_CUSTOMER_CHOICE:
            return expiry
        case ReturnStage.AWAITING_PICKUP if state.pickup:
            day = state.pickup.pickup_date.isoformat()
            return f"pickup on {day} before 08:00{_polled_from(state)}; {expiry}"
        case ReturnStage.AWAITING_DROP_OFF | ReturnStage.AWAITING_COUNTER_DROP_OFF:
            reported = f"reported sent{_polled_from(state)}; " if state.reported_at else ""
            return reported + expiry
        case ReturnStage.PREPARING_SHIPMENT:
            return f"the carrier's answer, {_duration(state.timings.carrier_answer_within)} at most"
        case ReturnStage.PICKED_UP if state.refund_reason is None:
            return (
                f"the delivery to the seller, at the latest until {_at(state.refund_due_by)}: "
                "the refund is requested then"
            )
        case ReturnStage.PICKED_UP if state.delivery_overdue_at:
            return (
                f"the delivery to the seller; the parcel is taken as lost "
                f"{_at(state.delivery_overdue_at)} if no delivery scan comes"
            )
        case ReturnStage.DELIVERED if state.inspection_report is None and state.inspection_due_by:
            return (
                f"the seller's inspection report until {_at(state.inspection_due_by)}; "
                "silence means as sold"
            )
        case ReturnStage.DELIVERED if state.deduction_decision is None and state.following:
            return "operations approve or decline the seller's deduction"
        case ReturnStage.EXPIRED if state.late_watch_ends and not state.finished:
            return (
                f"a parcel sent late, until {_at(state.late_watch_ends)}: its dispatch brings "
                "the refund after all"
            )
        case Moment.ENDED_WITH_PROBLEMS:
            return "as long as it takes: operations retry the failed step or close the return"
    return None


def _polled_from(state: ReturnState) -> str:
    poll_at = state.poll_at()
    return f"; the carrier is polled from {_at(poll_at)} if no scan comes" if poll_at else ""


def _at(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def _duration(span: dt.timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"
