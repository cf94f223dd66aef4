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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import Client

from activities.reminders.query import running_returns
from domain import search_attributes as sa
from domain.returns import AttentionReason, ReturnStage
from plumbing import metrics

log = logging.getLogger(__name__)


class ReturnCounts:
    """Counts the running returns of `task_queue` (`count_once`), every `every` seconds (`run`)."""

    def __init__(self, client: Client, task_queue: str, every: float) -> None:
        self._client = client
        self._running = running_returns(task_queue)
        self._every = every

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

    async def run(self) -> None:
        """Count now, then every `every` seconds, until cancelled."""
        while True:
            try:
                await self.count_once()
            except Exception as err:  # Temporal away for a while: the next round tries again
                log.warning("returns not counted", extra={"error": str(err)})
            await asyncio.sleep(self._every)


@asynccontextmanager
async def counting(client: Client, task_queue: str, every: float) -> AsyncIterator[ReturnCounts]:
    """The returns of `task_queue` counted every `every` seconds while the context is open."""
    counts = ReturnCounts(client, task_queue, every)
    task = asyncio.create_task(counts.run(), name="return-counts")
    try:
        yield counts
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
