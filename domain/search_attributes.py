"""The custom search attributes of a return: what operations staff filter on in the Web UI.

None of them holds personal data.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

RETURN_STAGE = SearchAttributeKey.for_keyword("ReturnStage")
ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
SELLER_ID = SearchAttributeKey.for_keyword("SellerId")
CARRIER = SearchAttributeKey.for_keyword("Carrier")
SHIP_BY = SearchAttributeKey.for_datetime("ShipBy")
NEEDS_ATTENTION = SearchAttributeKey.for_bool("NeedsAttention")
TRACKING_NUMBER = SearchAttributeKey.for_keyword("TrackingNumber")
"""The parcel's number, as printed on it: how a carrier's webhook that does not echo our
reference finds its return, and how staff find the return a caller quotes."""

ATTENTION_REASONS = SearchAttributeKey.for_keyword_list("AttentionReasons")
"""Why a return needs operations (the reasons' codes, without their detail): what the worker
counts for the attention metrics, and how staff list the returns waiting on one reason."""

FEED_PARKED = SearchAttributeKey.for_bool("FeedParked")
"""Set on a return's event feed while a delivery waits for operations to replay it."""

ALL: tuple[SearchAttributeKey[Any], ...] = (
    RETURN_STAGE,
    ORDER_ID,
    SELLER_ID,
    CARRIER,
    SHIP_BY,
    NEEDS_ATTENTION,
    TRACKING_NUMBER,
    FEED_PARKED,
    ATTENTION_REASONS,
)
"""Every custom attribute, to register on a server (`--search-attribute Name=Type`)."""
