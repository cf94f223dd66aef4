"""Who may return what: the return window, measured at the withdrawal notice.

Windows are counted in the customer's days (`domain.periods`): from the day after the delivery
or order, to the end of the last day, moved past a weekend or public holiday. A notice given on
the last day is in time (Art. 11(2): the consumer need only send it before the period ends)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field

from domain.base import DomainModel
from domain.events import OrderStatus, RetractEvent
from domain.periods import LegalCalendar, calendar_for, period_end
from domain.returns import EligibilityDecision, RejectionReason

LEGAL_MINIMUM_DAYS = 14
"""Directive 2011/83/EU Art. 9: 14 days from delivery, whatever the marketplace offers."""


class WindowStart(StrEnum):
    """What the marketplace's return window counts from."""

    ORDER_DATE = "order_date"
    DELIVERY_DATE = "delivery_date"


class EligibilityPolicy(DomainModel):
    """The marketplace's return window: a commercial extension of the legal 14 days."""

    window_days: int = Field(
        default=30, ge=14, le=365, description="Length of the window, in days."
    )
    window_starts: WindowStart = Field(
        default=WindowStart.ORDER_DATE, description="What the window counts from."
    )

    def window_ends_at(self, event: RetractEvent) -> dt.datetime:
        """The last moment a withdrawal is in time: never before the end of the 14 days after
        delivery, counted in the customer's days.

        Goods not delivered yet, or whose contract's other goods are still to come, can always
        be withdrawn from (the legal period has not even started); the window then runs at
        least 14 days past the notice.
        """
        order = event.order
        calendar = return_calendar(event)
        # Goods of one contract delivered separately: the period runs from the last of them
        # (Art. 9(2)(b)(i)), and has not begun while some are still to come.
        delivered = order.legal_delivery() or event.occurred_at
        start = order.ordered_at
        if self.window_starts is WindowStart.DELIVERY_DATE:
            start = delivered
        end = period_end(start, self.window_days, calendar)
        return max(end, period_end(delivered, LEGAL_MINIMUM_DAYS, calendar))

    def evaluate(self, event: RetractEvent) -> EligibilityDecision:
        """Judge the withdrawal at the time it was given, not at the time it is processed."""
        ends = self.window_ends_at(event)
        order = event.order
        status = order.status
        if not isinstance(status, OrderStatus):
            return _rejected(
                RejectionReason.UNKNOWN_ORDER_STATUS,
                "We could not check this order automatically; our customer service will "
                "contact you about your request.",
                ends,
            )
        if status is OrderStatus.CANCELLED:
            return _rejected(
                RejectionReason.ORDER_CANCELLED,
                "This order was cancelled, so there is nothing to send back.",
                ends,
            )
        if status is OrderStatus.RETURN_IN_PROGRESS:
            return _rejected(
                RejectionReason.ALREADY_BEING_RETURNED,
                "A return of this item is already under way.",
                ends,
            )
        if status is OrderStatus.RETURNED:
            return _rejected(
                RejectionReason.ALREADY_RETURNED,
                "This item has already been returned.",
                ends,
            )
        if status is OrderStatus.AWAITING_SHIPMENT:
            return EligibilityDecision(
                accepted=True,
                cancellation=True,
                explanation="Your order has not shipped yet: we cancel it and nothing has to "
                "be sent back.",
                window_ends_at=ends,
            )
        if not order.product.returnable:
            return _rejected(
                RejectionReason.NOT_RETURNABLE,
                "This item is excluded from the right of withdrawal (for example, a sealed "
                "item unsealed after delivery).",
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


def return_calendar(event: RetractEvent) -> LegalCalendar:
    """The customer's calendar for this withdrawal: their country's working days, in their
    local time."""
    address = event.customer.address
    return calendar_for(
        address.country_code, event.order.ordered_at, event.occurred_at, address.postal_code
    )


def _rejected(reason: RejectionReason, sentence: str, ends: dt.datetime) -> EligibilityDecision:
    return EligibilityDecision(
        accepted=False, reason=reason, explanation=sentence, window_ends_at=ends
    )
