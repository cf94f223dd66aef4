"""Temporal activity handing a return's new events to its feed workflow.

The return's run loop calls it (a local activity) after each step that changed something: a
signal-with-start of `EventFeedWorkflow` (ID `feed-{return_id}`, on the return's task queue),
so the first call starts the feed and the next ones add to it. The feed is a workflow of its
own, not a child of the return: it outlives the return while deliveries are pending, and the
return never waits for a subscriber. A feed that has closed (its return ended, or terminated by
hand) is not started again: the events are then not published, and the return goes on.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.feed import FeedNews
from workflows.event_feed import EventFeedWorkflow, feed_id


class FeedPublisher:
    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn
    async def publish_events(self, news: FeedNews) -> bool:
        """Signal the news to the return's feed, starting it if needed; False when the feed
        has closed and takes nothing more."""
        return_id = news.start.return_id
        try:
            await self._client.start_workflow(
                EventFeedWorkflow.run,
                news.start,
                id=feed_id(return_id),
                task_queue=activity.info().task_queue,
                start_signal="publish",
                start_signal_args=[news],
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=f"event feed of {return_id}",
            )
        except WorkflowAlreadyStartedError:
            if news.ended:
                # This very news was taken before (an attempt whose answer was lost), and the
                # feed, having delivered everything, has completed.
                return True
            activity.logger.warning(
                "event feed closed: events not published",
                extra={"return_id": return_id, "events": len(news.events)},
            )
            return False
        return True
