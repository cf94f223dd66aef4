"""Each scan is pushed to the shipper as a signed webhook, retried until it is taken."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from carrier_sandbox.server import SandboxServer
from carrier_sandbox.store import SCHEMA
from carrier_sandbox.webhooks import DUE, WebhookPolicy
from tests.activities.carriers.webhook_receiver import Answer, Received, WebhookReceiver
from tests.carrier_sandbox.builders import RELAY, create_label, scan
from tests.carrier_sandbox.conftest import FAST_TICK, SettableClock

SECRET = "whsec-test-0123456789"


def fast_policy(url: str, **overrides: Any) -> WebhookPolicy:
    """Retries after 50 ms, 100 ms, 200 ms…: the sandbox's backoff, sped up for tests."""
    settings: dict[str, Any] = {
        "url": url,
        "secret": SECRET,
        "first_retry_seconds": 0.05,
        "max_retry_seconds": 0.4,
        "timeout_seconds": 0.5,
        **overrides,
    }
    return WebhookPolicy(**settings)


@asynccontextmanager
async def pushing(
    db_path: Path,
    clock: SettableClock,
    answers: Sequence[Answer] = (),
    **policy: Any,
) -> AsyncIterator[tuple[httpx.AsyncClient, WebhookReceiver]]:
    """A sandbox whose carriers push webhooks to a receiver answering `answers` first."""
    async with WebhookReceiver(answers) as receiver:
        webhooks = fast_policy(receiver.url(), **policy)
        async with (
            SandboxServer(
                db_path, clock=clock, rounds=False, webhooks=webhooks, tick_seconds=FAST_TICK
            ) as sandbox,
            httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key}) as http,
        ):
            yield http, receiver


async def deliveries(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await client.get("/sandbox/webhook-deliveries")).json()[
        "deliveries"
    ]
    return found


async def settled(client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    """The deliveries once `count` of them are delivered or given up."""
    async with asyncio.timeout(5):
        while True:
            found = await deliveries(client)
            if sum(d["state"] != "pending" for d in found) >= count:
                return found
            await asyncio.sleep(FAST_TICK)


def signed_correctly(attempt: Received, secret: str = SECRET) -> bool:
    stamp = attempt.headers["x-sandbox-timestamp"]
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + attempt.body, hashlib.sha256)
    return attempt.headers["x-sandbox-signature"] == f"v1={mac.hexdigest()}"


async def test_a_scan_is_pushed_signed_at_the_real_time_of_sending(
    db_path: Path, clock: SettableClock
) -> None:
    async with pushing(db_path, clock) as (client, receiver):
        label = await create_label(client, "return-O1001-1:label:1")
        scanned = (await scan(client, label["tracking_number"])).json()
        (attempt,) = await receiver.wait_for(1)

    assert attempt.method == "POST" and attempt.path == "/hooks/sandbox"
    assert attempt.headers["content-type"] == "application/json"
    # Real wall-clock time, not the sandbox's (which says June 2025).
    assert abs(int(attempt.headers["x-sandbox-timestamp"]) - time.time()) < 5
    assert signed_correctly(attempt)
    event = attempt.json()
    assert event["id"].startswith("EV-")
    assert event == {
        "id": event["id"],
        "type": "tracking.updated",
        "carrier": "sandbox",
        "tracking_number": label["tracking_number"],
        "reference": "return-O1001-1",
        "scan": {
            k: scanned[k] for k in ("scan_id", "status", "occurred_at", "location", "description")
        },
    }


async def test_the_webhook_url_names_the_carrier_whose_parcel_it_is(
    db_path: Path, clock: SettableClock
) -> None:
    async with pushing(db_path, clock) as (client, receiver):
        label = await create_label(client, "return-O1001-1:label:1", api=RELAY)
        await scan(client, label["tracking_number"])
        (attempt,) = await receiver.wait_for(1)

    assert attempt.path == "/hooks/relay"
    assert attempt.json()["carrier"] == "relay"


