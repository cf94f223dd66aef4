"""Taking a retract event in: validate it, then start its return exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain import search_attributes as sa
from domain.base import field_problems
from domain.eligibility import return_calendar
from domain.emails import email_problem
from domain.events import Customer, Order, RetractEvent
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
    problems = in_the_future({"occurred_at": event.occurred_at}, now, NOTICE_SENT)
    problems += in_the_future(order_times(event.order, "order."), now)
    named = {problem.partition(":")[0] for problem in problems}
    problems += [
        problem
        for problem in times_out_of_order(event.order, "order.", notice=event.occurred_at)
        if problem.partition(":")[0] not in named  # in the future already says it
    ]
    problems += customer_problems(event.customer, "customer.")
    if problems:
        raise EventRejected(problems)
    return event


def customer_problems(customer: Customer, prefix: str) -> list[str]:
    """What the models' lenient patterns let through and no notice could use: an email
    address no mail can go to (`domain.emails`)."""
    problem = email_problem(customer.email)
    return [] if problem is None else [f"{prefix}email: {problem}"]


def times_out_of_order(order: Order, prefix: str, notice: dt.datetime | None = None) -> list[str]:
    """The order line's times that do not follow each other (ordered, shipped, delivered, then
    the withdrawal's notice) beyond what the models check: a delivery before the order with no
    shipment time, a shipment or delivery after the notice. The models stay as lenient as the
    histories that hold them; the doors refuse such an order line."""
    problems = []
    if order.delivered_at is not None and order.delivered_at < order.ordered_at:
        problems.append(f"{prefix}delivered_at: before {prefix}ordered_at")
    if notice is not None:
        # The same skew as for our own clock: a delivery scan's time comes from the carrier's.
        latest = notice + CLOCK_SKEW
        problems += [
            f"{name}: after the notice (occurred_at): a notice reports what happened before it"
            for name, moment in order_times(order, prefix).items()
            if name != f"{prefix}ordered_at" and moment is not None and moment > latest
        ]
    return problems


NOTICE_SENT = "a withdrawal notice is given before it is sent"
REPORTED = "the order service reports what has happened"


def order_times(order: Order, prefix: str) -> dict[str, dt.datetime | None]:
    """An order line's times, by the name of their field under `prefix`."""
    return {
        f"{prefix}ordered_at": order.ordered_at,
        f"{prefix}shipped_at": order.shipped_at,
        f"{prefix}delivered_at": order.delivered_at,
        f"{prefix}contract_delivered_at": order.contract_delivered_at,
    }


def in_the_future(
    times: Mapping[str, dt.datetime | None], now: dt.datetime | None, why: str = REPORTED
) -> list[str]:
    """A problem naming each time more than `CLOCK_SKEW` ahead of our clock."""
    latest = (now or dt.datetime.now(dt.UTC)) + CLOCK_SKEW
    minutes_ahead = CLOCK_SKEW.seconds // 60
    return [
        f"{name}: in the future, more than {minutes_ahead} minutes ahead of our clock: {why}"
        for name, moment in times.items()
        if moment is not None and moment > latest
    ]


class Arrival(StrEnum):
    """What an event found at its order line's return."""

    CREATED = "created"
    """No return was there: the event started it."""
    DUPLICATE = "duplicate"
    """The same event again (same `event_id`, same facts), or another event for the line while
    its return runs: nothing is started."""
    CONFLICT = "conflict"
    """The return was started by an event with this `event_id` whose facts differ."""
    ENDED = "ended"
    """Another event (another `event_id`) for a line whose return has ended: a new withdrawal
    nothing acts on, for operations to look at."""


@dataclass(frozen=True)
class StartedReturn:
    workflow_id: str
    arrival: Arrival
    link: str
    ended: bool = False
    """The return has ended (its workflow is closed)."""
    conflicts: tuple[str, ...] = ()
    """For a conflict: the fields whose values differ from the first event's (names only)."""

    @property
    def created(self) -> bool:
        """False when the return already existed: the event starts nothing."""
        return self.arrival is Arrival.CREATED


async def start_return(client: Client, settings: Settings, event: RetractEvent) -> StartedReturn:
    """Start the return of the event's order line, or say what the event found there."""
    order = event.order
    workflow_id = return_id(order.order_id, order.line_id)
    state = ReturnState(event)
    state.calendar = return_calendar(event)  # the ShipBy the return will count
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
        return await _already_there(client, workflow_id, event, link)
    return StartedReturn(workflow_id, Arrival.CREATED, link)


async def _already_there(
    client: Client, workflow_id: str, event: RetractEvent, link: str
) -> StartedReturn:
    """Compare the event with the one that started the return (its first history event, as
    encrypted as every payload and decoded by the client's codec)."""
    handle = client.get_workflow_handle(workflow_id)
    description = await handle.describe()
    ended = description.close_time is not None
    first = await starting_event(client, workflow_id)
    if first is None:
        # Unreadable (a start that broke the schema): nothing to compare with.
        return StartedReturn(workflow_id, Arrival.DUPLICATE, link, ended=ended)
    if first.event_id == event.event_id:
        differing = differing_facts(first, event)
        if differing:
            return StartedReturn(
                workflow_id, Arrival.CONFLICT, link, ended=ended, conflicts=differing
            )
        return StartedReturn(workflow_id, Arrival.DUPLICATE, link, ended=ended)
    if ended:
        return StartedReturn(workflow_id, Arrival.ENDED, link, ended=True)
    return StartedReturn(workflow_id, Arrival.DUPLICATE, link)


async def starting_event(client: Client, workflow_id: str) -> RetractEvent | None:
    """The event the return's current run was started with; None when it cannot be read as
    one (or the return is gone)."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        async for history_event in handle.fetch_history_events(page_size=1):
            started = history_event.workflow_execution_started_event_attributes
            payloads = list(started.input.payloads)
            if not payloads:
                return None
            try:
                decoded = await client.data_converter.decode(payloads[:1], [RetractEvent])
            except Exception:  # an input that never fitted the schema
                return None
            first = decoded[0]
            return first if isinstance(first, RetractEvent) else None
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    return None


def differing_facts(first: RetractEvent, again: RetractEvent) -> tuple[str, ...]:
    """The dotted names of the fields whose values differ, compared as the schema reads them
    (so key order, spacing and the spelling of a time zone do not count)."""
    return tuple(sorted(_differing(first.model_dump(mode="json"), again.model_dump(mode="json"))))


def _differing(first: object, again: object, prefix: str = "") -> set[str]:
    if isinstance(first, dict) and isinstance(again, dict):
        names: set[str] = set()
        for key in first.keys() | again.keys():
            names |= _differing(first.get(key), again.get(key), f"{prefix}{key}.")
        return names
    return set() if first == again else {prefix.rstrip(".") or "(event)"}
