"""The event feed: each return tells its subscribers what happens to it, every event once
acknowledged, in sequence, each subscriber at its own pace; a delivery that keeps failing is
parked for operations, who replay it once the subscriber is fixed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

import starter
from activities.feed.activities import FeedActivities
from client import feed_commands
from domain import search_attributes as sa
from domain.failures import FailureType
from domain.feed import (
    Accepted,
    AddressSent,
    BatchDelivered,
    FeedEvent,
    FeedEventType,
    FeedNews,
    FeedStart,
    FeedView,
    ReplayRequest,
)
from domain.feed_plan import FeedPlan
from domain.returns import ReturnStage
from plumbing.standard_webhooks import make_secret
from plumbing.subscribers import Subscriber
from starter import EVENT_SCHEMAS
from tests.histories.scenarios import SCENARIOS
from tests.marketplace import marketplace_sandbox
from tests.workflows.doubles import Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, return_harness
from workflows.event_feed import EventFeedWorkflow, feed_id

T = FeedEventType
HAPPY_PATH = [
    T.STARTED,
    T.ACCEPTED,
    T.ADDRESS_SENT,
    T.METHOD_CHOSEN,
    T.LABEL_CREATED,
    T.PICKUP_BOOKED,
    T.PICKED_UP,
    T.REFUND_REQUESTED,
    T.DELIVERED,
]
SECRET = make_secret(b"feed-secret-for-the-tests-0123")


def feed_of(
    env: WorkflowEnvironment, return_id: str
) -> WorkflowHandle[EventFeedWorkflow, FeedView]:
    return env.client.get_workflow_handle_for(EventFeedWorkflow.run, feed_id(return_id))


async def until(check: object, within: float = 15) -> None:
    async with asyncio.timeout(within):
        while not await check():  # type: ignore[operator]
            await asyncio.sleep(0.1)


async def test_every_subscriber_receives_the_returns_events_in_sequence(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(feed=FeedPlan(subscribers=["marketplace", "analytics"]))
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await SCENARIOS["happy_mailbox_pickup"].drive(harness, time_skipping_env)
        view = await feed_of(time_skipping_env, handle.id).result()

    for subscriber in ("marketplace", "analytics"):
        got = doubles.delivered_to(subscriber)
        assert [sequence for sequence, _ in got] == list(range(1, len(got) + 1))
        assert [kind for _, kind in got] == HAPPY_PATH
    assert view.ended and view.published == len(HAPPY_PATH)
    assert all(s.delivered == len(HAPPY_PATH) and s.parked is None for s in view.subscribers)


async def deliveries_in(feed: WorkflowHandle[EventFeedWorkflow, FeedView]) -> list[str]:
    """The activities the feed scheduled, by type, in order."""
    history = await feed.fetch_history()
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]


async def test_each_steps_events_reach_a_subscriber_in_one_delivery(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(feed=FeedPlan(subscribers=["marketplace"]))
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await SCENARIOS["happy_mailbox_pickup"].drive(harness, time_skipping_env)
        feed = feed_of(time_skipping_env, handle.id)
        await feed.result()
        scheduled = await deliveries_in(feed)

    assert [kind for _, kind in doubles.delivered_to("marketplace")] == HAPPY_PATH
    # The intake's three events, the choice's three, the scans' two, the delivery: 4 batches
    # (3 when two steps' events arrive while one batch is out), not 9 deliveries.
    assert set(scheduled) == {"deliver_events"} and 3 <= len(scheduled) <= 4


async def test_a_batch_cut_short_goes_on_from_the_first_event_not_acknowledged(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    failed: set[str] = set()

    def faults(activity: str, key: str) -> ApplicationError | None:
        # The subscriber fails once on the third event (the address sent), then takes it.
        if activity == "deliver_event" and key.endswith(":3") and key not in failed:
            failed.add(key)
            return ApplicationError(
                "subscriber HTTP 503", type=FailureType.FEED_SUBSCRIBER_UNAVAILABLE
            )
        return None

    doubles = Doubles(feed=FeedPlan(subscribers=["marketplace"]), faults=faults)
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await SCENARIOS["happy_mailbox_pickup"].drive(harness, time_skipping_env)
        view = await feed_of(time_skipping_env, handle.id).result()

    got = doubles.delivered_to("marketplace")
    assert [sequence for sequence, _ in got] == list(range(1, len(HAPPY_PATH) + 1))
    assert [kind for _, kind in got] == HAPPY_PATH
    assert doubles.cut_short == [BatchDelivered(delivered=2, stopped_by="subscriber HTTP 503")]
    assert view.subscribers[0].delivered == len(HAPPY_PATH) and view.subscribers[0].parked is None


async def test_a_return_started_again_goes_on_in_the_same_feed_numbered_on(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Its first run was terminated after three events; the run started again under the same ID
    numbers its own from 1: the feed tells them as 4 and 5, so no number is told twice."""
    env = time_skipping_env
    doubles = Doubles(feed=FeedPlan(subscribers=["marketplace"]))
    async with return_harness(env.client, doubles) as harness:
        first = await SCENARIOS["happy_mailbox_pickup"].drive(harness, env)
        view = await feed_of(env, first.id).result()
        told = [d.event for d in doubles.delivered]
        plan = FeedPlan(subscribers=["marketplace"])

        async def news(run: str, events: list[FeedEvent], ended: bool) -> None:
            await env.client.start_workflow(
                EventFeedWorkflow.run,
                FeedStart(return_id="return-AGAIN-1", run_id=run, plan=plan),
                id=feed_id("return-AGAIN-1"),
                task_queue=harness.settings.task_queue,
                start_signal="publish",
                start_signal_args=[
                    FeedNews(
                        start=FeedStart(return_id="return-AGAIN-1", run_id=run, plan=plan),
                        events=events,
                        published=events[-1].sequence,
                        ended=ended,
                    )
                ],
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )

        doubles.delivered.clear()
        await news("run-1", told[:3], ended=False)
        await news("run-2", told[:2], ended=True)
        again = await feed_of(env, "return-AGAIN-1").result()

    assert view.published == len(HAPPY_PATH)
    got = [(d.event.sequence, d.event.event_id) for d in doubles.delivered]
    assert got == [(n, f"return-AGAIN-1:{n}") for n in range(1, 6)]
    assert [d.event.data.type for d in doubles.delivered][3:] == HAPPY_PATH[:2]
    assert again.published == 5 and again.subscribers[0].delivered == 5


