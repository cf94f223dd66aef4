"""Carriers' tracking webhooks through the gateway: believed only when signed, then delivered
to the parcel's return as one `carrier_scans` signal (real HTTP, the dev server, the sandbox)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from activities.carriers.registry import CarrierRegistry
from activities.carriers.sandbox import SandboxCarrier
from carrier_sandbox.rules import object_id
from carrier_sandbox.server import SandboxServer
from carrier_sandbox.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookPolicy,
    event_body,
    signature,
    signed_headers,
)
from dead_letters.store import DeadLetterStore
from domain import search_attributes as sa
from domain.carriers import TrackingScan, WebhookScans
from domain.ids import return_id
from domain.returns import ReturnStage
from gateway.app import create_app
from plumbing.serving import HostedApp
from plumbing.settings import Settings
from store import Store, open_store
from tests.factories import retract_event
from tests.keys import codec_for_tests
from tests.workflows.doubles import Doubles
from tests.workflows.harness import ReturnHandle, return_harness
from tests.workflows.return_workflow_test import mailbox_pickup, ready_for_choice
from workflows.return_workflow import ReturnWorkflow

SECRET = "gateway-test-secret"


def numbered_apart() -> Doubles:
    """Doubles whose labels' numbers no other test's running return holds: the gateway finds a
    return by its number among every running return of the server."""
    return Doubles(label_serial=uuid.uuid4().int % 10**8 * 10)


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SandboxServer]:
    policy = WebhookPolicy(url=None, secret=SECRET)
    async with SandboxServer(tmp_path / "sandbox.sqlite", rounds=False, webhooks=policy) as s:
        yield s


@pytest.fixture
async def gateway(
    time_skipping_env: WorkflowEnvironment,
    sandbox: SandboxServer,
    tmp_path: Path,
    embedded_store: Store,
) -> AsyncIterator[httpx.AsyncClient]:
    registry = CarrierRegistry(
        SandboxCarrier(sandbox.url, code, sandbox.api_key, webhook_secret=SECRET)
        for code in ("sandbox", "relay")
    )
    app = create_app(time_skipping_env.client, Settings(var_dir=tmp_path), registry, embedded_store)
    async with HostedApp(app) as server, httpx.AsyncClient(base_url=server.url) as http:
        yield http
    await registry.aclose()


def webhook(
    tracking_number: str, reference: str | None, secret: str = SECRET, carrier: str = "sandbox"
) -> tuple[dict[str, str], bytes]:
    scan = {
        "scan_id": object_id("SC"),
        "status": "accepted",
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "location": "Sandbox Post — collection sorting centre",
        "description": "Parcel accepted by Sandbox Post.",
        "tracking_number": tracking_number,
        "reference": reference,
    }
    body = event_body(carrier, scan)
    return signed_headers(secret, body), body


async def awaiting_pickup(harness_handle: ReturnHandle) -> str:
    ready = await harness_handle.execute_update(
        ReturnWorkflow.choose_return_method, mailbox_pickup()
    )
    assert ready.stage is ReturnStage.AWAITING_PICKUP and ready.tracking_number
    return ready.tracking_number


async def test_a_signed_acceptance_webhook_confirms_the_pickup(
    time_skipping_env: WorkflowEnvironment, gateway: httpx.AsyncClient
) -> None:
    async with return_harness(time_skipping_env.client, numbered_apart()) as harness:
        handle = await ready_for_choice(harness)
        tracking = await awaiting_pickup(handle)
        headers, body = webhook(tracking, handle.id)
        answer = await gateway.post("/v1/carriers/sandbox/webhooks", content=body, headers=headers)
        done = await harness.in_transit(handle)

    assert answer.status_code == 202
    assert answer.json() == {"return_id": handle.id, "scans": 1}
    assert done.stage is ReturnStage.PICKED_UP


class ResendingHistory(SandboxCarrier):
    """The sandbox's carrier, as a carrier that sends the parcel's whole history in every
    webhook, the newest scan twice (EasyPost sends its tracking details each time)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.history: list[TrackingScan] = []

    def read_webhook(
        self, headers: Mapping[str, str], body: bytes, *, received_at: dt.datetime | None = None
    ) -> WebhookScans:
        report = super().read_webhook(headers, body, received_at=received_at)
        self.history.extend(report.scans)
        return report.model_copy(update={"scans": [*self.history, *report.scans]})


