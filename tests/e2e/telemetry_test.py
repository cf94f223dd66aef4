"""What the people running returnflow see after a demo-sized run: each service scraped for
the metrics the docs name, Prometheus scraping them all, and the dashboard and alert rules
reading only metrics the services export."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from devstack.demo import Sample, load_samples, play_all
from devstack.stack import DevStack
from domain.returns import AttentionReason, ReturnStage
from monitoring import scraping
from plumbing import metrics
from plumbing.signing import signed_headers
from tests.e2e.conftest import stack_config
from tests.monitoring import exposition
from tests.monitoring.exposition import Scrape
from tests.monitoring.references import SDK_ON_FAILURE, read_by_alerts, read_by_dashboard

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@dataclass
class Played:
    stack: DevStack
    samples: list[Sample]
    scrapes: dict[str, Scrape]


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
        # This morning's reminder sweep, run now rather than at 09:00.
        schedule = stack.client.get_schedule_handle(stack.settings.reminder_schedule_id)
        await schedule.trigger()
        async with asyncio.timeout(60):
            while True:
                scrapes = await scrape(stack)
                worker = scrapes["worker"]
                counted = worker.total(metrics.RETURNS_COUNTED_AT.name)
                if worker.total(metrics.REMINDER_SWEEPS.name) >= 1 and counted > now.timestamp():
                    break
                await asyncio.sleep(1)
        # A count taken after every sample settled.
        await asyncio.sleep(6)
        scrapes = await scrape(stack)
        description = await schedule.describe()
        assert description.info.recent_actions
        yield Played(stack, samples, scrapes)


def test_the_worker_counts_returns_started_and_ended_by_outcome_and_stage_reached(
    played: Played,
) -> None:
    worker = played.scrapes["worker"]
    started = [s for s in played.samples if s.return_id is not None]
    delivered = [s for s in started if s.status and s.status.stage is ReturnStage.DELIVERED]

    ended = worker.total(metrics.RETURNS_ENDED.name, outcome="delivered", reached="delivered")
    running = worker.values(metrics.RETURNS_IN_STAGE.name, stage="delivered")

    assert worker.total(metrics.RETURNS_STARTED.name) == len(started)
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
    assert worker.total(metrics.RETURNS_NEEDING_ATTENTION.name) == 0
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
    assert worker.total(emails, kind="rejection", outcome="sent") == 1
    assert worker.total(emails, outcome="undeliverable") == 0
    assert worker.total(metrics.REMINDER_SWEEPS.name) == 1
    assert worker.values(metrics.REMINDERS_SENT.name) == [0]  # nobody left to remind
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
    assert accepted == sum(1 for s in played.samples if not s.withdraws_on_page)
    assert gateway.total(requests, route="/v1/events", method="POST", status="422") == 1
    assert gateway.total(seconds, route="/v1/events", method="POST") >= accepted + 1
    assert gateway.total(metrics.DEAD_LETTERS.name, source="events") == 1
    # Letters are counted by door, whatever carrier a stranger's path names.
    assert gateway.label_values(metrics.DEAD_LETTERS.name, "source") == {"events", "carrier"}
    assert gateway.values(metrics.TEMPORAL_UNREACHABLE.name) == [0]
    assert gateway.values(metrics.RATE_LIMITED.name, limit="requests") == [0]
    assert gateway.total("temporal_request") > 0  # the SDK's client metrics
    codec = played.scrapes["codec-server"]
    assert codec.total(requests, route="/decode", method="POST", status="401") == 1


def test_no_label_names_a_return_or_a_person(played: Played) -> None:
    for service in ("worker", "gateway", "codec-server"):
        for sample in played.scrapes[service].samples:
            for value in sample.labels.values():
                assert "@" not in value, (service, sample)
                assert not value.startswith("return-"), (service, sample)
                assert "/v1/returns/return-" not in value, (service, sample)


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

    assert set(health) == {"worker", "gateway", "codec-server", "temporal"}
    assert sum(len(g["rules"]) for g in rules) >= 10
    assert started[0]["value"][1] == str(sum(1 for s in played.samples if s.return_id))
