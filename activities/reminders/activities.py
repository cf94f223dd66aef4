"""The reminder sweep's activity: list the unshipped returns through visibility, page by page,
and signal each to remind its customer.

One activity, not a workflow loop: thousands of returns cost the sweep's history a handful of
events instead of one per return. Its progress (the next page and the counts) is its heartbeat,
so a retried attempt goes on from the last page it finished. Signalling a return twice is
harmless: a return sends at most one reminder a day.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from temporalio import activity
from temporalio.client import Client, WorkflowExecution
from temporalio.service import RPCError, RPCStatusCode

from activities.reminders.query import unshipped_returns_query
from domain.base import DomainModel
from domain.returns import ShippingReminder
from plumbing import metrics
from reminders.models import ReminderSweep, SweepResult
from workflows.return_workflow import ReturnWorkflow

if TYPE_CHECKING:
    from plumbing.settings import Settings

PAGE_SIZE = 500
"""Returns per visibility page: one heartbeat per page."""
SIGNALS_AT_ONCE = 20
"""Signals in flight together: quick for thousands, gentle on the frontend."""


class _Progress(DomainModel):
    """The heartbeat: where the next attempt goes on, and what was done so far."""

    next_page: str | None = None
    """Base64 of the visibility page token; None before the first page."""
    found: int = 0
    signalled: int = 0
    already_ended: int = 0
    refused: int = 0
    pages: int = 0


class ReminderActivities:
    """Holds the Temporal client the sweep lists and signals returns with, and the settings
    that say which returns and which day."""

    def __init__(
        self,
        client: Client,
        *,
        task_queue: str,
        horizon: dt.timedelta,
        time_zone: str,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._horizon = horizon
        self._zone = ZoneInfo(time_zone)
        self._page_size = page_size

    @classmethod
    def from_settings(cls, client: Client, settings: Settings) -> ReminderActivities:
        """Returns of the settings' task queue, the configured horizon and time zone."""
        return cls(
            client,
            task_queue=settings.task_queue,
            horizon=settings.reminder_horizon,
            time_zone=settings.reminder_time_zone,
        )

    @activity.defn
    async def remind_unshipped_returns(self, sweep: ReminderSweep) -> SweepResult:
        """Signal `remind_to_ship` to every running return waiting for its customer whose
        ShipBy is within the horizon of `sweep.as_of`, for the day `as_of` is in the reminder
        time zone. Resumes from the last heartbeat; a return that ended meanwhile is counted,
        not an error."""
        horizon = self._horizon if sweep.horizon is None else sweep.horizon
        until = sweep.as_of + horizon
        reminder = ShippingReminder(
            day=sweep.as_of.astimezone(self._zone).date(), origin=sweep.origin
        )
        query = unshipped_returns_query(self._task_queue, until)
        progress = _earlier_progress()
        resumed = progress.pages > 0
        token = base64.b64decode(progress.next_page) if progress.next_page else None
        # An attempt that heartbeated its last page had signalled every return: its retry
        # reports that, rather than listing and counting them all again.
        listed = resumed and token is None
        while not listed:
            listing = self._client.list_workflows(
                query, page_size=self._page_size, next_page_token=token
            )
            await listing.fetch_next_page()
            page = listing.current_page or []
            outcomes = await _signal_all(self._client, page, reminder)
            token = listing.next_page_token
            progress = _Progress(
                next_page=base64.b64encode(token).decode() if token else None,
                found=progress.found + len(page),
                signalled=progress.signalled + outcomes.count(True),
                already_ended=progress.already_ended + outcomes.count(False),
                refused=progress.refused + outcomes.count(None),
                pages=progress.pages + 1,
            )
            activity.heartbeat(progress.model_dump_json())
            listed = token is None
        metrics.count(metrics.REMINDER_SWEEPS)
        metrics.add(metrics.REMINDERS_SENT, progress.signalled)
        metrics.set_gauge(metrics.REMINDER_SWEEP_DONE_AT, time.time())
        activity.logger.info(
            "reminder sweep done",
            extra={
                "found": progress.found,
                "signalled": progress.signalled,
                "refused": progress.refused,
                "day": reminder.day,
            },
        )
        return SweepResult(
            day=reminder.day,
            ship_by_until=until,
            found=progress.found,
            signalled=progress.signalled,
            already_ended=progress.already_ended,
            refused=progress.refused,
            pages=progress.pages,
            resumed=resumed,
        )


EVERY_RETURN = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.UNAUTHENTICATED,
        RPCStatusCode.PERMISSION_DENIED,
        RPCStatusCode.INTERNAL,
        RPCStatusCode.UNKNOWN,
    }
)
"""Refusals that would be the same for every return (Temporal out of reach or overloaded, the
worker's credentials): the attempt fails, retried from its page. Any other is that return's
own (its history at a limit, say): counted and logged, and the sweep goes on."""


async def _signal_all(
    client: Client, page: Sequence[WorkflowExecution], reminder: ShippingReminder
) -> list[bool | None]:
    """Signal each return of a page, a few at a time: True if signalled, False if it had
    ended, None if Temporal refused that return alone."""
    gate = asyncio.Semaphore(SIGNALS_AT_ONCE)

    async def signal(execution: WorkflowExecution) -> bool | None:
        handle = client.get_workflow_handle_for(
            ReturnWorkflow.run, execution.id, run_id=execution.run_id
        )
        async with gate:
            try:
                await handle.signal(ReturnWorkflow.remind_to_ship, reminder)
            except RPCError as err:
                if err.status is RPCStatusCode.NOT_FOUND:
                    return False  # completed (or closed) since it was listed
                if err.status in EVERY_RETURN:
                    raise
                activity.logger.warning(
                    "a return refused its reminder signal",
                    extra={"return_id": execution.id, "status": err.status.name},
                )
                return None
        return True

    return list(await asyncio.gather(*(signal(e) for e in page)))


def _earlier_progress() -> _Progress:
    """What an earlier attempt of this sweep had done (its last heartbeat), if any."""
    details = activity.info().heartbeat_details
    if details and isinstance(details[-1], str):
        try:
            return _Progress.model_validate_json(details[-1])
        except ValidationError:
            activity.logger.warning("unreadable sweep progress: starting over")
    return _Progress()
