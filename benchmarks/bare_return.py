"""The ceiling of `benchmarks.returns_load`: a return-shaped workflow whose activities do nothing.

    python -m benchmarks.bare_return        (a worker on task queue `bare-returns`)

`BareReturnWorkflow` gives Temporal the commands `ReturnWorkflow` gives it on the happy path of
the dev stack, up to the proof of dispatch (a mailbox pickup, the carrier's acceptance scan, the
refund requested and the pickup notice sent), in the same order:

- the intake: three patch markers (each upserting `TemporalChangeVersion`), one local
  activity, the carriers' prices (an activity), `ReturnStage` upserted, the address email (an
  activity), a fourth patch marker, the event feed's hand-over (a local activity), the wait for
  the choice under the expiry timer;
- the customer's choice (an update): the label and the pickup (two activities, within the
  choice's bound on the carrier's answers), `ReturnStage`,
  `Carrier` and `TrackingNumber` upserted, the answer, the label email (an activity), the feed
  (a local activity), the expiry timer replaced by the polling timer;
- the carrier's scans (a signal): `ReturnStage` upserted, a fifth patch marker, the refund and
  the pickup notice (two activities), the feed (a local activity), the polling timer replaced by
  the delivery wait.

The activities and local activities take the return's ID and return nothing, with the real
ones' names and timeouts. Started `with_feed`, its hand-overs do what the real ones do to
Temporal: a signal-with-start of `BareFeedWorkflow` (ID `feed-{return ID}`), which gives
Temporal the commands of the real return's `EventFeedWorkflow` on that path (a patch marker
and its upsert, one delivery activity per hand-over, doing nothing) and then waits, as a real
feed waits for its return to end; without, no feed is started. The bare return then completes,
where a real return waits for the delivery. Its search attributes are the real ones, so that
visibility does the same writes. Its clocks are started and replaced where the real ones are,
whenever the messages come: its player sends the choice as soon as it has started it (no
customer waits for an email), so the update is accepted in a workflow task the return has
anyway, where a real return's customer wakes it once more. The worker runs in a process of its
own (`run_worker`), with the stack's data converter and workflow sandbox, on a task queue of
its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    RawValue,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

with workflow.unsafe.imports_passed_through():
    from domain import search_attributes as sa
    from domain.events import RetractEvent
    from domain.returns import ReturnStage
    from domain.timings import ReturnTimings
    from workflows import policies

TASK_QUEUE = "bare-returns"
CHOOSE = "choose_return_method"
SCANS = "carrier_scans"
"""The update and the signal, named as the real return's."""
CARRIER = "sandbox"
TRACKING_NUMBER = "SB000000000FR"
"""A tracking number of the sandbox carrier's shape (UPU S10)."""
PATCHES = (
    "bare-intake",
    "bare-label-prices",
    "bare-refund-ahead",
    "bare-event-feed",
    "bare-follow-parcel",
)
"""Patch IDs of its own: each `patched` records the marker and upsert a real patch does."""
FEED_PATCH = "bare-feed-delivery-batches"
"""The bare feed's, as the real feed's `feed-delivery-batches`."""
EXPIRY_WAIT = dt.timedelta(days=18)
POLLING_WAIT = dt.timedelta(hours=22)
DELIVERY_WAIT = dt.timedelta(days=21)
"""The three clocks the happy path sets, about as long: none of them fires."""


@activity.defn(name="take_in")
async def take_in(return_id: str) -> None:
    """The intake's lookups (a local activity)."""


DELIVERY_ATTEMPTS = 12
"""A subscriber's attempts per delivery, the setting's default."""
HAND_OVERS = 3
"""The event feed's hand-overs on the path: after the address email, the label, the scan."""


@activity.defn(name="deliver_events")
async def deliver_events(return_id: str) -> None:
    """A batch of events to the subscriber."""


@activity.defn(name="price_return_labels")
async def price_return_labels(return_id: str) -> None:
    """The carriers' label prices."""


@activity.defn(name="send_notices")
async def send_notices(return_id: str) -> None:
    """A batch of emails."""


@activity.defn(name="create_return_label")
async def create_return_label(return_id: str) -> None:
    """The label bought on the carrier."""


