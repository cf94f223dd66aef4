"""Which running returns hold a tracking number: a number the customer reports is accepted
only if no other running return holds it (proof of dispatch belongs to one return)."""

from __future__ import annotations

import re

from temporalio import activity
from temporalio.client import Client

from domain import search_attributes as sa

LETTERS_AND_DIGITS = re.compile(r"[A-Za-z0-9]{1,40}")

HOLDERS_AT_MOST = 5
"""A number held by more than one other return is one too many: listing a few says so."""


class ParcelActivities:
    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn
    async def running_holders(self, tracking_number: str) -> list[str]:
        """The IDs of the running returns whose `TrackingNumber` is `tracking_number`."""
        if not LETTERS_AND_DIGITS.fullmatch(tracking_number):
            # Only letters and digits reach a query: nothing can break out of its quotes.
            raise ValueError("tracking_number: letters and digits only")
        query = f'{sa.TRACKING_NUMBER.name} = "{tracking_number}" AND ExecutionStatus = "Running"'
        return [
            execution.id
            async for execution in self._client.list_workflows(query, limit=HOLDERS_AT_MOST)
        ]
