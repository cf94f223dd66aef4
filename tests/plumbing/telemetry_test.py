"""Each request counted and timed by its route's template, whatever it asks; telemetry off by
default; its settings checked."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from opentelemetry import baggage, trace
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.runtime import (
    BufferedMetricUpdate,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from plumbing import metrics, telemetry
from plumbing.serving import HostedApp
from plumbing.settings import Settings


@pytest.fixture
def buffer() -> Iterator[MetricBuffer]:
    """The process's metrics kept in a buffer for the test."""
    kept = MetricBuffer(1000, duration_format=MetricBufferDurationFormat.SECONDS)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=kept))
    metrics.use_meter(runtime.metric_meter)
    yield kept
    metrics.use_meter(MetricMeter.noop)


async def thing(request: Request) -> Response:
    return JSONResponse({"thing": request.path_params["thing_id"]})


class RefusesTeapots:
    """A middleware answering before any route is chosen, as the rate limits do."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["query_string"] == b"teapot=1":
            await Response(status_code=429)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def requests_counted(buffer: MetricBuffer) -> list[dict[str, str]]:
    updates: list[BufferedMetricUpdate] = list(buffer.retrieve_updates())
    return [
        {k: str(v) for k, v in u.attributes.items() if k != "service_name"}
        for u in updates
        if u.metric.name == metrics.HTTP_REQUESTS.name
    ]


async def test_requests_are_counted_by_route_template_never_by_path(buffer: MetricBuffer) -> None:
    app = Starlette(routes=[Route("/things/{thing_id}", thing, methods=["GET", "POST"])])
    served = telemetry.Telemetry("test", Runtime.default()).serve(RefusesTeapots(app), app.routes)
    async with HostedApp(served) as server, httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/things/ORD-2026-10231-1")).status_code == 200
        assert (await http.get("/nowhere/ORD-2026-10231-1")).status_code == 404
        assert (await http.request("BREW", "/things/x")).status_code == 405
        assert (await http.get("/things/ORD-2026-10231-1?teapot=1")).status_code == 429

    assert requests_counted(buffer) == [
        {"route": "/things/{thing_id}", "method": "GET", "status": "200"},
        {"route": "other", "method": "GET", "status": "404"},
        {"route": "/things/{thing_id}", "method": "other", "status": "405"},
        {"route": "/things/{thing_id}", "method": "GET", "status": "429"},
    ]


def test_by_default_nothing_is_served_and_nothing_traced() -> None:
    settings = Settings()
    exported = telemetry.from_settings(settings, "test")
    try:
        assert settings.metrics_address is None and settings.otlp_endpoint is None
        assert not exported.tracing
        assert exported.client_interceptors() == []
        # One runtime per process, serving no metrics.
        assert exported.runtime is telemetry.runtime_for(None, "another")
    finally:
        exported.close()
        metrics.use_meter(MetricMeter.noop)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("metrics_address", "9464"),
        ("metrics_address", "http://0.0.0.0:9464"),
        ("otlp_endpoint", "collector:4318"),
        ("trace_sample_ratio", "1.5"),
        ("returns_count_seconds", "1"),
    ],
)
def test_a_telemetry_setting_that_does_not_fit_is_refused_by_name(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate({field: value})

    assert field in str(refused.value)


async def test_a_request_answered_before_routing_is_counted_by_its_included_routes_template(
    buffer: MetricBuffer,
) -> None:
    # The gateway's doors are FastAPI routers included in its app.
    router = APIRouter(prefix="/v1")

    @router.get("/returns/{return_id}")
    async def a_return(return_id: str) -> dict[str, str]:
        return {"return_id": return_id}

    app = FastAPI()
    app.include_router(router)
    served = telemetry.Telemetry("test", Runtime.default()).serve(RefusesTeapots(app), app.routes)
    async with HostedApp(served) as server, httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/v1/returns/ORD-1-1?teapot=1")).status_code == 429

    assert requests_counted(buffer) == [
        {"route": "/v1/returns/{return_id}", "method": "GET", "status": "429"}
    ]


@dataclass
class Seen:
    """What a route saw of the caller's trace."""

    trace_id: int
    kept: bool
    baggage: dict[str, object]


async def seen_by_a_route(headers: dict[str, str], ratio: float = 1.0) -> Seen:
    """A request with `headers` to a gateway-like app traced at `ratio`: what its route saw."""
    seen: list[Seen] = []

    async def look(request: Request) -> Response:
        span = trace.get_current_span().get_span_context()
        seen.append(Seen(span.trace_id, span.trace_flags.sampled, dict(baggage.get_all())))
        return Response(status_code=204)

    app = Starlette(routes=[Route("/look", look)])
    provider = telemetry.tracer_provider("test", ratio)
    served = telemetry.Telemetry("test", Runtime.default(), provider, ratio).serve(app, app.routes)
    async with HostedApp(served) as server, httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/look", headers=headers)).status_code == 204
    return seen[0]


async def test_a_callers_baggage_is_not_carried_only_its_trace() -> None:
    caller = "4bf92f3577b34da6a3ce929d0e0e4736"

    seen = await seen_by_a_route(
        {
            "traceparent": f"00-{caller}-00f067aa0ba902b7-01",
            "baggage": "customer.email=camille%40example.org",
        }
    )

    assert seen.baggage == {}
    assert seen.trace_id == int(caller, 16)


@pytest.mark.parametrize(("drawn", "kept"), [(0.5, False), (0.005, True)])
async def test_the_door_decides_whether_a_callers_trace_is_kept_not_the_caller(
    monkeypatch: pytest.MonkeyPatch, drawn: float, kept: bool
) -> None:
    """A trace ID whose low bits are 0 would pass any ratio on the trace ID, and a caller
    sets the `sampled` flag as it likes: 1 % of the requests are kept, whatever they say."""
    monkeypatch.setattr("plumbing.telemetry.random.random", lambda: drawn)
    caller = "4bf92f3577b34da60000000000000000"

    seen = await seen_by_a_route({"traceparent": f"00-{caller}-00f067aa0ba902b7-01"}, 0.01)

    assert (seen.kept, seen.trace_id) == (kept, int(caller, 16))


@workflow.defn(sandboxed=False)
class FailsItsTask:
    @workflow.run
    async def run(self, why: str) -> None:
        raise RuntimeError("a bug in the workflow's code")


async def test_the_sdk_cores_own_log_lines_go_through_the_processs_logging(
    time_skipping_env: WorkflowEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    """Not straight to the console, where the JSON lines and their redaction never see them."""
    target = time_skipping_env.client.service_client.config.target_host
    client = await Client.connect(target, runtime=telemetry.runtime_for(None, "worker"))
    queue = f"core-logs-{uuid.uuid4()}"
    caplog.set_level(logging.WARNING)
    async with Worker(client, task_queue=queue, workflows=[FailsItsTask]):
        await client.start_workflow(
            FailsItsTask.run, "a bug", id=f"fails-{uuid.uuid4()}", task_queue=queue
        )
        async with asyncio.timeout(20):
            while not any(r.name.startswith(telemetry.CORE_LOGGER) for r in caplog.records):
                await asyncio.sleep(0.1)

    # The SDK names each record's logger after ours and the core's module.
    (line, *_) = [r for r in caplog.records if r.name.startswith(telemetry.CORE_LOGGER)]
    assert "Failing workflow task" in line.getMessage()