async def test_a_webhook_resending_the_history_is_one_signal_with_each_scan_once(
    time_skipping_env: WorkflowEnvironment,
    sandbox: SandboxServer,
    tmp_path: Path,
    embedded_store: Store,
) -> None:
    carrier = ResendingHistory(sandbox.url, "sandbox", sandbox.api_key, webhook_secret=SECRET)
    registry = CarrierRegistry([carrier])
    app = create_app(time_skipping_env.client, Settings(var_dir=tmp_path), registry, embedded_store)
    async with (
        return_harness(time_skipping_env.client, numbered_apart()) as harness,
        HostedApp(app) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        handle = await ready_for_choice(harness)
        tracking = await awaiting_pickup(handle)
        answers = []
        for _ in range(2):
            headers, body = webhook(tracking, handle.id)
            sent = await http.post("/v1/carriers/sandbox/webhooks", content=body, headers=headers)
            answers.append(sent.json()["scans"])
        done = await harness.in_transit(handle)
        history = await handle.fetch_history()
    await registry.aclose()

    signals = [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert signals == ["carrier_scans", "carrier_scans"], "one signal per webhook"
    assert answers == [1, 2], "each scan once: the first, then both"
    assert len(done.scans) == 2


async def test_a_forged_webhook_is_refused_and_changes_nothing(
    time_skipping_env: WorkflowEnvironment, gateway: httpx.AsyncClient
) -> None:
    async with return_harness(time_skipping_env.client, numbered_apart()) as harness:
        handle = await ready_for_choice(harness)
        tracking = await awaiting_pickup(handle)
        headers, body = webhook(tracking, handle.id, secret="not-the-secret")
        forged = await gateway.post("/v1/carriers/sandbox/webhooks", content=body, headers=headers)
        unsigned = await gateway.post("/v1/carriers/sandbox/webhooks", content=body)
        status = await handle.query(ReturnWorkflow.status)

    assert forged.status_code == unsigned.status_code == 401
    assert forged.json()["error"]["code"] == "bad_signature"
    assert status.stage is ReturnStage.AWAITING_PICKUP


async def test_a_webhook_without_our_reference_finds_its_return_by_tracking_number(
    time_skipping_env: WorkflowEnvironment, gateway: httpx.AsyncClient
) -> None:
    async with return_harness(time_skipping_env.client, numbered_apart()) as harness:
        handle = await ready_for_choice(harness)
        tracking = await awaiting_pickup(handle)
        headers, body = webhook(tracking, None)
        # Visibility follows the workflow a moment later; a carrier retries a 404 the same way.
        async with asyncio.timeout(10):
            while True:
                answer = await gateway.post(
                    "/v1/carriers/sandbox/webhooks", content=body, headers=headers
                )
                if answer.status_code != 404:
                    break
                await asyncio.sleep(0.2)
        done = await harness.in_transit(handle)

    assert answer.status_code == 202 and answer.json()["return_id"] == handle.id
    assert done.stage is ReturnStage.PICKED_UP


@pytest.mark.parametrize("found_by", ["reference", "tracking number"])
async def test_scans_from_a_carrier_the_parcel_is_not_with_are_refused_and_kept(
    time_skipping_env: WorkflowEnvironment,
    gateway: httpx.AsyncClient,
    tmp_path: Path,
    found_by: str,
) -> None:
    async with return_harness(time_skipping_env.client, numbered_apart()) as harness:
        handle = await ready_for_choice(harness)
        tracking = await awaiting_pickup(handle)  # a Sandbox Post pickup
        reference = handle.id if found_by == "reference" else None
        headers, body = webhook(tracking, reference, carrier="relay")
        # Visibility follows the workflow a moment later; a carrier retries a 404 the same way.
        async with asyncio.timeout(10):
            while True:
                answer = await gateway.post(
                    "/v1/carriers/relay/webhooks", content=body, headers=headers
                )
                if answer.status_code != 404:
                    break
                await asyncio.sleep(0.2)
        history = await handle.fetch_history()
        status = await handle.query(ReturnWorkflow.status)
        await handle.terminate("test over")

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "wrong_carrier"
    assert answer.json()["error"]["problems"] == [
        "carrier: not the carrier of the return's shipment"
    ]
    store = open_store(Settings(var_dir=tmp_path))
    try:
        letter = DeadLetterStore(store, codec_for_tests()).get(answer.json()["dead_letter_id"])
    finally:
        store.close()
    assert (letter.source, letter.reason) == ("carrier:relay", "wrong_carrier")
    assert not [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ], "no scan reached the return"
    assert status.stage is ReturnStage.AWAITING_PICKUP and not status.scans


async def test_webhooks_for_unknown_carriers_and_parcels_are_sent_back(
    gateway: httpx.AsyncClient,
) -> None:
    headers, body = webhook("SB000000000FR", None)
    unknown_parcel = await gateway.post(
        "/v1/carriers/sandbox/webhooks", content=body, headers=headers
    )
    unknown_carrier = await gateway.post(
        "/v1/carriers/nowhere-post/webhooks", content=body, headers=headers
    )

    assert unknown_parcel.status_code == 404
    assert unknown_parcel.json()["error"]["code"] == "unknown_parcel"
    assert unknown_carrier.status_code == 404
    assert unknown_carrier.json()["error"]["code"] == "unknown_carrier"


async def test_a_webhook_waits_while_the_carrier_cannot_say_who_it_is(
    sandbox: SandboxServer, gateway: httpx.AsyncClient
) -> None:
    rule = {"endpoint": "GET /carriers/*/v1/carrier", "count": 1, "error_rate": 1.0}
    async with httpx.AsyncClient(base_url=sandbox.url) as bench:
        (await bench.put("/sandbox/faults", json={"rules": [rule]})).raise_for_status()
    headers, body = webhook("SB000000000FR", None)
    while_down = await gateway.post("/v1/carriers/sandbox/webhooks", content=body, headers=headers)
    once_back = await gateway.post("/v1/carriers/sandbox/webhooks", content=body, headers=headers)

    assert while_down.status_code == 503 and while_down.headers["Retry-After"] == "30"
    assert once_back.status_code == 404, "then judged on its merits (here: an unknown parcel)"


@pytest.mark.parametrize("echoes_reference", [True, False], ids=["sandbox", "like-easypost"])
async def test_later_scans_of_a_return_that_has_ended_are_acknowledged(
    time_skipping_env: WorkflowEnvironment, gateway: httpx.AsyncClient, echoes_reference: bool
) -> None:
    """Whether the carrier echoes our reference or, as EasyPost, only the tracking number."""
    async with return_harness(time_skipping_env.client, numbered_apart()) as harness:
        handle = await ready_for_choice(harness)
        tracking = await awaiting_pickup(handle)
        accepted = webhook(tracking, handle.id)
        await gateway.post(
            "/v1/carriers/sandbox/webhooks", content=accepted[1], headers=accepted[0]
        )
        await harness.to_the_end(time_skipping_env, handle)
        await listed(time_skipping_env.client, tracking, 1, running=0)
        headers, body = webhook(tracking, handle.id if echoes_reference else None)
        later = await gateway.post("/v1/carriers/sandbox/webhooks", content=body, headers=headers)

    assert later.status_code == 200, "else the carrier would resend it forever"
    assert later.json() == {"ignored": "the parcel's return has ended"}


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        (None, "v1=\u00e9t\u00e9"),  # not ASCII
        ("1" + "0" * 400, None),  # a number too long to compare with the clock
        ("yesterday", None),
    ],
)
async def test_malformed_signature_headers_are_refused_not_crashed_on(
    gateway: httpx.AsyncClient, timestamp: str | None, signature: str | None
) -> None:
    headers, body = webhook("SB000000000FR", None)
    if timestamp is not None:
        headers["X-Sandbox-Timestamp"] = timestamp
    if signature is not None:
        headers["X-Sandbox-Signature"] = signature
    encoded = {name.encode(): value.encode("latin-1") for name, value in headers.items()}
    answer = await gateway.post("/v1/carriers/sandbox/webhooks", content=body, headers=encoded)

    assert answer.status_code == 401