async def test_a_return_reset_after_it_ended_goes_on_in_a_feed_still_delivering(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The first run ended while its subscriber was slow; operations reset the return, and the
    new run's events follow in the same feed, which completes only when that run ends."""
    env = time_skipping_env
    plan = FeedPlan(subscribers=["marketplace"])
    doubles = Doubles(feed=plan)
    slow = asyncio.Event()
    async with return_harness(env.client, doubles) as harness:
        ended = await SCENARIOS["happy_mailbox_pickup"].drive(harness, env)
        await feed_of(env, ended.id).result()
        told = [d.event for d in doubles.delivered]
        doubles.hold["deliver_event"] = slow
        return_id = "return-RESET-1"
        feed = feed_of(env, return_id)

        async def news(run: str, events: list[FeedEvent], ended: bool) -> None:
            start = FeedStart(return_id=return_id, run_id=run, plan=plan)
            await env.client.start_workflow(
                EventFeedWorkflow.run,
                start,
                id=feed_id(return_id),
                task_queue=harness.settings.task_queue,
                start_signal="publish",
                start_signal_args=[
                    FeedNews(start=start, events=events, published=events[-1].sequence, ended=ended)
                ],
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )

        doubles.delivered.clear()
        await news("run-1", told[:2], ended=True)  # ended, its deliveries held up
        await news("run-2", told[2:3], ended=False)  # the run reset after the second event
        slow.set()

        async def caught_up() -> bool:
            view = await feed.query(EventFeedWorkflow.view)
            return view.subscribers[0].delivered == 3

        await until(caught_up)
        await asyncio.sleep(1)
        still = await feed.describe()
        await news("run-2", told[3:4], ended=True)
        done = await feed.result()

    assert still.status is WorkflowExecutionStatus.RUNNING  # caught up, but run 2 goes on
    assert done.ended and done.published == 4 and done.subscribers[0].delivered == 4
    assert [d.event.sequence for d in doubles.delivered] == [1, 2, 3, 4]


async def test_an_address_sent_late_tells_the_subscriber_the_deadline_that_counts(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The seller gave no address for days: the customer's 14 days run from when they got it,
    later than the deadline `return.accepted` told. `return.address_sent` tells the new one."""
    scenario = SCENARIOS["seller_silent_escalated"]
    doubles = scenario.doubles()
    doubles.feed = FeedPlan(subscribers=["marketplace"])
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await scenario.drive(harness, time_skipping_env)
        await feed_of(time_skipping_env, handle.id).result()
        status = await handle.result()

    events = [d.event.data for d in doubles.delivered]
    accepted = next(e for e in events if isinstance(e, Accepted))
    sent = next(e for e in events if isinstance(e, AddressSent))
    assert accepted.ship_by < status.ship_by
    assert sent.ship_by == status.ship_by


async def test_a_return_without_subscribers_starts_no_feed(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles()
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await SCENARIOS["rejected"].drive(harness, time_skipping_env)
        history = await handle.fetch_history()

    assert doubles.delivered == []
    assert "EventFeedWorkflow" not in history.to_json()


async def test_a_refused_delivery_is_parked_until_operations_replay_it_and_others_go_on(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    refusing = {"on": True}

    def faults(activity: str, key: str) -> ApplicationError | None:
        if activity == "deliver_event" and key.startswith("analytics:") and refusing["on"]:
            return ApplicationError(
                "subscriber analytics HTTP 410", type=FailureType.FEED_SUBSCRIBER_REJECTED,
                non_retryable=True,
            )  # fmt: skip
        return None

    doubles = Doubles(feed=FeedPlan(subscribers=["analytics", "marketplace"]), faults=faults)
    env = time_skipping_env
    async with return_harness(env.client, doubles) as harness:
        handle = await SCENARIOS["happy_mailbox_pickup"].drive(harness, env)
        feed = feed_of(env, handle.id)

        async def parked() -> bool:
            view = await feed.query(EventFeedWorkflow.view)
            described = await feed.describe()
            marked = described.typed_search_attributes.get(sa.FEED_PARKED)
            return bool(view.ended and view.subscribers[0].parked and marked)

        await until(parked)
        view = await feed.query(EventFeedWorkflow.view)
        with pytest.raises(WorkflowUpdateFailedError) as nothing_parked:
            await feed.execute_update(
                EventFeedWorkflow.replay, ReplayRequest(subscriber="marketplace", by="ops:ana")
            )
        refusing["on"] = False
        replayed = await feed.execute_update(
            EventFeedWorkflow.replay, ReplayRequest(subscriber="analytics", by="ops:ana")
        )
        done = await feed.result()
        described = await feed.describe()

    analytics, marketplace = view.subscribers
    assert analytics.parked is not None and analytics.delivered == 0
    assert analytics.parked.sequence == 1 and analytics.parked.type is T.STARTED
    assert "HTTP 410" in analytics.parked.reason
    assert marketplace.delivered == len(HAPPY_PATH)  # not held up by the other
    assert "no delivery to marketplace is parked" in str(nothing_parked.value.cause)
    assert replayed.from_sequence == 1
    assert [kind for _, kind in doubles.delivered_to("analytics")] == HAPPY_PATH
    assert all(s.delivered == len(HAPPY_PATH) for s in done.subscribers)
    assert described.typed_search_attributes.get(sa.FEED_PARKED) is False


async def test_over_http_a_faulty_subscriber_still_gets_every_event_in_sequence(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with marketplace_sandbox(tmp_path, webhook_secrets=[SECRET]) as sandbox:
        await sandbox.faults(error_rate=0.3, error_status=503, retry_after_seconds=0, seed=11)
        subscribers = {
            name: Subscriber(name, f"{sandbox.url}/webhooks/{name}", (SECRET,), personal)
            for name, personal in (("marketplace", True), ("analytics", False))
        }
        feed = FeedActivities(subscribers, timeout_seconds=5)
        doubles = Doubles(feed=FeedPlan(subscribers=sorted(subscribers), attempts=20))
        env = time_skipping_env
        async with return_harness(env.client, doubles, feed=feed) as harness:
            handle = await SCENARIOS["happy_mailbox_pickup"].drive(harness, env)
            await feed_of(env, handle.id).result()
        await feed.aclose()
        report = await sandbox.recorded("feed")
        started = await sandbox.recorded("events?subscriber=marketplace")
        private = await sandbox.recorded("events?subscriber=analytics")

    assert {(r["subscriber"], r["in_sequence"]) for r in report} == {
        ("analytics", True),
        ("marketplace", True),
    }
    assert all(r["sequences"] == list(range(1, len(HAPPY_PATH) + 1)) for r in report)
    assert sum(r["duplicates"] for r in report) > 0  # answers lost after the work: sent again
    assert "customer" in started[0]["data"]
    assert all("customer" not in e["data"] and "pickup_address" not in e["data"] for e in private)
    assert started[0]["data"]["stage"] == ReturnStage.CHECKING_ELIGIBILITY
    for received in started + private:  # every body as its type's published schema says
        body = {k: received[k] for k in ("type", "timestamp", "data")}
        schema = json.loads((EVENT_SCHEMAS / f"{received['type']}.json").read_text())
        jsonschema_rs.validate(schema, body)


def feed_command_line(
    env: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Awaitable[str]]:
    """`python starter.py feed ARGS` against the test's Temporal: what it printed."""
    parser = starter.parser()

    async def connect() -> Client:
        return env.client

    async def feed_command(*argv: str) -> str:
        await feed_commands.run(parser.parse_args(["feed", *argv]), connect)
        return capsys.readouterr().out

    return feed_command


async def parked_and_listed(
    env: WorkflowEnvironment, harness: ReturnHarness, feed_command: Callable[..., Awaitable[str]]
) -> ReturnHandle:
    """A happy-path return whose feed's delivery to `analytics` is parked, once `feed parked`
    lists it."""
    handle = await SCENARIOS["happy_mailbox_pickup"].drive(harness, env)

    async def listed() -> bool:
        return handle.id in await feed_command("parked")

    await until(listed)
    return handle


async def test_operations_list_a_parked_delivery_and_replay_it_from_the_command_line(
    time_skipping_env: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    env = time_skipping_env
    doubles = SCENARIOS["event_feed_parked_and_replayed"].doubles()
    feed_command = feed_command_line(env, capsys)

    async with return_harness(env.client, doubles) as harness:
        handle = await parked_and_listed(env, harness, feed_command)
        ref = handle.id.removeprefix("return-")
        parked = await feed_command("parked")
        with pytest.raises(feed_commands.FeedCommandError) as nothing_parked:
            await feed_command("replay", ref, "--subscriber", "marketplace", "--by", "ops:ana")
        doubles.faults = None
        replayed = await feed_command(
            "replay", ref, "--subscriber", "analytics", "--by", "operations:ana"
        )
        await feed_of(env, handle.id).result()
        shown = await feed_command("show", ref)

    [line] = [row for row in parked.splitlines() if handle.id in row]
    assert "analytics  #1 return.started" in line and "HTTP 410" in line
    assert "no delivery to marketplace is parked" in str(nothing_parked.value)
    assert "replaying analytics's deliveries from #1" in replayed
    assert f"analytics: {len(HAPPY_PATH)} of {len(HAPPY_PATH)} delivered" in shown
    assert "marketplace: 9 of 9 delivered" in shown and "PARKED" not in shown


async def test_a_parked_feed_operations_terminated_is_no_longer_listed(
    time_skipping_env: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    env = time_skipping_env
    doubles = SCENARIOS["event_feed_parked_and_replayed"].doubles()
    feed_command = feed_command_line(env, capsys)

    async def parked() -> str:
        return await feed_command("parked")

    async with return_harness(env.client, doubles) as harness:
        handle = await SCENARIOS["happy_mailbox_pickup"].drive(harness, env)

        async def listed() -> bool:
            return handle.id in await parked()

        await until(listed)
        await feed_of(env, handle.id).terminate("the subscriber is gone for good")

        async def no_longer_listed() -> bool:
            return handle.id not in await parked()

        await until(no_longer_listed)  # fails here if it stays listed


async def test_a_parked_feed_that_cannot_be_read_is_said_and_the_others_still_listed_or_shown(
    time_skipping_env: WorkflowEnvironment,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = time_skipping_env
    doubles = SCENARIOS["event_feed_parked_and_replayed"].doubles()
    feed_command = feed_command_line(env, capsys)
    async with return_harness(env.client, doubles) as harness:
        first = await parked_and_listed(env, harness, feed_command)
        second = await parked_and_listed(env, harness, feed_command)
        # The first's feed is on a build no worker runs any more: Temporal cannot query it.
        query = WorkflowHandle.query

        async def no_worker_for_the_first(
            handle: WorkflowHandle[Any, Any], *args: Any, **kw: Any
        ) -> Any:
            if handle.id == feed_id(first.id):
                raise RPCError(
                    "no poller seen for task queue recently", RPCStatusCode.FAILED_PRECONDITION, b""
                )
            return await query(handle, *args, **kw)

        monkeypatch.setattr(WorkflowHandle, "query", no_worker_for_the_first)
        parser = starter.parser()

        async def connect() -> Client:
            return env.client

        status = await feed_commands.run(parser.parse_args(["feed", "parked"]), connect)
        said = capsys.readouterr()
        with pytest.raises(feed_commands.FeedCommandError) as unread:
            await feed_commands.run(parser.parse_args(["feed", "show", first.id]), connect)
        monkeypatch.undo()
        for ended in (first, second):  # no parked feed left for the tests after
            await feed_of(env, ended.id).terminate("test over")

    assert status == 1
    assert f"{feed_id(first.id)}: not read: no poller seen" in said.err
    assert str(unread.value) == (
        f"the event feed of {first.id!r} cannot be read (no poller seen for task queue recently)"
    )
    assert second.id in said.out and first.id not in said.out


async def test_operations_take_a_subscriber_removed_for_good_off_a_feed_and_it_ends(
    time_skipping_env: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    env = time_skipping_env
    doubles = SCENARIOS["event_feed_parked_and_replayed"].doubles()
    feed_command = feed_command_line(env, capsys)

    async with return_harness(env.client, doubles) as harness:
        handle = await parked_and_listed(env, harness, feed_command)
        ref = handle.id.removeprefix("return-")
        with pytest.raises(feed_commands.FeedCommandError) as not_parked:
            await feed_command(
                "forget", ref, "--subscriber", "marketplace", "--by", "operations:ana",
                "--reason", "gone",
            )  # fmt: skip
        forgotten = await feed_command(
            "forget", ref, "--subscriber", "analytics", "--by", "operations:ana",
            "--reason", "the BI endpoint was retired",
        )  # fmt: skip
        view = await feed_of(env, handle.id).result()
        listed_after = await feed_command("parked")

    assert "marketplace's deliveries are not parked" in str(not_parked.value)
    assert "analytics: 0 of" in forgotten
    assert "taken off by operations:ana: the BI endpoint was retired" in forgotten
    by_name = {s.subscriber: s for s in view.subscribers}
    assert by_name["marketplace"].delivered == view.published and view.ended
    assert by_name["analytics"].parked is None and by_name["analytics"].forgotten is not None
    assert handle.id not in listed_after
