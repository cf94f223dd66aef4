"""Temporal activities about the order: is this withdrawal a return we accept?"""

from __future__ import annotations

from temporalio import activity

from domain.eligibility import EligibilityPolicy
from domain.events import RetractEvent
from domain.returns import EligibilityDecision


class OrderActivities:
    def __init__(self, policy: EligibilityPolicy) -> None:
        self._policy = policy

    @activity.defn
    async def check_eligibility(self, event: RetractEvent) -> EligibilityDecision:
        """Judge the withdrawal under the configured return window, at the notice time."""
        decision = self._policy.evaluate(event)
        activity.logger.info(
            "eligibility decided",
            extra={"accepted": decision.accepted, "reason": decision.reason},
        )
        return decision
