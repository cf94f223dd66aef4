"""The Temporal activities that send the notices of a return, at most once per Message-ID."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.carriers.classify import classified
from activities.failures import invalid_notice, notices_undelivered
from activities.notices.compose import NoticeComposer
from activities.notices.context import InvalidNoticeRequest, check_complete
from activities.notices.protocol import (
    LabelDocuments,
    Notifier,
    PostOfficeFinder,
)
from activities.notices.sent import SentNotices, sent_by_earlier_attempts
from activities.sellers.directory import SellerDirectory, SellerDirectoryError
from domain.carriers import CarrierCapability, PostOffice, PostOfficeQuery
from domain.notices import (
    Audience,
    NoticeBatch,
    NoticeKind,
    NoticeReceipt,
    NoticeRequest,
    SellerContact,
)
from plumbing import metrics

LOCATOR_TIMEOUT_SECONDS = 10.0
"""How long a notice waits for the nearest post offices before it goes without them."""

_LISTS_POST_OFFICES = frozenset({NoticeKind.RETURN_ADDRESS, NoticeKind.COUNTER_INSTRUCTIONS})


class NoticeActivities:
    """Notice activities, holding the mail adapter, the composer, the label source, the seller
    directory (sellers' contacts), the post-office finder and the sent-notices ledger."""

    def __init__(
        self,
        notifier: Notifier,
        composer: NoticeComposer,
        documents: LabelDocuments,
        sellers: SellerDirectory,
        post_offices: PostOfficeFinder,
        sent: SentNotices,
    ) -> None:
        self._notifier = notifier
        self._composer = composer
        self._documents = documents
        self._sellers = sellers
        self._post_offices = post_offices
        self._sent = sent

    @activity.defn
    async def send_notice(self, request: NoticeRequest) -> NoticeReceipt:
        """Compose and send one notice; a retry after a successful send sends nothing.

        SMTP has no idempotency key: a relay that accepted a message cannot be asked whether
        it did. So the moment the relay accepts, the Message-ID is written to the sent-notices
        ledger (`activities.notices.sent`, in the store every worker shares) and this
        activity's heartbeat; any later attempt, on any worker, finds it there and stops. Only
        a crash between the relay's acceptance and the ledger's write can still send twice;
        both copies then carry the same deterministic Message-ID, which mail clients use to
        collapse duplicates.
        """
        return await self._send(request, sent_by_earlier_attempts())

    @activity.defn
    async def send_notices(self, batch: NoticeBatch) -> list[NoticeReceipt]:
        """Send the notices of one moment of a return, in order, each at most once.

        The guard of `send_notice`, for several: after each acceptance by the relay the ledger
        has its Message-ID and the heartbeat every one sent so far, so a retry sends only the
        others.
        A notice that cannot be sent for good (its recipient refused, a fact missing) does not
        hold back the others: once every other one is sent, the activity fails for good as
        `NoticesUndelivered`, whose detail names the kinds not delivered and the first reason.
        """
        sent = sent_by_earlier_attempts()
        receipts: list[NoticeReceipt] = []
        undelivered: list[tuple[NoticeKind, ApplicationError]] = []
        for request in batch.notices:
            try:
                receipts.append(await self._send(request, sent))
            except ApplicationError as error:
                if not error.non_retryable:
                    raise  # retried: the notices sent so far are in the heartbeat
                undelivered.append((request.kind, error))
        if undelivered:
            raise notices_undelivered(undelivered)
        return receipts

    async def _send(self, request: NoticeRequest, sent: list[str]) -> NoticeReceipt:
        """Send `request` unless its Message-ID is in `sent`; once sent, add it and heartbeat
        the whole list. Counted by kind and outcome (`returnflow_emails_total`)."""
        outcome = "failed"
        try:
            receipt = await self._send_once(request, sent)
            outcome = "sent" if receipt.sent else "already_sent"
            return receipt
        except ApplicationError as error:
            if error.non_retryable:
                outcome = "undeliverable"
            raise
        finally:
            metrics.count(metrics.EMAILS, {"kind": str(request.kind), "outcome": outcome})

    async def _send_once(self, request: NoticeRequest, sent: list[str]) -> NoticeReceipt:
        message_id = self._composer.message_id(request)
        # Logs name the notice, never its reader. The key is the Message-ID without its
        # domain: the log redactor masks anything shaped like an email address.
        fields = {
            "return_id": request.return_id,
            "kind": str(request.kind),
            "message_key": self._composer.message_key(request),
        }
        if message_id in sent or await self._sent.sent_at(message_id) is not None:
            activity.logger.info("notice already sent by an earlier attempt", extra=fields)
            return NoticeReceipt(message_id=message_id, sent=False)

        try:
            check_complete(request)
            seller = await self._seller_contact(request)
            label_pdf = None
            if request.kind is NoticeKind.RETURN_LABEL:
                assert request.label is not None  # check_complete made sure
                with classified(request.label.carrier):
                    label_pdf = await self._documents.label_pdf(request.label)
            offices = await self._nearest_post_offices(request, fields)
            message = self._composer.compose(
                request,
                seller=seller,
                label_pdf=label_pdf,
                post_offices=offices,
                namespace=activity.info().namespace,
            )
        except InvalidNoticeRequest as error:
            raise invalid_notice("notice", error) from None

        await self._notifier.send(message)
        sent.append(message_id)
        activity.heartbeat(*sent)
        await self._sent.record_accepted(message_id, request.return_id, request.kind)
        activity.logger.info("notice sent", extra=fields)
        return NoticeReceipt(message_id=message_id, sent=True)

    async def _seller_contact(self, request: NoticeRequest) -> SellerContact | None:
        """The seller's contact for a seller notice; a broken sellers file is retried."""
        if request.kind.audience is not Audience.SELLER:
            return None
        seller_id = request.order.seller_id
        try:
            contact = await self._sellers.contact(seller_id)
        except SellerDirectoryError as err:
            activity.logger.error("sellers file unreadable", extra={"reason": str(err)})
            raise
        if contact is None:
            raise InvalidNoticeRequest("seller.email", f"is not on file for seller {seller_id}")
        return contact

    async def _nearest_post_offices(
        self, request: NoticeRequest, fields: dict[str, Any]
    ) -> list[PostOffice]:
        """The locator carrier's counters nearest the customer; none when there is no such
        carrier or it does not answer in time (the notice then says where to find one)."""
        code = request.locator_carrier
        if request.kind not in _LISTS_POST_OFFICES or code is None:
            return []
        offer = next((o for o in request.carriers if o.code == code), None)
        if offer is not None and CarrierCapability.POST_OFFICE_LOCATOR not in offer.capabilities:
            return []
        query = PostOfficeQuery(carrier=code, near=request.customer.address)
        try:
            async with asyncio.timeout(LOCATOR_TIMEOUT_SECONDS):
                return await self._post_offices.find_post_offices(query)
        except Exception as error:  # any failure: the email goes without the list
            activity.logger.warning(
                "nearest post offices not found: the notice says where to look instead",
                extra={**fields, "carrier": code, "error": type(error).__name__},
            )
            return []