async def test_a_refused_webhook_is_retried_with_growing_delays_under_the_same_id(
    db_path: Path, clock: SettableClock
) -> None:
    async with pushing(db_path, clock, [503, 500, 404, 200]) as (client, receiver):
        label = await create_label(client, "return-O1001-1:label:1")
        await scan(client, label["tracking_number"])
        attempts = await receiver.wait_for(4)
        (delivery,) = await settled(client, 1)

    assert len({a.json()["id"] for a in attempts}) == 1
    assert len({a.body for a in attempts}) == 1
    assert all(signed_correctly(a) for a in attempts)
    gaps = [later.arrived - earlier.arrived for earlier, later in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2
    assert delivery["state"] == "delivered" and delivery["delivered"] is True
    assert (delivery["attempts"], delivery["last_status"]) == (4, 200)
    assert delivery["last_error"] is None and delivery["next_attempt_at"] is None


async def test_each_attempt_is_signed_afresh(db_path: Path, clock: SettableClock) -> None:
    slower = {"first_retry_seconds": 1.1, "max_retry_seconds": 1.1}
    async with pushing(db_path, clock, [503], **slower) as (client, receiver):
        label = await create_label(client, "return-O1001-1:label:1")
        await scan(client, label["tracking_number"])
        first, second = await receiver.wait_for(2)

    assert int(second.headers["x-sandbox-timestamp"]) > int(first.headers["x-sandbox-timestamp"])
    assert first.headers["x-sandbox-signature"] != second.headers["x-sandbox-signature"]
    assert signed_correctly(first) and signed_correctly(second)


async def test_a_dropped_connection_and_a_receiver_that_hangs_are_retried(
    db_path: Path, clock: SettableClock
) -> None:
    async with pushing(db_path, clock, ["drop", "hang"], timeout_seconds=0.2) as (
        client,
        receiver,
    ):
        label = await create_label(client, "return-O1001-1:label:1")
        await scan(client, label["tracking_number"])
        await receiver.wait_for(3)
        (delivery,) = await settled(client, 1)

    assert (delivery["state"], delivery["attempts"]) == ("delivered", 3)


async def test_a_webhook_is_given_up_after_its_last_attempt_and_the_next_one_goes(
    db_path: Path, clock: SettableClock
) -> None:
    async with pushing(db_path, clock, [500, 500, 500], max_attempts=3) as (client, receiver):
        label = await create_label(client, "return-O1001-1:label:1")
        await scan(client, label["tracking_number"])
        await scan(client, label["tracking_number"])
        attempts = await receiver.wait_for(4)
        given_up, delivered = await settled(client, 2)

    assert [a.json()["scan"]["status"] for a in attempts] == [
        "accepted",
        "accepted",
        "accepted",
        "in_transit",
    ]
    assert (given_up["state"], given_up["delivered"], given_up["attempts"]) == ("failed", False, 3)
    assert (given_up["last_status"], given_up["last_error"]) == (500, "HTTP 500")
    assert delivered["state"] == "delivered"


async def test_one_parcels_events_arrive_in_order_even_when_one_is_retried(
    db_path: Path, clock: SettableClock
) -> None:
    async with pushing(db_path, clock, [503, 503]) as (client, receiver):
        label = await create_label(client, "return-O1001-1:label:1")
        for _ in range(3):
            await scan(client, label["tracking_number"])
        attempts = await receiver.wait_for(5)

    assert [a.json()["scan"]["status"] for a in attempts] == [
        "accepted",
        "accepted",
        "accepted",
        "in_transit",
        "out_for_delivery",
    ]


async def test_events_waiting_in_the_outbox_are_sent_after_a_restart(
    db_path: Path, clock: SettableClock
) -> None:
    with socket.socket() as probe:  # a port where nothing listens yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/{{carrier}}"
    async with (
        SandboxServer(
            db_path, clock=clock, rounds=False, webhooks=fast_policy(url), tick_seconds=FAST_TICK
        ) as first,
        httpx.AsyncClient(base_url=first.url, headers={"X-Api-Key": first.api_key}) as http,
    ):
        label = await create_label(http, "return-O1001-1:label:1")
        await scan(http, label["tracking_number"])
        await scan(http, label["tracking_number"])
        async with asyncio.timeout(5):
            while not (pending := await deliveries(http))[0]["attempts"]:
                await asyncio.sleep(FAST_TICK)

    receiver = WebhookReceiver()
    receiver.port = port
    async with (
        receiver,
        SandboxServer(
            db_path, clock=clock, rounds=False, webhooks=fast_policy(url), tick_seconds=FAST_TICK
        ) as second,
        httpx.AsyncClient(base_url=second.url) as http,
    ):
        attempts = await receiver.wait_for(2)
        after = await settled(http, 2)

    assert pending[0]["last_error"].startswith("unreachable")
    assert [a.json()["id"] for a in attempts] == [d["id"] for d in pending]
    assert [a.json()["scan"]["status"] for a in attempts] == ["accepted", "in_transit"]
    assert all(d["state"] == "delivered" for d in after)


async def test_without_a_webhook_url_no_event_is_kept(client: httpx.AsyncClient) -> None:
    label = await create_label(client, "return-O1001-1:label:1")
    await scan(client, label["tracking_number"])

    assert await deliveries(client) == []


async def test_the_deliveries_can_be_listed_for_one_parcel(
    db_path: Path, clock: SettableClock
) -> None:
    async with pushing(db_path, clock) as (client, receiver):
        first = await create_label(client, "return-O1001-1:label:1")
        second = await create_label(client, "return-O1002-1:label:1")
        await scan(client, first["tracking_number"])
        await scan(client, second["tracking_number"])
        await receiver.wait_for(2)
        listed = await client.get(
            "/sandbox/webhook-deliveries", params={"tracking_number": second["tracking_number"]}
        )

    (only,) = listed.json()["deliveries"]
    assert only["tracking_number"] == second["tracking_number"]
    assert only["scan_status"] == "accepted"


@pytest.mark.parametrize(
    ("attempts", "delay"), [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (9, 60.0)]
)
def test_the_backoff_doubles_up_to_a_minute(attempts: int, delay: float) -> None:
    assert WebhookPolicy(url="http://x").retry_delay(attempts) == delay


def test_the_due_events_are_found_among_the_pending_ones_alone(tmp_path: Path) -> None:
    """The events delivered or given up on pile up for as long as the sandbox's file lives (a
    benchmark makes hundreds of thousands): the pass every tick never reads them."""
    db = sqlite3.connect(tmp_path / "sandbox.sqlite")
    db.executescript(SCHEMA)

    plan = " ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {DUE}", (0.0, 10)))
    db.close()

    assert "SCAN e USING INDEX webhooks_pending" in plan, plan