def signed_twice(
    tracking_number: str, reference: str, first: str, second: str
) -> tuple[dict[str, str], bytes]:
    """A webhook signed under two secrets, as a carrier sends it while it rotates its secret:
    two `v1=` values, comma-separated, in the signature header."""
    headers, body = webhook(tracking_number, reference, first)
    stamp = int(headers[TIMESTAMP_HEADER])
    both = f"{signature(first, stamp, body)},{signature(second, stamp, body)}"
    return {**headers, SIGNATURE_HEADER: both}, body


@pytest.mark.parametrize(
    ("first", "second"),
    [("the-carriers-new-secret", SECRET), (SECRET, "the-carriers-new-secret")],
    ids=["ours-second", "ours-first"],
)
async def test_a_webhook_signed_under_two_secrets_is_believed_if_either_is_ours(
    time_skipping_env: WorkflowEnvironment, gateway: httpx.AsyncClient, first: str, second: str
) -> None:
    async with return_harness(time_skipping_env.client, numbered_apart()) as harness:
        handle = await ready_for_choice(harness)
        tracking = await awaiting_pickup(handle)
        headers, body = signed_twice(tracking, handle.id, first, second)
        answer = await gateway.post("/v1/carriers/sandbox/webhooks", content=body, headers=headers)
        done = await harness.in_transit(handle)

    assert answer.status_code == 202 and answer.json() == {"return_id": handle.id, "scans": 1}
    assert done.stage is ReturnStage.PICKED_UP


