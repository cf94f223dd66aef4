"""Temporal activities that ask about sellers, and ask sellers in the seller chat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from activities.sellers.chat import FileSellerChat, SellerChat
from activities.sellers.directory import FileSellerDirectory, SellerDirectory, SellerDirectoryError
from activities.sellers.wording import chat_text
from domain.addresses import PostalAddress
from domain.notices import SellerChatMessage

if TYPE_CHECKING:
    from plumbing.settings import Settings


class SellerActivities:
    def __init__(self, directory: SellerDirectory, chat: SellerChat) -> None:
        self._directory = directory
        self._chat = chat

    @classmethod
    def from_settings(cls, settings: Settings) -> SellerActivities:
        """The sellers file of the settings, the seller chat under `seller_chat_path`."""
        return cls(
            FileSellerDirectory(settings.sellers_file), FileSellerChat(settings.seller_chat_path)
        )

    @activity.defn
    async def get_seller_return_address(self, seller_id: str) -> PostalAddress | None:
        """The seller's return address on file, or None when the seller has not given one.

        A broken sellers file is retried, not failed: the return waits while an operator
        fixes the file, and goes on by itself once it is readable.
        """
        try:
            return await self._directory.return_address(seller_id)
        except SellerDirectoryError as err:
            activity.logger.error("sellers file unreadable", extra={"reason": str(err)})
            raise

    @activity.defn
    async def message_seller(self, message: SellerChatMessage) -> bool:
        """Post an address request or reminder in the seller chat, in the seller's language
        (French when the directory has no contact for the seller). True if posted now, False
        if an earlier attempt had posted it already (same `message_id`)."""
        try:
            contact = await self._directory.contact(message.seller_id)
        except SellerDirectoryError as err:
            activity.logger.error("sellers file unreadable", extra={"reason": str(err)})
            raise
        posted = await self._chat.post(message, chat_text(message, contact))
        activity.logger.info(
            "seller chat message posted" if posted else "seller chat message already posted",
            extra={
                "return_id": message.return_id,
                "kind": message.kind,
                "message_id": message.message_id,
            },
        )
        return posted
