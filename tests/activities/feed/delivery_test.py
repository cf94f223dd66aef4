"""One event to one subscriber over real HTTP (the marketplace sandbox as the subscriber): signed
as Standard Webhooks, the same webhook-id on every delivery, personal fields only for whom they
are configured, and every answer classified as docs/event-feed.md says."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.feed.activities import FeedActivities
from activities.marketplace_http import error_code, error_message
from domain.events import DeviceCategory
from domain.failures import FailureType
from domain.feed import (
    CustomerContact,
    Delivery,
    DeliveryOutcome,
    FeedEvent,
    Started,
    webhook_body,
)
from domain.returns import ReturnStage
from plumbing.standard_webhooks import make_secret, signed_headers
from plumbing.subscribers import Subscriber
from tests.marketplace import Sandbox, marketplace_sandbox

SECRET = make_secret(b"subscriber-secret-for-tests-01")
AT = dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.UTC)
STARTED = FeedEvent(
    data=Started(
        event_id="return-ORD-1-1:1",
        sequence=1,
        return_id="return-ORD-1-1",
        order_id="ORD-1",
        line_id="1",
        seller_id="SELLER-REFURBPRO",
        stage=ReturnStage.CHECKING_ELIGIBILITY,
        occurred_at=AT,
        product_category=DeviceCategory.SMARTPHONE,
        notice_at=AT,
        customer=CustomerContact(
            customer_id="CUST-1", name="Camille Durand", email="camille@example.org", locale="fr"
        ),
    )
)


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with marketplace_sandbox(tmp_path, webhook_secrets=[SECRET]) as running:
        yield running


def feed_to(**urls: tuple[str, bool, str]) -> FeedActivities:
    """Subscribers by name: (URL, receives personal data, secret)."""
    subscribers = {
        name: Subscriber(name, url, (secret,), personal)
        for name, (url, personal, secret) in urls.items()
    }
    return FeedActivities(subscribers, timeout_seconds=2)


async def deliver(feed: FeedActivities, subscriber: str) -> DeliveryOutcome:
    try:
        outcome: DeliveryOutcome = await ActivityEnvironment().run(
            feed.deliver_event, Delivery(subscriber=subscriber, event=STARTED)
        )
        return outcome
    finally:
        await feed.aclose()


async def failure(feed: FeedActivities, subscriber: str) -> ApplicationError:
    with pytest.raises(ApplicationError) as raised:
        await deliver(feed, subscriber)
    return raised.value


async def test_a_subscriber_with_personal_data_receives_the_whole_event_signed(
    sandbox: Sandbox,
) -> None:
    feed = feed_to(crm=(f"{sandbox.url}/webhooks/crm", True, SECRET))

    assert await deliver(feed, "crm") is DeliveryOutcome.DELIVERED

    [got] = await sandbox.recorded("events?subscriber=crm")
    assert got["webhook_id"] == "return-ORD-1-1:1" and got["type"] == "return.started"
    assert got["data"]["customer"]["email"] == "camille@example.org"


async def test_a_subscriber_without_personal_data_never_sees_the_customer(
    sandbox: Sandbox,
) -> None:
    feed = feed_to(bi=(f"{sandbox.url}/webhooks/bi", False, SECRET))

    await deliver(feed, "bi")

    [got] = await sandbox.recorded("events?subscriber=bi")
    assert "customer" not in got["data"] and "Camille" not in str(got)
    assert got["data"]["product_category"] == "smartphone"


async def test_a_redelivery_carries_the_same_webhook_id_and_is_seen_as_a_duplicate(
    sandbox: Sandbox,
) -> None:
    for _ in range(2):
        await deliver(feed_to(crm=(f"{sandbox.url}/webhooks/crm", True, SECRET)), "crm")

    [report] = await sandbox.recorded("feed")
    assert report["received"] == 2 and report["duplicates"] == 1 and report["in_sequence"]


async def test_a_redelivery_to_a_restarted_sandbox_is_still_seen_as_a_duplicate(
    tmp_path: Path,
) -> None:
    for _ in range(2):  # the sandbox stops between the deliveries, its directory kept
        async with marketplace_sandbox(tmp_path, webhook_secrets=[SECRET]) as sandbox:
            await deliver(feed_to(crm=(f"{sandbox.url}/webhooks/crm", True, SECRET)), "crm")
            [report] = await sandbox.recorded("feed")

    assert report["received"] == 2 and report["duplicates"] == 1 and report["in_sequence"]


async def test_a_signature_the_subscriber_cannot_check_is_refused_for_good(
    sandbox: Sandbox,
) -> None:
    other = make_secret(b"not-the-subscribers-secret-0")
    feed = feed_to(crm=(f"{sandbox.url}/webhooks/crm", True, other))

    err = await failure(feed, "crm")

    assert err.type == FailureType.FEED_SUBSCRIBER_REJECTED and err.non_retryable
    assert "401" in err.message and await sandbox.recorded("events") == []


async def test_an_unknown_endpoint_is_refused_for_good(sandbox: Sandbox) -> None:
    err = await failure(feed_to(crm=(f"{sandbox.url}/nowhere", True, SECRET)), "crm")

    assert err.type == FailureType.FEED_SUBSCRIBER_REJECTED and "404" in err.message


async def test_a_rate_limited_delivery_is_retried_after_the_time_asked(sandbox: Sandbox) -> None:
    await sandbox.faults(rate_limit_rate=1.0, retry_after_seconds=7)

    err = await failure(feed_to(crm=(f"{sandbox.url}/webhooks/crm", True, SECRET)), "crm")

    assert err.type == FailureType.FEED_SUBSCRIBER_UNAVAILABLE and not err.non_retryable
    assert err.next_retry_delay == dt.timedelta(seconds=7)


async def test_a_failing_or_unreachable_subscriber_is_retried(sandbox: Sandbox) -> None:
    await sandbox.faults(error_rate=1.0, error_status=502)

    failing = await failure(feed_to(crm=(f"{sandbox.url}/webhooks/crm", True, SECRET)), "crm")
    gone = await failure(feed_to(crm=("http://127.0.0.1:9/webhooks/crm", True, SECRET)), "crm")

    assert failing.type == gone.type == FailureType.FEED_SUBSCRIBER_UNAVAILABLE
    assert "502" in failing.message and "unreachable" in gone.message


async def test_a_subscriber_this_worker_does_not_know_is_retried_not_dropped(
    sandbox: Sandbox,
) -> None:
    feed = feed_to(crm=(f"{sandbox.url}/webhooks/crm", True, SECRET))

    err = await failure(feed, "retired")

    assert err.type == FailureType.FEED_SUBSCRIBER_UNAVAILABLE and not err.non_retryable
    assert "retired is not in RETURNFLOW_EVENT_SUBSCRIBERS" in err.message
    assert await sandbox.recorded("events") == []


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 answer as the bytes came: its status, its headers (lower-case names) and
    its body, read as far as its Content-Length says (none for a 204)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    length = int(headers.get("content-length", "0"))
    return int(status_line.split()[1]), headers, await reader.readexactly(length)


async def test_a_delivery_is_answered_204_without_a_body_and_the_connection_carries_on(
    sandbox: Sandbox,
) -> None:
    raw = webhook_body(STARTED, personal_data=True).model_dump_json().encode()
    headers = signed_headers([SECRET], STARTED.event_id, raw)
    url = httpx.URL(sandbox.url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        request = (
            f"POST /webhooks/crm HTTP/1.1\r\nHost: {url.host}\r\n"
            "Content-Type: application/json\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            + f"Content-Length: {len(raw)}\r\n\r\n"
        )
        writer.write(request.encode() + raw)
        await writer.drain()
        async with asyncio.timeout(5):
            status, answer_headers, body = await read_answer(reader)
            # The same connection takes the next request: nothing of the 204 is left on it.
            writer.write(f"GET /healthz HTTP/1.1\r\nHost: {url.host}\r\n\r\n".encode())
            await writer.drain()
            next_status, _, next_body = await read_answer(reader)
    finally:
        writer.close()

    assert status == 204 and body == b""
    assert int(answer_headers.get("content-length", "0")) == 0
    assert "content-type" not in answer_headers
    assert next_status == 200 and json.loads(next_body) == {"status": "ok"}
    [got] = await sandbox.recorded("events?subscriber=crm")
    assert got["webhook_id"] == STARTED.event_id


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            {"sequence": "one", "return_id": "return-ORD-1-1"},
            "data.sequence: a whole number from 1",
        ),
        ({"sequence": 0, "return_id": "return-ORD-1-1"}, "data.sequence: a whole number from 1"),
        ({"sequence": 1, "return_id": 7}, "data.return_id: text"),
    ],
    ids=["sequence-text", "sequence-zero", "return-id-number"],
)
async def test_the_sandbox_refuses_an_event_it_cannot_file_422_naming_the_field(
    sandbox: Sandbox, data: dict[str, object], problem: str
) -> None:
    """A signed body whose data the inbox cannot file is the sender's mistake: 422, which the
    feed parks at once, not a 500 it would retry for half an hour."""
    raw = json.dumps({"type": "return.started", "timestamp": AT.isoformat(), "data": data}).encode()
    headers = signed_headers([SECRET], "msg-bad-data", raw)

    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        answer = await http.post("/webhooks/crm", content=raw, headers=headers)

    assert answer.status_code == 422
    assert answer.json()["error"]["problems"] == [problem]
    assert await sandbox.recorded("events?subscriber=crm") == []


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"error": ' * 50_000], ids=["array", "object"])
def test_an_error_nested_past_what_json_follows_is_an_error_without_a_message(body: bytes) -> None:
    # A subscriber's 410 with such a body is still a 410: refused for good, not retried for
    # half an hour on a Python error.
    gone = httpx.Response(410, content=body, headers={"Content-Type": "application/json"})

    assert error_message(gone) == "" and error_code(gone) is None
