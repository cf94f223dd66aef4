"""Temporal activities about the order: is this withdrawal a return we accept, how long do its
clocks run, and the refund request to the order service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from activities.orders.http import HttpOrderService
from activities.orders.service import FileOrderService, OrderService
from domain.carriers import LabelCostBearer
from domain.eligibility import EligibilityPolicy, WindowStart
from domain.events import RetractEvent
from domain.inspection import Claim, ClaimRequest
from domain.returns import EligibilityDecision, Refund, RefundRequest
from domain.timings import RefundTrigger, ReturnTimings
from plumbing import metrics

if TYPE_CHECKING:
    from plumbing.settings import Settings


def policy_from_settings(settings: Settings) -> EligibilityPolicy:
    """The return window the settings configure (`RETURNFLOW_RETURN_WINDOW_*`)."""
    return EligibilityPolicy(
        window_days=settings.return_window_days,
        window_starts=WindowStart(settings.return_window_starts),
    )


def timings_from_settings(settings: Settings) -> ReturnTimings:
    """The clocks of a return the settings configure (`RETURNFLOW_SELLER_REMINDER_AFTER`, ...)."""
    return ReturnTimings(
        seller_reminder_after=settings.seller_reminder_after,
        escalate_after=settings.seller_escalate_after,
        scan_overdue_after=settings.scan_overdue_after,
        poll_interval=settings.poll_interval,
        expiry_grace=settings.expiry_grace,
        late_parcel_watch=settings.late_parcel_watch,
        refund_trigger=RefundTrigger(settings.refund_trigger),
        label_paid_by=LabelCostBearer(settings.return_label_paid_by),
        refund_decision_before=settings.refund_decision_before,
        refund_request_ahead=settings.refund_request_ahead,
        delivery_overdue=settings.delivery_overdue,
        inspection_period=settings.inspection_period,
        rejection_review=settings.rejection_review,
        carrier_answer_within=settings.choice_carrier_timeout,
        max_choice_changes=settings.max_choice_changes,
    )


class OrderActivities:
    def __init__(
        self, policy: EligibilityPolicy, timings: ReturnTimings, orders: OrderService
    ) -> None:
        self._policy = policy
        self._timings = timings
        self._orders = orders

    @classmethod
    def from_settings(cls, settings: Settings) -> OrderActivities:
        """The policy and timings of the settings; refunds and claims to the order service at
        `order_service_url`, else recorded under `orders_path`."""
        return cls(
            policy_from_settings(settings),
            timings_from_settings(settings),
            order_service(settings),
        )

    async def aclose(self) -> None:
        """Close the order service's connections (the HTTP adapter holds a pool)."""
        close = getattr(self._orders, "aclose", None)
        if close is not None:
            await close()

    @activity.defn
    async def check_eligibility(self, event: RetractEvent) -> EligibilityDecision:
        """Judge the withdrawal under the configured return window, at the notice time."""
        decision = self._policy.evaluate(event)
        activity.logger.info(
            "eligibility decided",
            extra={"accepted": decision.accepted, "reason": decision.reason},
        )
        return decision

    @activity.defn
    async def return_timings(self) -> ReturnTimings:
        """The worker's configured clocks, read once by a return when it starts (a workflow
        cannot read the environment itself)."""
        return self._timings

    @activity.defn
    async def request_refund(self, request: RefundRequest) -> Refund:
        """Ask the order service to refund the line; a retry under the same key is answered
        with the refund already recorded (`created=False`). A key reused for a different
        request fails for good (`RefundConflict`)."""
        refund = await self._orders.request_refund(request)
        metrics.count(metrics.REFUNDS_REQUESTED, {"created": str(refund.created).lower()})
        activity.logger.info(
            "refund requested" if refund.created else "refund already requested",
            extra={
                "return_id": request.return_id,
                "refund_id": refund.refund_id,
                "reason": request.reason,
                "new_refund": refund.created,
            },
        )
        return refund

    @activity.defn
    async def file_claim(self, request: ClaimRequest) -> Claim:
        """Claim an approved deduction from the line's refund; idempotent like the refund (a
        key reused for a different claim fails for good, `RefundConflict`)."""
        claim = await self._orders.file_claim(request)
        activity.logger.info(
            "claim filed" if claim.created else "claim already filed",
            extra={
                "return_id": request.return_id,
                "claim_id": claim.claim_id,
                "outcome": request.outcome,
                "new_claim": claim.created,
            },
        )
        return claim


def order_service(settings: Settings) -> OrderService:
    """The order service the settings name: over HTTP, or the local file."""
    if settings.order_service_url is None:
        return FileOrderService(settings.orders_path)
    if settings.marketplace_token is None:
        raise ValueError(
            "RETURNFLOW_ORDER_SERVICE_URL is set: set RETURNFLOW_MARKETPLACE_TOKEN too"
        )
    return HttpOrderService(
        settings.order_service_url,
        settings.marketplace_token.get_secret_value(),
        timeout_seconds=settings.marketplace_timeout_seconds,
        ca_file=settings.marketplace_ca_file,
    )
