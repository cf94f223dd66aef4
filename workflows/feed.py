"""A return's side of its event feed: the events it publishes, as its run loop goes.

After each step the loop looks at the return (`ReturnContext.look`) and calls `publish` with what
changed since the last look, which becomes numbered events (`workflows.feed_changes`), handed to
the return's `EventFeedWorkflow` by the `publish_events` local activity, which starts the feed
with the first events. The feed is a workflow of its own: it delivers at each subscriber's pace
and outlives the return while deliveries are pending; the return waits only for the hand-over.
`end` says the return has ended. A return whose intake names no subscriber publishes nothing
and starts no feed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.feed.publisher import FeedPublisher
    from domain.feed import FeedEvent, FeedNews, FeedStart
    from domain.feed_plan import FeedPlan
    from workflows import policies
    from workflows.feed_changes import Change, events

if TYPE_CHECKING:
    from workflows.context import ReturnContext

EVENT_FEED = "event-feed"
"""Patch: a return whose intake names subscribers publishes its events to its feed."""


class ReturnFeed:
    def __init__(self) -> None:
        self.plan: FeedPlan | None = None
        """Who the return's events go to, from its intake (none: no event feed)."""
        self._on: bool | None = None
        """Whether this return publishes: decided at its first look, kept for its life."""
        self._closed = False
        self.published = 0
        """The sequence of the last event published."""

    async def publish(
        self, ctx: ReturnContext, found: list[Change], *, ended: bool = False
    ) -> None:
        """Publish `found`, what changed since the loop's last look (at the first: that the
        return started)."""
        state = ctx.state
        if self._on is None:
            self._on = self.plan is not None and workflow.patched(EVENT_FEED)
        if not self._on or self._closed:
            return
        if not found and not ended:
            return
        made = events(state, found, self.published + 1, ctx.now())
        self.published += len(made)
        await self._hand_over(ctx, made, ended)

    async def end(self, ctx: ReturnContext, found: list[Change]) -> None:
        """The return has ended: its last changes (`found`), and that nothing more comes."""
        await self.publish(ctx, found, ended=True)

    async def _hand_over(self, ctx: ReturnContext, made: list[FeedEvent], ended: bool) -> None:
        state = ctx.state
        assert self.plan is not None
        news = FeedNews(
            start=FeedStart(
                return_id=state.return_id, run_id=workflow.info().run_id, plan=self.plan
            ),
            events=made,
            published=self.published,
            ended=ended,
        )
        taken = await workflow.execute_local_activity_method(
            FeedPublisher.publish_events,
            news,
            start_to_close_timeout=policies.FEED_PUBLISH.start_to_close_timeout,
            retry_policy=policies.FEED_PUBLISH.retry_policy,
            summary=", ".join(e.data.type for e in made) or "return ended",
        )
        if not taken:
            self._closed = True
            ctx.record(
                "system",
                "event feed closed (it completed before this run, or operations terminated it): "
                "this return's events stop here",
            )
