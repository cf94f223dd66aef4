"""A process's metrics and traces (docs/telemetry.md).

Metrics: the Temporal runtime of the process serves them in Prometheus format on
`RETURNFLOW_METRICS_ADDRESS` (off when unset): the SDK's own (`temporal_*`: worker slots,
schedule-to-start, task and activity latencies, failures, client requests) and the product's
(`plumbing.metrics`), with a `service` label naming the process.

Traces: with `RETURNFLOW_OTLP_ENDPOINT` set, spans go over OTLP/HTTP: the gateway's requests
(`HttpTelemetry`), the SDK's client and worker interceptor (start, update, signal, workflow,
activity) and every outgoing HTTP call of httpx, all in one trace. Off by default: then no
interceptor, no instrumentation, nothing is spent on them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Interceptor
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from plumbing import metrics
from plumbing.settings import Settings

log = logging.getLogger(__name__)

TRACER_NAME = "returnflow"


TRACE_CONTEXT = TraceContextTextMapPropagator()
"""How a caller's trace is read: `traceparent` and `tracestate`, nothing else."""


@dataclass
class Telemetry:
    """What one process exports: its Temporal runtime (metrics) and its tracer provider."""

    service: str
    runtime: Runtime
    tracer_provider: TracerProvider | None = None
    sample_ratio: float = 1.0
    """The share of the traces of requests from outside kept (RETURNFLOW_TRACE_SAMPLE_RATIO)."""
    _instrumented: bool = field(default=False, repr=False)

    @property
    def tracing(self) -> bool:
        return self.tracer_provider is not None

    def client_interceptors(self) -> list[Interceptor]:
        """The SDK's tracing interceptor when tracing (a worker takes it from its client)."""
        if self.tracer_provider is None:
            return []
        from temporalio.contrib.opentelemetry import TracingInterceptor

        return [TracingInterceptor(self.tracer_provider.get_tracer(TRACER_NAME))]

    def connect_options(self) -> dict[str, Any]:
        """`Client.connect` arguments: this runtime, and the interceptor when tracing."""
        return {"runtime": self.runtime, "interceptors": self.client_interceptors()}

    def instrument_http_clients(self) -> None:
        """Trace every outgoing httpx request of the process (carriers, the marketplace)."""
        if self.tracer_provider is None or self._instrumented:
            return
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor().instrument(
            tracer_provider=self.tracer_provider,
            request_hook=_url_without_query,
            async_request_hook=_url_without_query_async,
        )
        self._instrumented = True

    def serve(self, app: ASGIApp, routes: Iterable[BaseRoute]) -> ASGIApp:
        """`app` with its requests counted, timed and (when tracing) traced."""
        tracer = self.tracer_provider.get_tracer(TRACER_NAME) if self.tracer_provider else None
        return HttpTelemetry(app, list(routes), tracer, self.sample_ratio)

    def close(self) -> None:
        """Send the spans still buffered and stop instrumenting."""
        if self._instrumented:
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

            HTTPXClientInstrumentor().uninstrument()
            self._instrumented = False
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()


URL_ATTRIBUTES = ("http.url", "url.full")
"""Where an outgoing call's span holds the URL it called, by semantic-conventions version."""


def _url_without_query(span: Any, _request: Any) -> None:
    """An outgoing call's URL without its query: a carrier's post-office lookup puts the
    customer's postal code and city there, which no trace may hold."""
    attributes = getattr(span, "attributes", None) or {}
    for key in URL_ATTRIBUTES:
        url = attributes.get(key)
        if isinstance(url, str) and "?" in url:
            span.set_attribute(key, url.split("?", 1)[0])


async def _url_without_query_async(span: Any, request: Any) -> None:
    _url_without_query(span, request)


def from_settings(settings: Settings, service: str) -> Telemetry:
    """The process's telemetry as configured, its meter made the process's
    (`plumbing.metrics`)."""
    runtime = runtime_for(settings.metrics_address, service)
    provider = None
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider = tracer_provider(service, settings.trace_sample_ratio)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(settings.otlp_endpoint)))
    telemetry = Telemetry(service, runtime, provider, settings.trace_sample_ratio)
    metrics.use_meter(runtime.metric_meter)
    metrics.announce(service)
    telemetry.instrument_http_clients()
    if settings.metrics_address or provider is not None:
        log.info(
            "telemetry",
            extra={"metrics": settings.metrics_address, "traces": settings.otlp_endpoint},
        )
    return telemetry


