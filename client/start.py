"""Taking a retract event in: validate it, then start its return exactly once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain import search_attributes as sa
from domain.base import field_problems
from domain.events import RetractEvent
from domain.ids import return_id
from domain.returns import ReturnStage, ReturnStatus
from plumbing.settings import Settings
from plumbing.temporal import web_ui_link
from workflows import return_view
from workflows.return_state import ReturnState
from workflows.return_workflow import ReturnWorkflow


class EventRejected(ValueError):
    """The event does not fit the retract event's schema; `problems` name each field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


CLOCK_SKEW = dt.timedelta(minutes=5)
"""How far ahead of our clock a sender's may be: a withdrawal notice later than that is refused
(it would start the legal clocks in the future)."""


def parse_event(raw: bytes | str, now: dt.datetime | None = None) -> RetractEvent:
    """A retract event from JSON, or `EventRejected` naming every wrong field."""
    try:
        event = RetractEvent.model_validate_json(raw)
    except ValidationError as err:
        raise EventRejected(field_problems(err)) from None
    latest = (now or dt.datetime.now(dt.UTC)) + CLOCK_SKEW
    minutes_ahead = CLOCK_SKEW.seconds // 60
    facts = {
        "occurred_at": event.occurred_at,
        "order.ordered_at": event.order.ordered_at,
        "order.shipped_at": event.order.shipped_at,
        "order.delivered_at": event.order.delivered_at,
    }
    future = [
        f"{name}: in the future, more than {minutes_ahead} minutes ahead of our clock: "
        + (
            "a withdrawal notice is given before it is sent"
            if name == "occurred_at"
            else "the order service reports what has happened"
        )
        for name, moment in facts.items()
        if moment is not None and moment > latest
    ]
    if future:
        raise EventRejected(future)
    return event


@dataclass(frozen=True)
class StartedReturn:
    workflow_id: str
    created: bool
    """False when the return already existed: a duplicate event starts nothing."""
    link: str


async def start_return(client: Client, settings: Settings, event: RetractEvent) -> StartedReturn:
    """Start the return of the event's order line, or find the one already there."""
    order = event.order
    workflow_id = return_id(order.order_id, order.line_id)
    state = ReturnState(event)
    link = web_ui_link(settings, client.namespace, workflow_id)
    try:
        await client.start_workflow(
            # By name: the workflow takes its input raw and validates it itself.
            ReturnWorkflow.__name__,
            event,
            result_type=ReturnStatus,
            id=workflow_id,
            task_queue=settings.task_queue,
            # A running return answers the duplicate; a finished one is never re-run, except a
            # failed one (an operator restarts it by resending the event once it is fixed).
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.RETURN_STAGE, ReturnStage.CHECKING_ELIGIBILITY.value),
                    SearchAttributePair(sa.ORDER_ID, order.order_id),
                    SearchAttributePair(sa.SELLER_ID, order.seller_id),
                    SearchAttributePair(sa.SHIP_BY, state.ship_by),
                    SearchAttributePair(sa.NEEDS_ATTENTION, False),
                ]
            ),
            static_summary=return_view.summary(state),
        )
    except WorkflowAlreadyStartedError:
        return StartedReturn(workflow_id, created=False, link=link)
    return StartedReturn(workflow_id, created=True, link=link)
