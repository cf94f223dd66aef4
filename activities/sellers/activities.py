"""Temporal activities that ask about sellers."""

from __future__ import annotations

from temporalio import activity

from activities.sellers.directory import SellerDirectory, SellerDirectoryError
from domain.addresses import PostalAddress


class SellerActivities:
    def __init__(self, directory: SellerDirectory) -> None:
        self._directory = directory

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