async def test_a_webhook_signed_under_two_secrets_neither_ours_is_refused(
    time_skipping_env: WorkflowEnvironment, gateway: httpx.AsyncClient
) -> None:
    async with return_harness(time_skipping_env.client, numbered_apart()) as harness:
        handle = await ready_for_choice(harness)
        tracking = await awaiting_pickup(handle)
        headers, body = signed_twice(tracking, handle.id, "an-old-secret", "somebody-elses")
        answer = await gateway.post("/v1/carriers/sandbox/webhooks", content=body, headers=headers)
        # The gateway signals before it answers: had it believed the webhook, the signal is
        # in the history now.
        history = await handle.fetch_history()
        status = await handle.query(ReturnWorkflow.status)
        await handle.terminate("test over")

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "bad_signature"
    assert "does not match" in answer.json()["error"]["message"]
    assert not [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert status.stage is ReturnStage.AWAITING_PICKUP and status.scans == []


async def parked_return(client: Client, number: str, order_id: str) -> str:
    """A running return that holds `number` and that no worker serves: what visibility lists."""
    event = retract_event(order_id=order_id)
    workflow_id = return_id(event.order.order_id, event.order.line_id)
    await client.start_workflow(
        "ReturnWorkflow",
        event,
        id=workflow_id,
        task_queue=f"nobody-{uuid.uuid4().hex[:8]}",
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.TRACKING_NUMBER, number),
                SearchAttributePair(sa.CARRIER, "sandbox"),
            ]
        ),
    )
    return workflow_id


async def listed(client: Client, number: str, count: int, running: int | None = None) -> None:
    """Visibility lists `count` returns holding `number`, `running` of them still running."""
    query = f'{sa.TRACKING_NUMBER.name} = "{number}"'
    async with asyncio.timeout(10):
        while True:
            found = [w async for w in client.list_workflows(query)]
            still = sum(w.status is WorkflowExecutionStatus.RUNNING for w in found)
            if len(found) >= count and (running is None or still == running):
                return
            await asyncio.sleep(0.1)


async def test_a_number_two_running_returns_hold_is_refused_not_given_to_either(
    time_skipping_env: WorkflowEnvironment, gateway: httpx.AsyncClient
) -> None:
    client = time_skipping_env.client
    number = f"SB{uuid.uuid4().int % 10**9:09d}FR"
    first = await parked_return(client, number, f"ORD-AMB-{uuid.uuid4().hex[:6]}")
    second = await parked_return(client, number, f"ORD-AMB-{uuid.uuid4().hex[:6]}")
    await listed(client, number, 2)

    headers, body = webhook(number, None)
    answer = await gateway.post("/v1/carriers/sandbox/webhooks", content=body, headers=headers)
    for workflow_id in (first, second):
        await client.get_workflow_handle(workflow_id).terminate("test over")

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "ambiguous_parcel"


async def test_a_number_an_ended_return_held_goes_to_the_running_one(
    time_skipping_env: WorkflowEnvironment, gateway: httpx.AsyncClient
) -> None:
    client = time_skipping_env.client
    number = f"SB{uuid.uuid4().int % 10**9:09d}FR"
    ended = await parked_return(client, number, f"ORD-OLD-{uuid.uuid4().hex[:6]}")
    await client.get_workflow_handle(ended).terminate("a return of last year")
    running = await parked_return(client, number, f"ORD-NEW-{uuid.uuid4().hex[:6]}")
    await listed(client, number, 2, running=1)  # the ended one listed as ended

    headers, body = webhook(number, None)
    answer = await gateway.post("/v1/carriers/sandbox/webhooks", content=body, headers=headers)
    await client.get_workflow_handle(running).terminate("test over")

    assert answer.status_code == 202
    assert answer.json()["return_id"] == running
