"""A subscriber's next events in one activity, over real HTTP: each posted in sequence as its own
signed webhook; a failure on the first fails the activity (retried, then parked by the feed), a
failure further on ends the batch with the events acknowledged before it, and a batch ends in time
for its activity's timeout."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.feed.activities import BATCH_ENDS_BY, TIME_SPENT, FeedActivities
from domain.failures import FailureType
from domain.feed import BatchDelivered, DeliveryBatch, FeedEvent
from plumbing.subscribers import Subscriber
from tests.activities.feed.delivery_test import SECRET, STARTED
from tests.marketplace import Sandbox, marketplace_sandbox
from workflows import policies


def events(count: int) -> list[FeedEvent]:
    """The return's first `count` events (the started event, numbered on)."""
    return [
        FeedEvent(
            data=STARTED.data.model_copy(update={"sequence": n, "event_id": f"return-ORD-1-1:{n}"})
        )
        for n in range(1, count + 1)
    ]


def feed_to(url: str, **options: object) -> FeedActivities:
    return FeedActivities(
        {"crm": Subscriber("crm", url, (SECRET,), True)},
        timeout_seconds=2,
        **options,  # type: ignore[arg-type]
    )


async def deliver(feed: FeedActivities, batch: list[FeedEvent]) -> BatchDelivered:
    try:
        outcome: BatchDelivered = await ActivityEnvironment().run(
            feed.deliver_events, DeliveryBatch(subscriber="crm", events=batch)
        )
        return outcome
    finally:
        await feed.aclose()


@asynccontextmanager
async def subscriber_answering(
    statuses: Iterator[int], *, trickle: bool = False
) -> AsyncIterator[tuple[str, list[str]]]:
    """A subscriber on a real socket that answers each POST with the next status, and the
    webhook-ids it was sent, in order. With `trickle`, an answer with a body (200) sends its
    ten bytes one a second."""
    seen: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                lines = head.split("\r\n")[1:]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (ln.split(":", 1) for ln in lines if ln)
                }
                await reader.readexactly(int(headers.get("content-length", "0")))
                seen.append(headers["webhook-id"])
                status = next(statuses)
                body = b"0123456789" if status == 200 else b""
                head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n\r\n"
                writer.write(head.encode())
                await writer.drain()
                for byte in body:
                    if trickle:
                        await asyncio.sleep(1)
                    writer.write(bytes([byte]))
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/webhooks/crm", seen


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with marketplace_sandbox(tmp_path, webhook_secrets=[SECRET]) as running:
        yield running


async def test_a_batch_posts_each_event_signed_in_sequence(sandbox: Sandbox) -> None:
    outcome = await deliver(feed_to(f"{sandbox.url}/webhooks/crm"), events(3))

    assert outcome == BatchDelivered(delivered=3)
    got = await sandbox.recorded("events?subscriber=crm")
    assert [g["webhook_id"] for g in got] == [f"return-ORD-1-1:{n}" for n in (1, 2, 3)]
    [report] = await sandbox.recorded("feed")
    assert report["received"] == 3 and report["duplicates"] == 0 and report["in_sequence"]


async def test_a_failure_further_on_ends_the_batch_with_the_events_before_it() -> None:
    async with subscriber_answering(iter([204, 204, 503])) as (url, seen):
        outcome = await deliver(feed_to(url), events(5))

    assert outcome.delivered == 2 and outcome.stopped_by is not None
    assert "503" in outcome.stopped_by
    assert seen == ["return-ORD-1-1:1", "return-ORD-1-1:2", "return-ORD-1-1:3"]


async def test_a_failure_on_the_first_event_fails_the_activity_as_one_delivery_does() -> None:
    async with subscriber_answering(itertools.repeat(410)) as (url, seen):
        with pytest.raises(ApplicationError) as raised:
            await deliver(feed_to(url), events(3))

    assert raised.value.type == FailureType.FEED_SUBSCRIBER_REJECTED
    assert raised.value.non_retryable and seen == ["return-ORD-1-1:1"]


async def test_a_batch_starts_no_post_once_its_time_is_spent(sandbox: Sandbox) -> None:
    ticks = itertools.count(0.0, 6.0)  # each post seems to take 6 s

    outcome = await deliver(
        feed_to(f"{sandbox.url}/webhooks/crm", monotonic=lambda: next(ticks)), events(5)
    )

    # 2 s of timeout a post: a batch starts none after 23 s, and ends by 25 s.
    assert BATCH_ENDS_BY == 25.0
    assert outcome.delivered == 4 and outcome.stopped_by == TIME_SPENT
    assert len(await sandbox.recorded("events?subscriber=crm")) == 4


def test_a_batch_ends_inside_its_activitys_start_to_close_timeout() -> None:
    policy = policies.feed_delivery(attempts=12)

    assert policy.start_to_close_timeout is not None
    assert policy.start_to_close_timeout.total_seconds() > BATCH_ENDS_BY


async def test_a_post_trickling_past_the_batchs_end_is_cut_off_there() -> None:
    # The second answer comes a byte a second: each read is within the post's own timeout
    # (2 s), the whole of it is not within the batch's time (3 s).
    async with subscriber_answering(iter([204, 200]), trickle=True) as (url, seen):
        began = time.monotonic()
        outcome = await deliver(feed_to(url, batch_ends_by=3.0), events(3))
        took = time.monotonic() - began

    assert outcome == BatchDelivered(delivered=1, stopped_by=TIME_SPENT)
    assert seen == ["return-ORD-1-1:1", "return-ORD-1-1:2"] and took < 5


async def test_a_first_post_trickling_past_the_batchs_end_is_cut_off_there_and_retried() -> None:
    # Its own deadline is twice the post's timeout (4 s): the batch's (1.5 s) comes first, and
    # the activity is failed as unavailable (retried) before its start-to-close timeout.
    async with subscriber_answering(iter([200]), trickle=True) as (url, seen):
        began = time.monotonic()
        with pytest.raises(ApplicationError) as failed:
            await deliver(feed_to(url, batch_ends_by=1.5), events(2))
        took = time.monotonic() - began

    assert failed.value.type == FailureType.FEED_SUBSCRIBER_UNAVAILABLE
    assert "within 1.5s" in failed.value.message
    assert seen == ["return-ORD-1-1:1"] and took < 3


async def test_any_failure_after_the_first_event_ends_the_batch_with_those_before() -> None:
    posted: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        posted.append(request.headers["webhook-id"])
        if len(posted) == 2:
            raise RuntimeError("the subscriber's answer could not be read")
        return httpx.Response(204)

    feed = feed_to("https://crm.example/webhooks", transport=httpx.MockTransport(answer))
    outcome = await deliver(feed, events(3))

    assert outcome == BatchDelivered(delivered=1, stopped_by="RuntimeError")
    assert posted == ["return-ORD-1-1:1", "return-ORD-1-1:2"]
