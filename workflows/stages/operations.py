"""Operations' `retry`: run the failed step again, the first that applies."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.notices import SellerChatKind
    from domain.returns import AttentionReason, ReturnStage
    from workflows import admission
    from workflows.context import Intent, ReturnContext
    from workflows.stages import address, choice, inspection, refund

REFUND_FAILED = AttentionReason.REFUND_REQUEST_FAILED
CLAIM_FAILED = AttentionReason.CLAIM_FAILED


async def retry(ctx: ReturnContext, intent: Intent) -> None:
    """The refund or the claim of a deduction, then the notices the relay refused (same
    Message-IDs), then the seller's request, then the customer's last refused choice."""
    state = ctx.state
    if REFUND_FAILED in state.attention and state.refund_reason is not None:
        await refund.request(ctx, state.refund_reason)
        if REFUND_FAILED in state.attention:
            ctx.refuse(intent, state.problem or "the refund was refused again", "RetryFailed")
            return
    elif CLAIM_FAILED in state.attention:
        await inspection.claim(ctx)
        if CLAIM_FAILED in state.attention:
            ctx.refuse(intent, state.problem or "the claim was refused again", "RetryFailed")
            return
    elif state.failed_notices:
        # A notice of the refund made while the refund was refused had no refund to tell:
        # it tells the one requested since (the same notice, the same Message-ID).
        failed = [
            n.model_copy(update={"refund": state.refund, "label_withheld": state.label_withheld})
            if n.refund is None and state.refund is not None
            else n
            for n in state.failed_notices
        ]
        state.failed_notices = []
        for notice in failed:
            ctx.attention(AttentionReason.NOTICE_UNDELIVERABLE.about(notice.kind), False)
        await ctx.notify_all(failed)
        if state.failed_notices:
            ctx.refuse(intent, state.problem or "still not delivered", "RetryFailed")
            return
    elif state.stage is ReturnStage.AWAITING_RETURN_ADDRESS:
        await address.ask_seller(ctx, SellerChatKind.ADDRESS_REQUEST, None)
    else:
        refused = state.refused_choice
        assert refused is not None
        why = admission.choice_problem(
            state, refused, ctx.now()
        ) or admission.withheld_label_refusal(ctx, refused, queued=False)
        if why:
            ctx.refuse(intent, f"the refused choice cannot be made now: {why}", "RetryFailed")
            return
        await choice.choose(ctx, intent, refused)
        return
    ctx.answer(intent)
