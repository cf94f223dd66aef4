"""Who may return what: the return window, measured at the withdrawal notice."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from domain.base import DomainModel
from domain.events import OrderStatus, RetractEvent
from domain.returns import EligibilityDecision, RejectionReason

LEGAL_MINIMUM = dt.timedelta(days=14)
"""Directive 2011/83/EU Art. 9: 14 days from delivery, whatever the marketplace offers."""


class EligibilityPolicy(DomainModel):
    """The marketplace's return window: a commercial extension of the legal 14 days."""

    window_days: int = Field(default=30, ge=14, le=365, description="Days after the order date.")

    def window_ends_at(self, event: RetractEvent) -> dt.datetime:
        """The last moment a withdrawal is in time: never before 14 days after delivery.

        Goods not delivered yet can always be withdrawn from (the legal period has not even
        started); the window then runs at least 14 days past the notice.
        """
        order = event.order
        end = order.ordered_at + dt.timedelta(days=self.window_days)
        if order.delivered_at is not None:
            return max(end, order.delivered_at + LEGAL_MINIMUM)
        return max(end, event.occurred_at + LEGAL_MINIMUM)

    def evaluate(self, event: RetractEvent) -> EligibilityDecision:
        """Judge the withdrawal at the time it was given, not at the time it is processed."""
        ends = self.window_ends_at(event)
        status = event.order.status
        if status is OrderStatus.CANCELLED:
            return _rejected(
                RejectionReason.ORDER_CANCELLED,
                "This order was cancelled, so there is nothing to send back.",
                ends,
            )
        if status is OrderStatus.AWAITING_SHIPMENT:
            return _rejected(
                RejectionReason.ORDER_NOT_SHIPPED,
                "This order has not shipped yet, so there is no parcel to send back.",
                ends,
            )
        if event.occurred_at > ends:
            return _rejected(
                RejectionReason.OUTSIDE_RETURN_WINDOW,
                f"The return window closed on {ends:%d %B %Y}, before your request.",
                ends,
            )
        return EligibilityDecision(
            accepted=True,
            explanation=f"Your request arrived within the return window (until {ends:%d %B %Y}).",
            window_ends_at=ends,
        )


def _rejected(reason: RejectionReason, sentence: str, ends: dt.datetime) -> EligibilityDecision:
    return EligibilityDecision(
        accepted=False, reason=reason, explanation=sentence, window_ends_at=ends
    )