def tracer_provider(service: str, sample_ratio: float = 1.0) -> TracerProvider:
    """A tracer provider naming `service`, keeping `sample_ratio` of the traces it starts (by
    the trace ID), and following the decision a parent carries: the processes of one trace keep
    or drop it whole. A caller's own decision never reaches it: the door it calls decides
    afresh (`HttpTelemetry`)."""
    return TracerProvider(
        resource=Resource.create({"service.name": f"returnflow-{service}"}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )


CORE_LOGGER = "temporalio.core"
"""Where the SDK's core (in Rust) logs: through the process's JSON lines and their redaction,
like every other line, not straight to the console."""


def _core_logging() -> LoggingConfig:
    return LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
    )


_quiet_runtime: Runtime | None = None


def runtime_for(address: str | None, service: str) -> Runtime:
    """A runtime serving its metrics on `address` (HOST:PORT), each series tagged `service`;
    without an address, one that serves none (one per process). Either logs through
    `CORE_LOGGER`."""
    global _quiet_runtime
    if not address:
        if _quiet_runtime is None:
            _quiet_runtime = Runtime(telemetry=TelemetryConfig(logging=_core_logging()))
        return _quiet_runtime
    prometheus = PrometheusConfig(
        bind_address=address,
        durations_as_seconds=True,
        histogram_bucket_overrides=metrics.bucket_overrides(),
    )
    try:
        return Runtime(
            telemetry=TelemetryConfig(
                metrics=prometheus, global_tags={"service": service}, logging=_core_logging()
            )
        )
    except ValueError as err:  # not an IP address and port, or the port taken
        raise TelemetryConfigError(
            f"RETURNFLOW_METRICS_ADDRESS: cannot serve metrics on {address}: {err} (an IP "
            "address and a free port, e.g. 127.0.0.1:9464)"
        ) from None


class TelemetryConfigError(ValueError):
    """Telemetry cannot be set up as configured; the message names the setting."""


class HttpTelemetry:
    """ASGI middleware: each request counted and timed by its route's template (never its
    path, which may hold an ID), and a server span continuing the caller's trace."""

    def __init__(
        self,
        app: ASGIApp,
        routes: list[BaseRoute],
        tracer: trace.Tracer | None,
        sample_ratio: float = 1.0,
    ) -> None:
        self.app = app
        self.routes = list(_flat(routes))
        self.tracer = tracer
        self.sample_ratio = sample_ratio

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        method = _method(scope.get("method", ""))

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        span = None
        token = None
        if self.tracer is not None:
            carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            # The trace context only: a caller's `baggage` would ride in every Temporal header
            # and outgoing request, in clear.
            parent = self._decided_here(TRACE_CONTEXT.extract(carrier))
            span = self.tracer.start_span(
                f"{method} {self._route(scope)}", context=parent, kind=trace.SpanKind.SERVER
            )
            token = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = self._route(scope)
            labels = {"route": route, "method": method, "status": str(status)}
            metrics.count(metrics.HTTP_REQUESTS, labels)
            metrics.observe(
                metrics.HTTP_REQUEST_SECONDS,
                time.perf_counter() - started,
                {"route": route, "method": method},
            )
            if span is not None and token is not None:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.request.method", method)
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(trace.Status(trace.StatusCode.ERROR))
                span.end()
                otel_context.detach(token)

    def _decided_here(self, parent: otel_context.Context) -> otel_context.Context:
        """The caller's trace, kept or not as this door decides: its `sampled` flag is the
        caller's to set, and so is its trace ID, on which a ratio would decide."""
        caller = trace.get_current_span(parent).get_span_context()
        if not caller.is_valid:
            return parent
        keep = random.random() < self.sample_ratio  # a share, not a secret
        decided = trace.SpanContext(
            caller.trace_id,
            caller.span_id,
            is_remote=True,
            trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED if keep else 0),
            trace_state=caller.trace_state,
        )
        return trace.set_span_in_context(trace.NonRecordingSpan(decided), parent)

    def _route(self, scope: Scope) -> str:
        """The template of the route that took (or would take) the request; `other` for a
        path no route matches."""
        route = scope.get("route")
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
        for candidate in self.routes:
            matched, _ = candidate.matches(scope)
            if matched is Match.FULL:
                template = getattr(candidate, "path", None)
                if isinstance(template, str):
                    return template
        return "other"


def _flat(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes a request can take, those of the routers included in an app among them
    (FastAPI keeps an included router as one entry). An included router's routes carry the
    prefix of its `APIRouter`, as the gateway's do; a prefix given to `include_router` is not
    in them, and its requests would count as `other`."""
    for route in routes:
        included = getattr(getattr(route, "original_router", None), "routes", None)
        if isinstance(included, list):
            yield from _flat(included)
        else:
            yield route


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(method: str) -> str:
    return method if method in _METHODS else "other"
