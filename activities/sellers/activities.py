"""Temporal activities that ask about sellers, and ask sellers in the seller chat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.sellers.chat import FileSellerChat, SellerChat
from activities.sellers.directory import FileSellerDirectory, SellerDirectory, SellerDirectoryError
from activities.sellers.http import HttpSellerChat, HttpSellerDirectory
from activities.sellers.wording import chat_text
from domain.addresses import PostalAddress
from domain.failures import FailureType
from domain.notices import SellerChatMessage

if TYPE_CHECKING:
    from plumbing.settings import Settings


class SellerActivities:
    def __init__(self, directory: SellerDirectory, chat: SellerChat) -> None:
        self.directory = directory
        self._chat = chat

    @classmethod
    def from_settings(cls, settings: Settings) -> SellerActivities:
        """The marketplace's seller service when `seller_service_url` is set; else the sellers
        file and the chat outbox under `seller_chat_path`."""
        if settings.seller_service_url is None:
            return cls(
                FileSellerDirectory(settings.sellers_file),
                FileSellerChat(settings.seller_chat_path),
            )
        if settings.marketplace_token is None:
            raise ValueError(
                "RETURNFLOW_SELLER_SERVICE_URL is set: set RETURNFLOW_MARKETPLACE_TOKEN too"
            )
        token = settings.marketplace_token.get_secret_value()
        return cls(
            HttpSellerDirectory(
                settings.seller_service_url,
                token,
                cache_seconds=settings.seller_cache_seconds,
                # The lookup is a local activity of 10 s: each phase gets less than half.
                timeout_seconds=min(settings.marketplace_timeout_seconds, 4.0),
                ca_file=settings.marketplace_ca_file,
            ),
            HttpSellerChat(
                settings.seller_service_url,
                token,
                timeout_seconds=settings.marketplace_timeout_seconds,
                ca_file=settings.marketplace_ca_file,
            ),
        )

    async def aclose(self) -> None:
        for adapter in (self.directory, self._chat):
            if isinstance(adapter, HttpSellerDirectory | HttpSellerChat):
                await adapter.aclose()

    @activity.defn
    async def get_seller_return_address(self, seller_id: str) -> PostalAddress | None:
        """The seller's return address on file, or None when the seller has not given one.

        A broken sellers file is retried, not failed: the return waits while an operator
        fixes the file, and goes on by itself once it is readable.
        """
        try:
            return await self.directory.return_address(seller_id)
        except SellerDirectoryError as err:
            activity.logger.error("sellers file unreadable", extra={"reason": str(err)})
            raise
        except ApplicationError as err:
            _log_refusal(err)
            raise

    @activity.defn
    async def message_seller(self, message: SellerChatMessage) -> bool:
        """Post an address request or reminder in the seller chat, in the seller's language
        (French when the directory has no contact for the seller). True if posted now, False
        if an earlier attempt had posted it already (same `message_id`)."""
        try:
            # The seller's record, email or not: its language and name are the message's.
            record = await self.directory.record(message.seller_id)
        except SellerDirectoryError as err:
            activity.logger.error("sellers file unreadable", extra={"reason": str(err)})
            raise
        except ApplicationError as err:
            _log_refusal(err)
            if err.type != FailureType.SELLER_SERVICE_REJECTED:
                raise
            # The record only chooses the language and the greeting: a directory refusing
            # the lookup (a token it no longer takes) does not hold the request back.
            record = None
        locale, name = (record.locale, record.display_name) if record else (None, None)
        posted = await self._chat.post(message, chat_text(message, locale, name))
        activity.logger.info(
            "seller chat message posted" if posted else "seller chat message already posted",
            extra={
                "return_id": message.return_id,
                "kind": message.kind,
                "message_id": message.message_id,
            },
        )
        return posted


def _log_refusal(err: ApplicationError) -> None:
    """A seller directory refusing us is the configuration's problem: every return waits on it."""
    if err.type == FailureType.SELLER_SERVICE_REJECTED:
        activity.logger.error("seller directory refused the lookup", extra={"reason": err.message})
