"""A return's status as staff read it in a terminal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from client.status_view import render_status
from domain.base import Money
from domain.inspection import InspectionOutcome, InspectionReport
from domain.returns import EligibilityDecision, Refund, RejectionReason, ReturnStage
from tests.factories import retract_event
from workflows import return_view
from workflows.return_state import ReturnState

NOTICE = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def test_the_status_shows_the_return_its_clocks_and_timeline() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE, order_id="ORD-42", line_id="3"))
    state.record(NOTICE, "system", "accepted as a return")

    shown = render_status(return_view.status(state), "http://ui/return-ORD-42-3").splitlines()

    assert shown[0] == "return-ORD-42-3    stage: checking_eligibility"
    assert "  withdrawn   2026-12-01 09:30 UTC" in shown
    assert "  ship by     2026-12-15 09:30 UTC" in shown
    assert "  web ui      http://ui/return-ORD-42-3" in shown
    assert shown[-1] == "    2026-12-01 09:30 UTC  system           accepted as a return"


def test_what_people_wrote_reaches_the_terminal_escaped() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE, order_id="ORD-42", line_id="3"))
    state.record(NOTICE, "operations:agent-42", "close: customer said \x1b[2J\u202eok\nbye")

    shown = render_status(return_view.status(state), "http://ui/return-ORD-42-3")

    assert "\x1b" not in shown and "\u202e" not in shown
    assert shown.splitlines()[-1].endswith("close: customer said \\x1b[2J\\u202eok\\x0abye")


def test_the_status_shows_the_refund_and_what_the_seller_found() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE, order_id="ORD-42", line_id="3"))
    state.refund = Refund(
        refund_id="RF-1",
        requested_at=NOTICE,
        amount=Money(amount=Decimal("429.00"), currency="EUR"),
        created=True,
    )
    state.inspection_due_by = NOTICE + dt.timedelta(days=7)
    waiting = render_status(return_view.status(state), "http://ui/r").splitlines()
    state.inspection_report = InspectionReport(
        outcome=InspectionOutcome.DAMAGED,
        reported_by="seller",
        deduction=Money(amount=Decimal("60.00"), currency="EUR"),
        reason="Scratched screen",
    )
    state.deduction_decision, state.deduction_decided_by = "approved", "operations:agent-42"
    decided = render_status(return_view.status(state), "http://ui/r").splitlines()

    assert "  refund      RF-1: 429.00 EUR" in waiting
    assert "  inspection  report due by 2026-12-08 09:30 UTC (silence: as sold)" in waiting
    assert "  inspection  damaged, deduction 60.00 EUR (seller)" in decided
    assert "  deduction   approved by operations:agent-42" in decided


def test_a_return_awaiting_review_is_not_shown_rejected() -> None:
    """An order status this build does not know: nothing is decided, operations review it."""
    state = ReturnState(retract_event(notice_at=NOTICE, order_id="ORD-42", line_id="3"))
    state.decision = EligibilityDecision(
        accepted=False,
        reason=RejectionReason.UNKNOWN_ORDER_STATUS,
        explanation="We could not check this order automatically.",
        window_ends_at=NOTICE + dt.timedelta(days=30),
    )

    state.stage = ReturnStage.AWAITING_REVIEW
    waiting = render_status(return_view.status(state), "http://ui/return-ORD-42-3")
    state.stage = ReturnStage.CLOSED  # operations closed it
    closed = render_status(return_view.status(state), "http://ui/return-ORD-42-3")

    assert "rejected" not in waiting and "rejected" not in closed
    assert (
        "  review      unknown_order_status: nothing decided, for operations to review" in waiting
    )
    assert "  review      unknown_order_status: never decided here" in closed
