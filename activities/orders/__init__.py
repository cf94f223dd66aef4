"""The order service: eligibility of a withdrawal, a return's clocks, refund requests."""

from activities.orders.activities import (
    OrderActivities,
    policy_from_settings,
    timings_from_settings,
)
from activities.orders.service import (
    REFUND_CONFLICT,
    FileOrderService,
    OrderService,
    RefundRecord,
    refund_id_for,
)

__all__ = [
    "REFUND_CONFLICT",
    "FileOrderService",
    "OrderActivities",
    "OrderService",
    "RefundRecord",
    "policy_from_settings",
    "refund_id_for",
    "timings_from_settings",
]
