"""What the people running returnflow see after a demo-sized run: each service scraped for
the metrics the docs name, Prometheus scraping them all, and the dashboard and alert rules
reading only metrics the services export."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from devstack.demo import Apps, Sample, load_samples, play_all, redate
from devstack.stack import DevStack
from domain.events import RetractEvent
from domain.notices import NoticeKind
from domain.returns import AttentionReason, ReturnStage
from monitoring import scraping
from plumbing import metrics
from plumbing.signing import signed_headers
from tests.e2e.conftest import ROOT, stack_config
from tests.factories import reminded_notice_at
from tests.gateway.tracking_webhooks_test import webhook
from tests.monitoring import exposition
from tests.monitoring.exposition import Scrape
from tests.monitoring.references import SDK_ON_FAILURE, read_by_alerts, read_by_dashboard

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


EVENTS = ROOT / "examples" / "events"
STRANGER = "127.0.0.2"
"""The address a stranger's requests come from (the stack's own come from 127.0.0.1)."""


@dataclass
class Played:
    stack: DevStack
    samples: list[Sample]
    scrapes: dict[str, Scrape]
    more: list[str] = field(default_factory=list)
    """The returns started beside the samples: one late to ship, one awaiting review."""


def sample_event(name: str, withdrawn: dt.datetime, suffix: str) -> RetractEvent:
    event = RetractEvent.model_validate_json((EVENTS / name).read_bytes())
    return redate(event, withdrawn, suffix)


async def more_returns(apps: Apps, now: dt.datetime) -> list[str]:
    """A customer who withdrew 12 days ago and has not shipped (this morning's sweep reminds
    them), and an order whose status this version does not know (operations must review it)."""
    late = sample_event("02-post-office-drop-off.json", reminded_notice_at(now=now), "LATE")
    unknown = sample_event("01-mailbox-pickup.json", now, "REVIEW")
    unknown = unknown.model_copy(
        update={"order": unknown.order.model_copy(update={"status": "lost_in_warehouse"})}
    )
    late_id = await apps.send_event(late)
    review_id = await apps.send_event(unknown)
    await apps.until_settled(late_id, {ReturnStage.AWAITING_CUSTOMER_CHOICE})
    await apps.until_settled(review_id, {ReturnStage.AWAITING_REVIEW})
    return [late_id, review_id]


async def strangers_held_back(gateway_url: str) -> int:
    """A stranger tries return after return without a token: once the refusals of a minute
    are spent (30, counted in windows of the clock's minutes), every request of theirs is 429.
    The status of their last one."""
    transport = httpx.AsyncHTTPTransport(local_address=STRANGER)
    async with httpx.AsyncClient(base_url=gateway_url, transport=transport, timeout=10) as http:
        for n in range(100):
            answer = await http.get(f"/v1/returns/return-ORD-GUESS-{n}")
            if answer.status_code == 429:
                break
    return answer.status_code


async def while_the_worker_is_frozen(stack: DevStack, return_id: str) -> int:
    """The customer chooses while no worker takes the return's tasks (the worker's process is
    stopped, not killed): the gateway answers 503 after its wait. The status it answered."""
    worker = next(p for p in stack.processes if p.name == "worker")
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGSTOP)
    try:
        async with httpx.AsyncClient(base_url=stack.config.gateway_url, timeout=30) as http:
            answer = await http.post(
                f"/v1/returns/{return_id}/method",
                json={"method": "post_office_drop_off", "carrier": "sandbox"},
                headers={"Authorization": f"Bearer {stack.config.customer_token}"},
            )
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    return answer.status_code


async def scrape(stack: DevStack) -> dict[str, Scrape]:
    found = {}
    async with httpx.AsyncClient(timeout=10) as http:
        for service, address in stack.config.metrics_addresses().items():
            answer = await http.get(f"http://{address}/metrics")
            answer.raise_for_status()
            found[service] = exposition.parse(answer.text)
    return found


@pytest.fixture(scope="module")
async def played(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Played]:
    config = stack_config(tmp_path_factory.mktemp("var"))
    stack = DevStack(config)
    stack.env["RETURNFLOW_RETURNS_COUNT_SECONDS"] = "5"
    async with stack:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        samples = load_samples(now, config.var_dir / "demo" / "events")
        await play_all(stack, samples)
        async with httpx.AsyncClient(base_url=config.gateway_url, timeout=30) as http:
            more = await more_returns(Apps(http, config), now)
            # A signed scan for a parcel no return has: refused, kept for operations.
            secret = stack.settings.carrier_sandbox_webhook_secret.get_secret_value()
            headers, body = webhook("SB999999999FR", None, secret)
            unknown_parcel = await http.post(
                "/v1/carriers/sandbox/webhooks", content=body, headers=headers
            )
            assert unknown_parcel.status_code == 404, unknown_parcel.text
            # The order service sends an event that does not fit: refused, kept as a letter.
            body = b'{"event_id": "evt-broken"}'
            headers = signed_headers(config.event_secret, body) | {
                "Content-Type": "application/json"
            }
            refused = await http.post("/v1/events", content=body, headers=headers)
            assert refused.status_code == 422
            # A stranger posts tracking events for carriers of their own invention.
            for made_up in ("zzz-one", "zzz-two"):
                answer = await http.post(f"/v1/carriers/{made_up}/webhooks", content=b"{}")
                assert answer.status_code == 404
        async with httpx.AsyncClient(base_url=config.codec_url, timeout=30) as http:
            # A stranger asks the codec server to decrypt: refused.
            stranger = await http.post("/decode", json={"payloads": []})
            assert stranger.status_code == 401
        assert await strangers_held_back(config.gateway_url) == 429
        # This morning's reminder sweep, run now rather than at 09:00 (again, until visibility
        # shows it the late return).
        settled = dt.datetime.now(dt.UTC).timestamp()
        schedule = stack.client.get_schedule_handle(stack.settings.reminder_schedule_id)
        async with asyncio.timeout(90):
            while True:
                await schedule.trigger()
                await asyncio.sleep(2)
                scrapes = await scrape(stack)
                worker = scrapes["worker"]
                counted = worker.total(metrics.RETURNS_COUNTED_AT.name)
                if worker.total(metrics.REMINDERS_SENT.name) >= 1 and counted > settled:
                    break
        # A count taken after every return settled.
        await asyncio.sleep(6)
        scrapes = await scrape(stack)
        description = await schedule.describe()
        assert description.info.recent_actions
        assert await while_the_worker_is_frozen(stack, more[1]) == 503
        scrapes["gateway"] = (await scrape(stack))["gateway"]
        yield Played(stack, samples, scrapes, more)


def test_the_worker_counts_returns_started_and_ended_by_outcome_and_stage_reached(
    played: Played,
) -> None:
    worker = played.scrapes["worker"]
    started = [s for s in played.samples if s.return_id is not None]
    delivered = [s for s in started if s.status and s.status.stage is ReturnStage.DELIVERED]

    ended = worker.total(metrics.RETURNS_ENDED.name, outcome="delivered", reached="delivered")
    running = worker.values(metrics.RETURNS_IN_STAGE.name, stage="delivered")

    assert worker.total(metrics.RETURNS_STARTED.name) == len(started) + len(played.more)
    assert len(delivered) == 3
    # A seller who reports nothing leaves the inspection period to run: that return is open.
    assert ended >= 2 and ended + sum(running) == len(delivered)
    assert worker.total(metrics.RETURNS_ENDED.name) == ended


def test_the_worker_shows_how_many_returns_stand_in_each_stage_and_need_attention(
    played: Played,
) -> None:
    worker = played.scrapes["worker"]
    in_stage = {
        s.labels["stage"]: s.value
        for s in worker.samples
        if s.name == metrics.RETURNS_IN_STAGE.name
    }
    attention = worker.label_values(metrics.RETURNS_NEEDING_ATTENTION.name, "reason")

    assert set(in_stage) == {stage.value for stage in ReturnStage}
    started = worker.total(metrics.RETURNS_STARTED.name)
    ended = worker.total(metrics.RETURNS_ENDED.name)

    # The rejected sample stays open for its review period.
    assert in_stage[ReturnStage.REJECTED.value] == 1
    assert sum(in_stage.values()) == started - ended
    assert attention == {reason.value for reason in AttentionReason}
    # The order whose status this version does not know waits for operations.
    assert in_stage[ReturnStage.AWAITING_REVIEW.value] == 1
    unknown_status = AttentionReason.UNKNOWN_ORDER_STATUS.value
    assert worker.total(metrics.RETURNS_NEEDING_ATTENTION.name, reason=unknown_status) == 1
    assert worker.total(metrics.RETURNS_NEEDING_ATTENTION.name) == 1
    assert worker.total(metrics.ATTENTION_RAISED.name, reason=unknown_status) == 1
    # The seller's deduction waited for operations' approval once.
    assert worker.total(metrics.ATTENTION_RAISED.name, reason="deduction_to_approve") == 1


def test_the_worker_times_the_legal_periods_and_counts_refunds_and_missed_deadlines(
    played: Played,
) -> None:
    worker = played.scrapes["worker"]
    to_dispatch = metrics.WITHDRAWAL_TO_DISPATCH.name
    to_refund = metrics.WITHDRAWAL_TO_REFUND.name

    assert worker.total(f"{to_dispatch}_count") == 3
    # The samples were withdrawn days ago (their events say so) and sent today.
    assert 0 < worker.total(f"{to_dispatch}_sum") / 3 < 60 * 86400
    assert worker.total(f"{to_refund}_count") == 3
    assert worker.total(metrics.REFUNDS_REQUESTED.name, created="true") == 3
    assert worker.values(metrics.DEADLINES_MISSED.name, deadline="refund") == [0]


def test_the_worker_counts_and_times_each_carrier_call(played: Played) -> None:
    worker = played.scrapes["worker"]
    calls = metrics.CARRIER_CALLS.name

    labels = worker.total(calls, carrier="sandbox", operation="create_return_label", outcome="ok")
    assert labels == 2
    counter = worker.total(calls, carrier="sandbox", operation="request_counter_code", outcome="ok")
    assert counter == 1
    assert worker.total(f"{metrics.CARRIER_CALL_SECONDS.name}_count") == worker.total(calls)
    assert worker.label_values(calls, "outcome") <= {
        "ok",
        "rejected",
        "auth_failed",
        "unavailable",
        "error",
    }


def test_the_worker_counts_emails_by_kind_and_the_reminder_sweep(played: Played) -> None:
    worker = played.scrapes["worker"]
    emails = metrics.EMAILS.name

    assert worker.total(emails, kind="return_label", outcome="sent") == 2
    assert worker.total(emails, kind="pickup_confirmed", outcome="sent") == 3
    # The sample outside its window, and the order awaiting review: its customer is told why.
    assert worker.total(emails, kind="rejection", outcome="sent") == 2
    attention = NoticeKind.OPERATIONS_ATTENTION.value
    assert worker.total(emails, kind=attention, outcome="sent") >= 1
    assert worker.total(emails, outcome="undeliverable") == 0
    # The sweep ran until visibility showed it the late return (each run until the return's
    # reminder showed there told it again), and its customer was reminded once.
    assert worker.total(metrics.REMINDER_SWEEPS.name) >= 1
    assert worker.total(metrics.REMINDERS_SENT.name) >= 1
    reminder = NoticeKind.SHIPPING_REMINDER.value
    assert worker.total(emails, kind=reminder, outcome="sent") == 1
    assert worker.total(metrics.REMINDER_SWEEP_DONE_AT.name) > 0
    delivered = worker.total(metrics.EVENT_DELIVERIES.name, subscriber="marketplace")
    assert delivered >= sum(s.events_published or 0 for s in played.samples)


def test_the_worker_exports_the_sdk_runtime_metrics(played: Played) -> None:
    worker = played.scrapes["worker"]

    assert worker.values("temporal_worker_task_slots_available", worker_type="WorkflowWorker")
    assert worker.total("temporal_workflow_task_schedule_to_start_latency_count") > 0
    assert worker.total("temporal_workflow_task_execution_latency_count") > 0
    assert worker.total("temporal_activity_execution_latency_count") > 0
    assert worker.total("temporal_activity_schedule_to_start_latency_count") > 0


def test_the_gateway_and_codec_server_count_and_time_requests_by_route(played: Played) -> None:
    gateway = played.scrapes["gateway"]
    requests = metrics.HTTP_REQUESTS.name
    seconds = f"{metrics.HTTP_REQUEST_SECONDS.name}_count"

    accepted = gateway.total(requests, route="/v1/events", method="POST", status="202")
    on_page = sum(1 for s in played.samples if s.withdraws_on_page)
    assert accepted == len(played.samples) - on_page + len(played.more)
    assert gateway.total(requests, route="/v1/events", method="POST", status="422") == 1
    assert gateway.total(seconds, route="/v1/events", method="POST") >= accepted + 1
    assert gateway.total(metrics.DEAD_LETTERS.name, source="events") == 1
    # Letters are counted by door, whatever carrier a stranger's path names: the two strangers'
    # webhooks (sampled) and the signed scan for an unknown parcel.
    assert gateway.total(metrics.DEAD_LETTERS.name, source="carrier") == 3
    assert gateway.label_values(metrics.DEAD_LETTERS.name, "source") == {"events", "carrier"}
    # The choice made while the worker was frozen.
    assert gateway.total(metrics.TEMPORAL_UNREACHABLE.name) == 1
    assert gateway.total(requests, route="/v1/returns/{return_id}/method", status="503") == 1
    # The stranger's 31st guess, once their 30 refusals of the minute were spent.
    assert gateway.total(metrics.RATE_LIMITED.name, limit="refusals") >= 1
    assert gateway.total(metrics.RATE_LIMITED.name, limit="requests") == 0
    # Held back before any route is read.
    assert gateway.total(requests, status="429") >= 1
    assert gateway.total("temporal_request") > 0  # the SDK's client metrics
    codec = played.scrapes["codec-server"]
    assert codec.total(requests, route="/decode", method="POST", status="401") == 1
    assert codec.total(f"{metrics.HTTP_REQUEST_SECONDS.name}_count", route="/decode") >= 1


WORKFLOW_METER_LABELS = {"namespace", "task_queue", "workflow_type", "service_name"}
"""What a workflow's metric meter adds to the labels of what it records (`service_name` is the
SDK core's own name, `temporal-core-sdk`)."""