@activity.defn(name="book_mailbox_pickup")
async def book_mailbox_pickup(return_id: str) -> None:
    """The mailbox pickup booked on the carrier."""


@activity.defn(name="request_refund")
async def request_refund(return_id: str) -> None:
    """The refund requested from the order service."""


ACTIVITIES = (
    take_in,
    price_return_labels,
    send_notices,
    create_return_label,
    book_mailbox_pickup,
    request_refund,
    deliver_events,
)
"""The activities besides the hand-over (`FeedHandOver`, which needs a client)."""


PUBLISH = "publish"
"""The signal of the hand-over, named as the real feed's."""


def bare_feed_id(return_id: str) -> str:
    """Named as a real return's feed is (`workflows.event_feed.feed_id`, which this workflow
    module does not import: the workflow sandbox would import it again for every bare run)."""
    return f"feed-{return_id}"


@workflow.defn
class BareFeedWorkflow:
    """A return's event feed on the happy path: each hand-over (a `publish` signal) delivered
    by one activity, after the one before it; then it waits, as a real feed waits for its
    return to end."""

    def __init__(self) -> None:
        self._published = 0
        self._delivered = 0

    @workflow.run
    async def run(self) -> None:
        feed = workflow.info().workflow_id
        workflow.patched(FEED_PATCH)
        policy = policies.feed_delivery(DELIVERY_ATTEMPTS)
        while self._delivered < HAND_OVERS:
            await workflow.wait_condition(lambda: self._published > self._delivered)
            await workflow.execute_activity(deliver_events, feed, **policy.options())
            self._delivered += 1
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name=PUBLISH)
    def publish(self, return_id: str) -> None:
        self._published += 1


