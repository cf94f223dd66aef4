"""`EventFeedWorkflow`: one return's events, delivered to each subscriber in sequence.

The return's run loop publishes its events here as they happen, and says when it has ended:
`publish` signals, sent with the feed's start by the `publish_events` activity
(`activities.feed.publisher`). The history of this workflow is the feed's outbox. Its run loop, the
only writer, delivers to each subscriber the events it has not had, in sequence, with the
`deliver_events` activity (up to `DELIVERY_BATCH` events a batch; a feed started before batches
sends one event per `deliver_event`): subscribers are served side by side, and each receives
event n+1 only once event n was acknowledged. A delivery that fails its every attempt (or is
refused) is parked: the subscriber's deliveries wait, the `FeedParked` search attribute is set, and
operations replay it (`replay` update, `python starter.py feed replay`) once the subscriber is
fixed. The feed ends when the return has ended and every subscriber has had every event.

The feed numbers the events itself: a return numbers its own from 1, and a return started
again under its ID (after its run failed or was terminated) or reset sends its news from
another run; that run's events are numbered on from the feed's last one, so a subscriber never
sees a number twice for two events. A feed is pinned to its worker build as its return is; the
feed of a return terminated by hand waits for a run started again, until operations terminate
it too (docs/event-feed.md).
"""

from __future__ import annotations

import asyncio
import functools

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.feed.activities import FeedActivities
    from domain import search_attributes as sa
    from domain.feed import (
        DELIVERY_BATCH,
        BatchDelivered,
        Delivery,
        DeliveryBatch,
        DeliveryOutcome,
        FeedEvent,
        FeedNews,
        FeedStart,
        FeedView,
        ForgetRequest,
        ParkedDelivery,
        ReplayRequest,
        ReplayResult,
        SubscriberProgress,
        event_id,
    )
    from workflows import failures, policies

FEED_DELIVERY_BATCHES = "feed-delivery-batches"
"""The change that delivers a subscriber's pending events in one activity, not one each."""
FEED_ENDED_BY_LAST_RUN = "feed-ended-by-last-run"
"""The change that lets another run of the return reopen a feed an earlier run said had ended,
instead of the feed completing under the new run once it caught up."""
Outcome = DeliveryOutcome | BatchDelivered


def feed_id(return_id: str) -> str:
    """The workflow ID of a return's event feed."""
    return f"feed-{return_id}"