def family(name: str) -> str:
    """The metric a sample belongs to (a histogram's `_bucket`, `_count` and `_sum` too)."""
    for suffix in ("_bucket", "_count", "_sum"):
        if name.endswith(suffix) and name.removesuffix(suffix) in DECLARED:
            return name.removesuffix(suffix)
    return name


DECLARED = {m.name: set(m.labels) for m in metrics.CATALOGUE}


def test_no_label_names_a_return_or_a_person(played: Played) -> None:
    people = {
        fact
        for sample in played.samples
        for fact in (
            sample.event.customer.name,
            sample.event.customer.email,
            sample.event.customer.customer_id,
            sample.event.order.order_id,
        )
    }
    for service in ("worker", "gateway", "codec-server"):
        for sample in played.scrapes[service].samples:
            declared = DECLARED.get(family(sample.name))
            if declared is not None:
                # The product's metrics carry the labels they declare, and no other.
                allowed = declared | {"service", "le"} | WORKFLOW_METER_LABELS
                assert set(sample.labels) <= allowed, (service, sample)
            for value in sample.labels.values():
                assert "@" not in value, (service, sample)
                assert not value.startswith("return-"), (service, sample)
                assert "/v1/returns/return-" not in value, (service, sample)
                assert not any(fact in value for fact in people), (service, sample)


