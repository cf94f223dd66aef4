"""The running returns in each stage and needing attention, counted for the metrics.

Counters in workflows say what happened; how many returns stand where *now* is a question for
Temporal's visibility, asked here every `RETURNFLOW_RETURNS_COUNT_SECONDS`: one count per stage
and per reason for attention (the visibility store groups only by execution status). Every
worker counts the same returns, so dashboards take the `max` across workers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from types import TracebackType
from typing import Self

from temporalio.client import Client

from activities.reminders.query import running_returns
from domain import search_attributes as sa
from domain.returns import AttentionReason, ReturnStage
from plumbing import metrics

log = logging.getLogger(__name__)


class ReturnCounts:
    """Counts the returns of `task_queue` every `every` seconds while its context is open."""

    def __init__(self, client: Client, task_queue: str, every: float) -> None:
        self._client = client
        self._running = running_returns(task_queue)
        self._every = every
        self._task: asyncio.Task[None] | None = None

    async def count_once(self) -> None:
        """Count every stage and reason now, and set the gauges."""
        for stage in ReturnStage:
            query = f'{self._running} AND {sa.RETURN_STAGE.name} = "{stage.value}"'
            found = await self._client.count_workflows(query)
            metrics.set_gauge(metrics.RETURNS_IN_STAGE, found.count, {"stage": stage.value})
        for reason in AttentionReason:
            query = f'{self._running} AND {sa.ATTENTION_REASONS.name} = "{reason.value}"'
            found = await self._client.count_workflows(query)
            labels = {"reason": reason.value}
            metrics.set_gauge(metrics.RETURNS_NEEDING_ATTENTION, found.count, labels)
        metrics.set_gauge(metrics.RETURNS_COUNTED_AT, time.time())

    async def _run(self) -> None:
        while True:
            try:
                await self.count_once()
            except Exception as err:  # Temporal away for a while: the next round tries again
                log.warning("returns not counted", extra={"error": str(err)})
            await asyncio.sleep(self._every)

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run(), name="return-counts")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
