"""The Temporal activity that sends one notice of a return, at most once per Message-ID."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.carriers.classify import classified
from activities.notices.compose import NoticeComposer
from activities.notices.context import InvalidNoticeRequest, check_complete
from activities.notices.protocol import INVALID_NOTICE, LabelDocuments, Notifier
from domain.notices import NoticeKind, NoticeReceipt, NoticeRequest


class NoticeActivities:
    """Notice activities, holding the mail adapter, the composer and the label source."""

    def __init__(
        self, notifier: Notifier, composer: NoticeComposer, documents: LabelDocuments
    ) -> None:
        self._notifier = notifier
        self._composer = composer
        self._documents = documents

    @activity.defn
    async def send_notice(self, request: NoticeRequest) -> NoticeReceipt:
        """Compose and send one notice; a retry after a successful send sends nothing.

        SMTP has no idempotency key: a relay that accepted a message cannot be asked whether
        it did. So the moment the relay accepts, the Message-ID is recorded as this activity's
        heartbeat, which the next attempt sees in `heartbeat_details` and stops at. Only a
        crash between the relay's acceptance and the heartbeat can still send twice; both
        copies then carry the same deterministic Message-ID, which mail clients use to
        collapse duplicates.
        """
        message_id = self._composer.message_id(request)
        # Logs name the notice, never the customer. The key is the Message-ID without its
        # domain: the log redactor masks anything shaped like an email address.
        fields = {
            "return_id": request.return_id,
            "kind": str(request.kind),
            "message_key": self._composer.message_key(request),
        }
        if message_id in activity.info().heartbeat_details:
            activity.logger.info("notice already sent by an earlier attempt", extra=fields)
            return NoticeReceipt(message_id=message_id, sent=False)

        try:
            check_complete(request)
            label_pdf = None
            if request.kind is NoticeKind.RETURN_LABEL:
                assert request.label is not None  # check_complete made sure
                with classified(request.label.carrier):
                    label_pdf = await self._documents.label_pdf(request.label)
            message = self._composer.compose(request, label_pdf=label_pdf)
        except InvalidNoticeRequest as error:
            raise ApplicationError(
                f"Cannot send the notice: {error}",
                error.field,
                type=INVALID_NOTICE,
                non_retryable=True,
            ) from None

        await self._notifier.send(message)
        activity.heartbeat(message_id)
        activity.logger.info("notice sent", extra=fields)
        return NoticeReceipt(message_id=message_id, sent=True)
