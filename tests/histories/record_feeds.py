"""Record the histories of the paths of `EventFeedWorkflow` no return scenario plays.

    python -m tests.histories.record_feeds      (part of make histories)

The feeds of the return scenarios are recorded with them (`record.py`, `feeds/{scenario}.json`).
The paths here come from news a return's runs send that one scenario cannot play, so they are
played by sending the feed that news as the returns' hand-overs would, on the time-skipping dev
server with the worker of doubles, and written to tests/histories/feeds/{path}.json:

- `reset_while_delivering`: a run says the return has ended while its subscriber is slow; the
  return is reset, and the new run's events follow in the same feed, which completes only once
  that run has ended.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.common import WorkflowIDConflictPolicy

from domain.feed import Closed, FeedEvent, FeedNews, FeedStart
from domain.feed_plan import FeedPlan
from domain.returns import ReturnStage
from plumbing.temporal import exit_process
from tests.histories import feed_history_path
from tests.histories.record import time_skipping_environment
from tests.workflows.doubles import Doubles
from tests.workflows.harness import return_harness
from workflows.event_feed import EventFeedWorkflow, feed_id

PLAN = FeedPlan(subscribers=["marketplace"])


def event(return_id: str, sequence: int) -> FeedEvent:
    return FeedEvent(
        data=Closed(
            event_id=f"{return_id}:{sequence}",
            sequence=sequence,
            return_id=return_id,
            order_id="ORD-RESET",
            line_id="1",
            seller_id="SELLER-REFURBPRO",
            stage=ReturnStage.CLOSED,
            occurred_at=dt.datetime(2026, 12, 1, 9, sequence, tzinfo=dt.UTC),
        )
    )


async def tell(
    client: Client, task_queue: str, return_id: str, run: str, upto: int, ended: bool
) -> None:
    """What a return's run hands its feed: its events up to `upto`, as the publisher does."""
    start = FeedStart(return_id=return_id, run_id=run, plan=PLAN)
    await client.start_workflow(
        EventFeedWorkflow.run,
        start,
        id=feed_id(return_id),
        task_queue=task_queue,
        start_signal="publish",
        start_signal_args=[
            FeedNews(start=start, events=[event(return_id, upto)], published=upto, ended=ended)
        ],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def reset_while_delivering(
    client: Client, task_queue: str, doubles: Doubles
) -> WorkflowHistory:
    return_id = "return-ORD-RESET-1"
    slow = asyncio.Event()
    doubles.hold["deliver_event"] = slow
    await tell(client, task_queue, return_id, "run-1", 1, ended=False)
    await tell(client, task_queue, return_id, "run-1", 2, ended=True)
    await tell(client, task_queue, return_id, "run-2", 3, ended=False)  # reset after #2
    slow.set()
    feed = client.get_workflow_handle_for(EventFeedWorkflow.run, feed_id(return_id))
    async with asyncio.timeout(30):
        while (await feed.query(EventFeedWorkflow.view)).subscribers[0].delivered < 3:
            await asyncio.sleep(0.1)
    await tell(client, task_queue, return_id, "run-2", 4, ended=True)
    await feed.result()
    return await feed.fetch_history()


PATHS: dict[str, Callable[[Client, str, Doubles], Awaitable[WorkflowHistory]]] = {
    "reset_while_delivering": reset_while_delivering,
}


async def record_all() -> int:
    failures = 0
    async with time_skipping_environment() as env:
        for name, play in PATHS.items():
            doubles = Doubles(feed=PLAN)
            async with return_harness(env.client, doubles) as harness:
                history = await asyncio.wait_for(
                    play(env.client, harness.settings.task_queue, doubles), timeout=60
                )
            if any(
                e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in history.events
            ):
                print(f"FAILED {name}: a workflow task failed", file=sys.stderr)
                failures += 1
                continue
            path = feed_history_path(name)
            path.write_text(history.to_json() + "\n", encoding="utf-8")
            print(f"recorded {path} ({len(history.events)} events)")
    return 1 if failures else 0


if __name__ == "__main__":
    exit_process(asyncio.run(record_all()))
