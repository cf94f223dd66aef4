"""A return's metrics, recorded as its run loop goes (`plumbing.metrics` names them).

After each step the loop looks at the return (`ReturnContext.look`); what changed is recorded
here, as it is published to the event feed: a return started, its proof of dispatch and refund
request (with the time since the withdrawal, and a refund requested after its legal due date),
each reason for attention raised, and how it ended. Recorded on the workflow's metric meter,
which is silent while a history is replayed: a worker that takes a return over does not count
its past again. Recording issues no command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.feed import NeedsAttention, PickedUp, RefundRequested, Started
    from domain.returns import AttentionReason, ReturnStage
    from plumbing import metrics
    from workflows.feed_changes import Change

if TYPE_CHECKING:
    from workflows.context import ReturnContext

S = ReturnStage
PROGRESS = {
    stage: rank
    for rank, stages in enumerate(
        (
            (S.CHECKING_ELIGIBILITY,),
            (S.AWAITING_REVIEW, S.AWAITING_RETURN_ADDRESS),
            (S.AWAITING_CUSTOMER_CHOICE,),
            (S.PREPARING_SHIPMENT,),
            (S.AWAITING_PICKUP, S.AWAITING_DROP_OFF, S.AWAITING_COUNTER_DROP_OFF),
            (S.PICKED_UP,),
            (S.DELIVERED,),
        )
    )
    for stage in stages
}
"""How far along a return a stage is; the ending stages (rejected, cancelled, expired, closed)
are not on the way."""


class ReturnMetrics:
    def __init__(self) -> None:
        self.reached = ReturnStage.CHECKING_ELIGIBILITY
        """The furthest stage the return has been in."""

    def record(self, ctx: ReturnContext, found: list[Change]) -> None:
        """Record `found`, what changed since the loop's last look."""
        state = ctx.state
        if PROGRESS.get(state.stage, -1) > PROGRESS[self.reached]:
            self.reached = state.stage
        if not found:
            return
        meter = workflow.metric_meter()
        now = ctx.now()
        for kind, fields in found:
            if kind is Started:
                metrics.count(metrics.RETURNS_STARTED, on=meter)
            elif kind is PickedUp:
                proved = state.dispatched_at or now
                metrics.observe(metrics.WITHDRAWAL_TO_DISPATCH, proved - state.notice_at, on=meter)
            elif kind is NeedsAttention:
                labels = {"reason": AttentionReason.label(fields["reason"])}
                metrics.count(metrics.ATTENTION_RAISED, labels, on=meter)
            elif kind is RefundRequested:
                metrics.observe(metrics.WITHDRAWAL_TO_REFUND, now - state.notice_at, on=meter)
                if now > state.refund_due_by:
                    metrics.count(metrics.DEADLINES_MISSED, {"deadline": "refund"}, on=meter)

    def ended(self, ctx: ReturnContext, found: list[Change]) -> None:
        """The return has ended: its last changes (`found`), and how it ended."""
        self.record(ctx, found)
        labels = {"outcome": ctx.state.stage.value, "reached": self.reached.value}
        metrics.count(metrics.RETURNS_ENDED, labels, on=workflow.metric_meter())
