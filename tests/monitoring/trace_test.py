"""One trace, from the order service's event at the gateway to the carrier's HTTP call that
made the label: what an engineer follows when a return was slow."""

from __future__ import annotations

from pathlib import Path

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.testing import WorkflowEnvironment

from domain.returns import ReturnStage
from plumbing.serving import HostedApp
from plumbing.telemetry import Telemetry, tracer_provider
from tests.factories import retract_event
from tests.gateway.actions_test import pickup
from tests.gateway.door import CUSTOMER_TOKEN, event_body, gateway_settings, open_door
from tests.workflows.real_stack import real_stack


async def test_a_gateway_request_its_workflow_activities_and_carrier_call_make_one_trace(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    exported = InMemorySpanExporter()
    provider = tracer_provider("test")
    provider.add_span_processor(SimpleSpanProcessor(exported))
    telemetry = Telemetry("test", Runtime.default(), provider)
    telemetry.instrument_http_clients()
    config = time_skipping_env.client.config()
    config["interceptors"] = telemetry.client_interceptors()
    traced = Client(**config)
    event = retract_event()
    try:
        async with real_stack(time_skipping_env, tmp_path / "worker", client=traced) as stack:
            settings = gateway_settings(stack.settings.task_queue, tmp_path / "gateway")
            async with open_door(traced, settings, telemetry=telemetry) as door:
                accepted = await door.send_event(event_body(event))
                assert accepted.status_code == 202, accepted.text
                return_id = accepted.json()["return_id"]
                handle = stack.client.get_workflow_handle(return_id)
                await stack.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
                chosen = await door.act(return_id, "method", pickup(), CUSTOMER_TOKEN)
                assert chosen.status_code == 200, chosen.text
                sandbox = stack.sandbox.url
    finally:
        telemetry.close()

    spans = exported.get_finished_spans()
    request = one(spans, "POST /v1/events", SpanKind.SERVER)
    trace = [s for s in spans if s.context.trace_id == request.context.trace_id]
    names = {s.name for s in trace}
    assert {
        "StartWorkflow:ReturnWorkflow",
        "RunWorkflow:ReturnWorkflow",
        "StartActivity:create_return_label",
        "RunActivity:create_return_label",
    } <= names
    label_call = one(trace, "RunActivity:create_return_label", SpanKind.SERVER)
    carrier_calls = [
        s
        for s in trace
        if s.kind is SpanKind.CLIENT
        and s.parent is not None
        and s.parent.span_id == label_call.context.span_id
        and str(url_of(s)).startswith(sandbox)
    ]
    assert carrier_calls, sorted(names)
    # The customer's choice is traced too: its request sends the update, whose handling on the
    # worker is in the return's trace, linked to the request.
    choice = one(spans, "POST /v1/returns/{return_id}/method", SpanKind.SERVER)
    assert choice.attributes is not None and choice.attributes["http.response.status_code"] == 200
    sent = [s for s in spans if s.name == "StartWorkflowUpdate:choose_return_method"]
    assert [s.context.trace_id for s in sent] == [choice.context.trace_id]
    handled = one(spans, "HandleUpdate:choose_return_method", SpanKind.SERVER)
    assert handled.context.trace_id == request.context.trace_id
    assert [link.context.trace_id for link in handled.links] == [choice.context.trace_id]


def one(
    spans: list[ReadableSpan] | tuple[ReadableSpan, ...], name: str, kind: SpanKind
) -> ReadableSpan:
    found = [s for s in spans if s.name == name and s.kind is kind]
    assert len(found) == 1, (name, sorted({s.name for s in spans}))
    return found[0]


def url_of(span: ReadableSpan) -> object:
    attributes = span.attributes or {}
    return attributes.get("url.full", attributes.get("http.url"))


async def test_an_outgoing_calls_span_holds_its_url_without_the_query() -> None:
    """A carrier's post-office lookup sends the customer's postal code and city as its query:
    the span names the URL called, never what the query held."""
    exporter = InMemorySpanExporter()
    provider = tracer_provider("worker")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry = Telemetry("worker", Runtime.default(), provider)
    telemetry.instrument_http_clients()

    async def offices(_request: Request) -> JSONResponse:
        return JSONResponse({"post_offices": []})

    try:
        app = Starlette(routes=[Route("/v1/post-offices", offices)])
        async with HostedApp(app) as served, httpx.AsyncClient(base_url=served.url) as http:
            answer = await http.get(
                "/v1/post-offices", params={"postal_code": "75011", "city": "Paris"}
            )
    finally:
        telemetry.close()

    (span,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]
    urls = [str(v) for k, v in (span.attributes or {}).items() if k in ("http.url", "url.full")]
    assert answer.status_code == 200
    assert urls and all(url.endswith("/v1/post-offices") for url in urls), urls
    assert "75011" not in str(span.attributes) and "Paris" not in str(span.attributes)