@workflow.defn
class EventFeedWorkflow:
    @workflow.init
    def __init__(self, start: FeedStart) -> None:
        self._start = start
        self._events: dict[int, FeedEvent] = {}
        self._published = 0
        """The highest sequence received with none missing before it."""
        self._ended = False
        self._expected = 0
        """The sequence of the last event the return has told of: none is missing up to it."""
        self._delivered = dict.fromkeys(start.plan.subscribers, 0)
        self._runs: dict[str, int] = {start.run_id: 0}
        """Per run of the return: what its own sequence numbers are moved on by here."""
        self._parked: dict[str, ParkedDelivery] = {}
        self._replays: list[ReplayRequest] = []
        self._forgetting: list[ForgetRequest] = []
        self._forgotten: dict[str, ForgetRequest] = {}
        """Subscribers operations took off this feed: delivered nothing more."""
        self._changes = 0

    @workflow.run
    async def run(self, start: FeedStart) -> FeedView:
        policy = policies.feed_delivery(start.plan.attempts)
        in_flight: dict[str, asyncio.Task[Outcome]] = {}
        while True:
            self._take_replays()
            self._take_forgets()
            for subscriber in start.plan.subscribers:
                next_one = self._delivered[subscriber] + 1
                if (
                    subscriber in in_flight
                    or subscriber in self._parked
                    or subscriber in self._forgotten
                    or next_one > self._published
                ):
                    continue
                in_flight[subscriber] = asyncio.create_task(
                    self._deliver(subscriber, next_one, policy)
                )
            if not in_flight and self._ended and self._all_delivered():
                break
            await workflow.wait_condition(functools.partial(self._news, self._changes, in_flight))
            for subscriber, task in list(in_flight.items()):
                if task.done():
                    del in_flight[subscriber]
                    self._settle(subscriber, task)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view()

    async def _deliver(
        self, subscriber: str, first: int, policy: policies.ActivityPolicy
    ) -> Outcome:
        if not workflow.patched(FEED_DELIVERY_BATCHES):
            event = self._events[first]
            one: DeliveryOutcome = await workflow.execute_activity_method(
                FeedActivities.deliver_event,
                Delivery(subscriber=subscriber, event=event),
                **policy.options(),
                summary=f"{event.data.type} #{event.sequence} to {subscriber}",
            )
            return one
        last = min(self._published, first + DELIVERY_BATCH - 1)
        batch = DeliveryBatch(
            subscriber=subscriber, events=[self._events[n] for n in range(first, last + 1)]
        )
        kinds = ", ".join(event.data.type for event in batch.events)
        numbers = f"#{first}" if last == first else f"#{first}-{last}"
        delivered: BatchDelivered = await workflow.execute_activity_method(
            FeedActivities.deliver_events,
            batch,
            **policy.options(),
            summary=f"{numbers} to {subscriber}: {kinds}"[:200],
        )
        return delivered

    def _news(self, seen: int, in_flight: dict[str, asyncio.Task[Outcome]]) -> bool:
        """Something arrived since `seen`, or a delivery has finished."""
        return self._changes != seen or any(task.done() for task in in_flight.values())

    def _settle(self, subscriber: str, task: asyncio.Task[Outcome]) -> None:
        try:
            outcome = task.result()
        except ActivityError as err:
            event = self._events[self._delivered[subscriber] + 1]
            self._parked[subscriber] = ParkedDelivery(
                subscriber=subscriber,
                event_id=event.event_id,
                sequence=event.sequence,
                type=event.data.type,
                parked_at=workflow.now(),
                reason=failures.message(err),
            )
            workflow.logger.warning(
                "event delivery parked",
                extra={"subscriber": subscriber, "event_id": event.event_id},
            )
            self._show_parked()
            return
        if isinstance(outcome, BatchDelivered):
            self._delivered[subscriber] += outcome.delivered
            if outcome.stopped_by is not None:
                workflow.logger.info(
                    "event delivery batch stopped early",
                    extra={"subscriber": subscriber, "reason": outcome.stopped_by},
                )
        elif outcome is DeliveryOutcome.DELIVERED:
            self._delivered[subscriber] += 1

    def _take_replays(self) -> None:
        if not self._replays:
            return
        for request in self._replays:
            parked = self._parked.pop(request.subscriber, None)
            if parked is not None:
                workflow.logger.info(
                    "parked event delivery replayed",
                    extra={"subscriber": request.subscriber, "event_id": parked.event_id},
                )
        self._replays.clear()
        self._show_parked()

    def _take_forgets(self) -> None:
        if not self._forgetting:
            return
        for request in self._forgetting:
            self._parked.pop(request.subscriber, None)
            self._forgotten[request.subscriber] = request
            workflow.logger.info(
                "subscriber taken off the event feed", extra={"subscriber": request.subscriber}
            )
        self._forgetting.clear()
        self._show_parked()

    def _show_parked(self) -> None:
        workflow.upsert_search_attributes([sa.FEED_PARKED.value_set(bool(self._parked))])

    def _all_delivered(self) -> bool:
        return (
            not self._parked
            and self._published >= self._expected
            and all(
                delivered >= self._published
                for subscriber, delivered in self._delivered.items()
                if subscriber not in self._forgotten
            )
        )

    # --- What the return and operations send ---------------------------------------------

    @workflow.signal
    def publish(self, news: FeedNews) -> None:
        """The return's new events, and whether it has ended (the same news twice, or late,
        changes nothing: events are kept by their sequence)."""
        run = news.start.run_id
        if run not in self._runs:
            # Another run of the return: its first event follows the feed's last one.
            first = min((e.sequence for e in news.events), default=news.published + 1)
            known = max(self._expected, max(self._events, default=0))
            self._runs[run] = known - (first - 1)
            workflow.logger.info("event feed goes on from another run", extra={"run_id": run})
            if self._ended and workflow.patched(FEED_ENDED_BY_LAST_RUN):
                # The run that said the return ended is not the last one: this one goes on
                # (a return reset while its feed still delivered), and so does the feed.
                self._ended = False
        shift = self._runs[run]
        for event in news.events:
            sequence = event.sequence + shift
            if sequence in self._events:
                continue
            data = event.data.model_copy(
                update={"sequence": sequence, "event_id": event_id(self._start.return_id, sequence)}
            )
            self._events[sequence] = FeedEvent(data=data)
        while self._published + 1 in self._events:
            self._published += 1
        self._ended = self._ended or news.ended
        self._expected = max(self._expected, news.published + shift)
        self._changes += 1

    @workflow.update
    async def replay(self, request: ReplayRequest) -> ReplayResult:
        """Operations deliver a parked event again, and the subscriber's deliveries resume."""
        parked = self._parked[request.subscriber]
        self._replays.append(request)
        self._changes += 1
        await workflow.wait_condition(lambda: request not in self._replays)
        return ReplayResult(subscriber=request.subscriber, from_sequence=parked.sequence)

    @replay.validator
    def _may_replay(self, request: ReplayRequest) -> None:
        self._parked_and_free(request.subscriber, f"no delivery to {request.subscriber} is parked")

    @workflow.update
    async def forget(self, request: ForgetRequest) -> FeedView:
        """Operations take a subscriber removed for good off this feed: its parked delivery
        is dropped, nothing more is delivered to it, and the feed ends without it."""
        self._forgetting.append(request)
        self._changes += 1
        await workflow.wait_condition(lambda: request not in self._forgetting)
        return self.view()

    @forget.validator
    def _may_forget(self, request: ForgetRequest) -> None:
        if request.subscriber in self._forgotten:
            raise ApplicationError(
                f"subscriber: {request.subscriber} is off this feed already", non_retryable=True
            )
        self._parked_and_free(
            request.subscriber,
            f"{request.subscriber}'s deliveries are not parked: only a subscriber whose "
            "deliveries failed for good is taken off",
        )

    def _parked_and_free(self, subscriber: str, not_parked: str) -> None:
        """Operations' replay or forget may act on `subscriber`: one of this feed's, its
        delivery parked, and no other request of operations for it waiting."""
        if subscriber not in self._delivered:
            raise ApplicationError(
                f"subscriber: {subscriber} does not receive this return's events",
                non_retryable=True,
            )
        waiting = {r.subscriber for r in self._replays} | {r.subscriber for r in self._forgetting}
        if subscriber not in self._parked or subscriber in waiting:
            raise ApplicationError(f"subscriber: {not_parked}", non_retryable=True)

    @workflow.query
    def view(self) -> FeedView:
        return FeedView(
            return_id=self._start.return_id,
            published=self._published,
            ended=self._ended,
            subscribers=[
                SubscriberProgress(
                    subscriber=subscriber,
                    delivered=delivered,
                    parked=self._parked.get(subscriber),
                    forgotten=self._forgotten.get(subscriber),
                )
                for subscriber, delivered in self._delivered.items()
            ],
        )
