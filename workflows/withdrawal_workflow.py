"""`WithdrawalWorkflow`: one withdrawal link, from the order service's request to the customer's
confirmation and its acknowledgement (Art. 11a of Directive 2011/83/EU).

The workflow holds the order's facts while the link opens the withdrawal function; the customer
page reads them with the `view` query. "Confirm withdrawal" is the `confirm` update: its
validator refuses lines that cannot be withdrawn from, a link past its time and a second
confirmation; the run loop, the only writer, fixes the moment of submission, starts a return per
withdrawn line through the same path as a signed event, answers the update with the receipt,
then emails the acknowledgement. An acknowledgement refused for good (an address no mail can
go to) is recorded on the receipt, and the page tells the customer it is their record. A link
nobody confirms ends when it stops opening the page.
"""

from __future__ import annotations

import contextlib

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.withdrawals.activities import WithdrawalActivities
    from domain.withdrawals import (
        StartWithdrawnReturns,
        WithdrawalAcknowledgement,
        WithdrawalConfirmation,
        WithdrawalOffer,
        WithdrawalReceipt,
        WithdrawalView,
        still_open,
    )
    from workflows import policies


ACKNOWLEDGEMENT_REFUSED_RECORDED = "withdrawal-acknowledgement-refused-recorded"
"""The change that records an acknowledgement refused for good on the receipt, where the
withdrawal's run used to fail."""


@workflow.defn
class WithdrawalWorkflow:
    @workflow.init
    def __init__(self, offer: WithdrawalOffer) -> None:
        self._offer = offer
        self._confirmation: WithdrawalConfirmation | None = None
        self._receipt: WithdrawalReceipt | None = None
        self._closed = False

    @workflow.run
    async def run(self, offer: WithdrawalOffer) -> WithdrawalReceipt | None:
        open_for = offer.open_until - workflow.now()
        if open_for.total_seconds() > 0:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._confirmation is not None,
                    timeout=open_for,
                    timeout_summary="the withdrawal link stops opening the page",
                )
        if self._confirmation is None:
            self._closed = True
            return None
        submitted_at = workflow.now()
        chosen = self._confirmation.line_ids
        lines = await workflow.execute_activity_method(
            WithdrawalActivities.start_withdrawn_returns,
            StartWithdrawnReturns(offer=offer, line_ids=chosen, submitted_at=submitted_at),
            **policies.WITHDRAWN_RETURNS.options(),
        )
        self._receipt = WithdrawalReceipt(
            withdrawal_id=offer.withdrawal_id,
            order_id=offer.request.order_id,
            submitted_at=submitted_at,
            lines=lines,
        )
        try:
            await workflow.execute_activity_method(
                WithdrawalActivities.acknowledge_withdrawal,
                WithdrawalAcknowledgement(offer=offer, receipt=self._receipt),
                **policies.NOTICE.options(),
            )
        except ActivityError as error:
            # A refusal for good (the address, or the message): the returns are started, and
            # the page the customer confirmed on becomes their record. Anything else (the
            # withdrawal cancelled while the relay was down) goes on as it is.
            refused = error.cause
            if not (isinstance(refused, ApplicationError) and refused.non_retryable):
                raise
            if not workflow.patched(ACKNOWLEDGEMENT_REFUSED_RECORDED):
                raise
            reason = refused.message
            workflow.logger.warning(
                "withdrawal acknowledgement refused for good",
                extra={"withdrawal_id": offer.withdrawal_id, "reason": reason},
            )
            self._receipt = self._receipt.model_copy(update={"acknowledgement_refused": reason})
        else:
            self._receipt = self._receipt.model_copy(update={"acknowledged": True})
        # An update still being answered finishes before the run does.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._receipt

    @workflow.update
    async def confirm(self, confirmation: WithdrawalConfirmation) -> WithdrawalReceipt:
        """The customer confirms the withdrawal: answered with the receipt once their returns
        are started (the acknowledgement email follows)."""
        self._confirmation = confirmation
        await workflow.wait_condition(lambda: self._receipt is not None)
        assert self._receipt is not None
        return self._receipt

    @confirm.validator
    def _may_confirm(self, confirmation: WithdrawalConfirmation) -> None:
        if self._confirmation is not None:
            raise ApplicationError("the withdrawal was submitted already", non_retryable=True)
        if self._closed or not still_open(self._offer, workflow.now()):
            raise ApplicationError("the withdrawal link has expired", non_retryable=True)
        allowed = self._offer.withdrawable(workflow.now())
        refused = sorted(set(confirmation.line_ids) - allowed)
        if refused:
            raise ApplicationError(
                f"line_ids: {', '.join(refused)} cannot be withdrawn from here",
                non_retryable=True,
            )

    @workflow.query
    def view(self) -> WithdrawalView:
        return WithdrawalView(
            offer=self._offer,
            receipt=self._receipt,
            submitting=self._confirmation is not None,
            closed=self._closed,
        )
