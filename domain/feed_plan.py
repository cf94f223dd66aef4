"""Who a return's events go to (domain.feed has the events themselves)."""

from __future__ import annotations

from pydantic import Field

from domain.base import DomainModel, Identifier


class FeedPlan(DomainModel):
    """Who a return's events go to, fixed as the return starts (its intake)."""

    subscribers: list[Identifier] = Field(
        default_factory=list, description="The subscribers' names (`RETURNFLOW_EVENT_SUBSCRIBERS`)."
    )
    attempts: int = Field(
        default=12,
        ge=1,
        le=100,
        description="Deliveries of one event to one subscriber before it is parked for operations.",
    )
