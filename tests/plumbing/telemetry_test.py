"""Each request counted and timed by its route's template, whatever it asks; telemetry off by
default; its settings checked."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.common import MetricMeter
from temporalio.runtime import (
    BufferedMetricUpdate,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
)

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
        assert exported.runtime is Runtime.default()
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