class FeedHandOver:
    """The hand-over to the event feed (a local activity), with the worker's client."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name="publish_events")
    async def publish_events(self, hand_over: list[Any]) -> None:
        """`[return ID, with its feed]`: signal the return's bare feed, starting it if need
        be, as the real hand-over does; nothing without its feed."""
        return_id, with_feed = hand_over
        if not with_feed:
            return
        await self._client.start_workflow(
            # By name, as `start_bare` starts the bare return.
            BareFeedWorkflow.__name__,
            id=bare_feed_id(return_id),
            task_queue=activity.info().task_queue,
            start_signal=PUBLISH,
            start_signal_args=[return_id],
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"event feed of {return_id}",
        )


@workflow.defn
class BareReturnWorkflow:
    def __init__(self) -> None:
        self._chosen = False
        self._booked = False
        self._scanned = False

    @workflow.run
    async def run(self, event: RawValue, with_feed: bool = False) -> str:
        return_id = workflow.info().workflow_id
        hand_over = [return_id, with_feed]
        workflow.patched(PATCHES[0])
        workflow.patched(PATCHES[1])
        workflow.patched(PATCHES[2])
        await self._local(take_in, return_id, policies.LOOKUP)
        await self._activity(price_return_labels, return_id, policies.LABEL_PRICES)
        _upsert(stage=ReturnStage.AWAITING_CUSTOMER_CHOICE)
        await self._activity(send_notices, return_id, policies.NOTICE)
        workflow.patched(PATCHES[3])
        await self._local(FeedHandOver.publish_events, hand_over, policies.FEED_PUBLISH)
        clock = _start_timer(EXPIRY_WAIT)
        await workflow.wait_condition(lambda: self._chosen)

        # The choice's carrier calls, all of them within the bound a real choice has.
        within = ReturnTimings().carrier_answer_within
        await self._activity(create_return_label, return_id, policies.CARRIER, within)
        await self._activity(book_mailbox_pickup, return_id, policies.CARRIER, within)
        _upsert(stage=ReturnStage.AWAITING_PICKUP, carrier=CARRIER, tracking=TRACKING_NUMBER)
        self._booked = True  # the update answers as the label email is scheduled
        await self._activity(send_notices, return_id, policies.NOTICE)
        await self._local(FeedHandOver.publish_events, hand_over, policies.FEED_PUBLISH)
        clock.cancel()
        clock = _start_timer(POLLING_WAIT)
        await workflow.wait_condition(lambda: self._scanned)

        _upsert(stage=ReturnStage.PICKED_UP)
        workflow.patched(PATCHES[4])
        await self._activity(request_refund, return_id, policies.ORDER_SERVICE)
        await self._activity(send_notices, return_id, policies.NOTICE)
        await self._local(FeedHandOver.publish_events, hand_over, policies.FEED_PUBLISH)
        clock.cancel()
        _start_timer(DELIVERY_WAIT)
        # One turn of the loop, so that the delivery wait's timer is started with the end.
        await workflow.wait_condition(lambda: True)
        return return_id

    @workflow.update(name=CHOOSE)
    async def choose_return_method(self, choice: RawValue) -> str:
        self._chosen = True
        await workflow.wait_condition(lambda: self._booked)
        return ReturnStage.AWAITING_PICKUP.value

    @workflow.signal(name=SCANS)
    def carrier_scans(self, report: RawValue) -> None:
        self._scanned = True

    @staticmethod
    async def _activity(
        run: Any,
        return_id: str,
        policy: policies.ActivityPolicy,
        within: dt.timedelta | None = None,
    ) -> None:
        await workflow.execute_activity(
            run,
            return_id,
            **(
                policy.options()
                if within is None
                else policy.options(schedule_to_close_timeout=within)
            ),
        )

    @staticmethod
    async def _local(run: Any, arg: Any, policy: policies.ActivityPolicy) -> None:
        await workflow.execute_local_activity(
            run,
            arg,
            start_to_close_timeout=policy.start_to_close_timeout,
            retry_policy=policy.retry_policy,
        )


def _start_timer(duration: dt.timedelta) -> asyncio.Task[None]:
    """A clock as the run loop keeps one: started now, cancelled when the next clock changes
    (not when a message arrives), so it lasts at least one workflow task."""
    return asyncio.create_task(workflow.sleep(duration))


def _upsert(*, stage: ReturnStage, carrier: str | None = None, tracking: str | None = None) -> None:
    updates = [sa.RETURN_STAGE.value_set(stage.value)]
    if carrier is not None:
        updates.append(sa.CARRIER.value_set(carrier))
    if tracking is not None:
        updates.append(sa.TRACKING_NUMBER.value_set(tracking))
    workflow.upsert_search_attributes(updates)


async def start_bare(
    client: Client, event: RetractEvent, ship_by: dt.datetime, *, with_feed: bool = False
) -> WorkflowHandle[Any, Any]:
    """Start the bare return of `event` as the gateway starts a real one: the withdrawal event
    as its input, the same search attributes with the start; `with_feed`, its hand-overs
    start and signal its bare event feed."""
    order = event.order
    return await client.start_workflow(
        # By name, as the gateway starts a real return: the workflow takes its input raw.
        BareReturnWorkflow.__name__,
        args=[event, with_feed],
        id=f"bare-{order.order_id}-{order.line_id}",
        task_queue=TASK_QUEUE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.RETURN_STAGE, ReturnStage.CHECKING_ELIGIBILITY.value),
                SearchAttributePair(sa.ORDER_ID, order.order_id),
                SearchAttributePair(sa.SELLER_ID, order.seller_id),
                SearchAttributePair(sa.SHIP_BY, ship_by),
                SearchAttributePair(sa.NEEDS_ATTENTION, False),
            ]
        ),
    )


async def run_worker() -> None:
    """The bare returns' worker, configured as the real worker is (environment, payload keys,
    sandbox), until SIGTERM or SIGINT."""
    from temporalio.worker import Worker

    from plumbing import bytecode, keepalive, temporal
    from plumbing.settings import Settings
    from worker import SANDBOXED, worker_tuning, workflow_runner

    bytecode.compile_for_sandbox([*SANDBOXED, "benchmarks.bare_return"])
    client = await temporal.connect()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[BareReturnWorkflow, BareFeedWorkflow],
        activities=[*ACTIVITIES, FeedHandOver(client).publish_events],
        workflow_runner=workflow_runner(),
        **keepalive.worker_options(),
        **worker_tuning(Settings()),
    )
    async with worker:
        await stop.wait()


if __name__ == "__main__":
    from plumbing.temporal import exit_process

    asyncio.run(run_worker())
    exit_process(0)