def test_every_metric_the_dashboard_and_the_alerts_read_is_exported(played: Played) -> None:
    exported = set().union(*(s.families for s in played.scrapes.values())) | SDK_ON_FAILURE

    assert read_by_dashboard() - exported == set()
    assert read_by_alerts() - exported == set()


async def test_prometheus_scrapes_every_service_and_loads_the_alert_rules(
    played: Played,
) -> None:
    assert scraping.PROMETHEUS.exists(), "Debian's prometheus is missing: make prometheus"
    url = played.stack.config.prometheus_url
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        async with asyncio.timeout(30):
            while True:
                targets = (await http.get("/api/v1/targets")).json()["data"]["activeTargets"]
                health = {t["labels"]["job"]: t["health"] for t in targets}
                if set(health.values()) == {"up"}:
                    break
                await asyncio.sleep(1)
        rules = (await http.get("/api/v1/rules")).json()["data"]["groups"]
        started = (
            await http.get(
                "/api/v1/query", params={"query": f"sum({metrics.RETURNS_STARTED.name})"}
            )
        ).json()["data"]["result"]
        # The dev server's own system workers export the SDK's series too: not taken.
        sdk_jobs = (
            await http.get(
                "/api/v1/query", params={"query": 'count by (job) ({__name__=~"temporal_.*"})'}
            )
        ).json()["data"]["result"]

    assert set(health) == {"worker", "gateway", "codec-server", "temporal"}
    assert {r["metric"]["job"] for r in sdk_jobs} <= {"worker", "gateway", "codec-server"}
    assert "worker" in {r["metric"]["job"] for r in sdk_jobs}
    assert sum(len(g["rules"]) for g in rules) >= 10
    assert started[0]["value"][1] == str(
        sum(1 for s in played.samples if s.return_id) + len(played.more)
    )
