"""What a confirmed withdrawal does outside its workflow: start the returns, acknowledge."""

from __future__ import annotations

import hashlib

from temporalio import activity
from temporalio.client import Client

from activities.failures import invalid_notice
from activities.notices.context import InvalidNoticeRequest
from activities.notices.sent import (
    WITHDRAWAL_ACKNOWLEDGEMENT,
    SentNotices,
    sent_by_earlier_attempts,
)
from activities.notices.smtp import SmtpNotifier
from activities.withdrawals.acknowledgement import acknowledgement, acknowledgement_message_id
from client.start import Arrival, start_return
from customer_page.links import PageLinks
from domain.events import RetractEvent
from domain.withdrawals import (
    StartWithdrawnReturns,
    WithdrawalAcknowledgement,
    WithdrawnLine,
)
from plumbing.settings import Settings


class WithdrawalActivities:
    def __init__(
        self, client: Client, settings: Settings, notifier: SmtpNotifier, sent: SentNotices
    ) -> None:
        self._sent = sent
        self._client = client
        self._settings = settings
        self._notifier = notifier
        self._links = PageLinks(settings)

    @activity.defn
    async def start_withdrawn_returns(self, start: StartWithdrawnReturns) -> list[WithdrawnLine]:
        """Each confirmed line's return, started as a signed event would start it: its event
        ID is the withdrawal's and the line's (a retry starts nothing twice), its withdrawal
        notice the moment the customer confirmed."""
        request = start.offer.request
        started: list[WithdrawnLine] = []
        for line in request.lines:
            if line.line_id not in start.line_ids:
                continue
            event = RetractEvent(
                event_id=withdrawn_event_id(start.offer.withdrawal_id, line.line_id),
                type="order.retract_requested",
                # An order time a little ahead of ours (the skew the gateway allows) is not a
                # withdrawal before the order.
                occurred_at=max(start.submitted_at, line.ordered_at),
                order=line,
                customer=request.customer,
            )
            result = await start_return(self._client, self._settings, event)
            ended = result.arrival is Arrival.ENDED
            if ended:
                # The order service's own event started and ended the line's return meanwhile:
                # the line is still part of what the customer stated, and its page says how
                # its return ended.
                activity.logger.warning(
                    "a withdrawn line's return has ended", extra={"return_id": result.workflow_id}
                )
            started.append(
                WithdrawnLine(
                    line_id=line.line_id,
                    return_id=result.workflow_id,
                    started=result.arrival is Arrival.CREATED,
                    ended=ended,
                )
            )
        return started

    @activity.defn
    async def acknowledge_withdrawal(self, ack: WithdrawalAcknowledgement) -> None:
        """The acknowledgement email: the statement's content and when it was submitted. Sent
        once, as the returns' notices are: its Message-ID is looked up in the sent-notices
        ledger first and written there as soon as the relay accepts it."""
        receipt = ack.receipt
        pages = {line.line_id: self._links.return_page(line.return_id) for line in receipt.lines}
        try:
            message = acknowledgement(ack.offer, receipt, self._settings, pages)
        except InvalidNoticeRequest as error:
            raise invalid_notice("acknowledgement", error) from None
        message_id = acknowledgement_message_id(receipt, self._settings)
        fields = {"withdrawal_id": receipt.withdrawal_id}
        earlier = sent_by_earlier_attempts()
        if message_id in earlier or await self._sent.sent_at(message_id) is not None:
            activity.logger.info("acknowledgement already sent by an earlier attempt", extra=fields)
            return
        await self._notifier.send(message)
        # The next attempt finds it here if the ledger cannot be written now.
        activity.heartbeat(message_id)
        await self._sent.record_accepted(
            message_id, receipt.withdrawal_id, WITHDRAWAL_ACKNOWLEDGEMENT
        )
        activity.logger.info("acknowledgement sent", extra=fields)


def withdrawn_event_id(withdrawal_id: str, line_id: str) -> str:
    """The event ID a withdrawn line's return starts with: the same for every retry."""
    digest = hashlib.sha256(withdrawal_id.encode()).hexdigest()[:40]
    return f"w-{digest}-{line_id}"
