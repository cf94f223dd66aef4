"""A carrier's problem scan (a missed pickup, a held parcel, a return to sender): the customer
is told what to do, operations are raised and emailed."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.notices import NoticeKind
    from domain.returns import AttentionReason
    from workflows.context import ReturnContext


async def tell(ctx: ReturnContext) -> None:
    """The carrier reported a problem: tell the customer what to do, and operations."""
    state = ctx.state
    scan = state.problem_scans.pop(0)
    reason = AttentionReason.CARRIER_EXCEPTION
    ctx.attention(reason, True)
    await ctx.notify_all(
        [
            state.notice(NoticeKind.SHIPMENT_PROBLEM, scan=scan, detail=scan.description),
            state.notice(NoticeKind.OPERATIONS_ATTENTION, attention=reason),
        ]
    )
