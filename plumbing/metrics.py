"""The product's metrics: each one's name, kind, labels and buckets, and how to record it.

Every process records through the Temporal runtime's metric meter, so the SDK's own metrics
and the product's leave through one Prometheus endpoint per process (`plumbing.telemetry`).
Workflows record through `workflow.metric_meter()`, which stays silent while a history is
replayed; everything else through `meter()`, the process's. Labels are bounded: stages,
reasons, carriers, kinds and routes, never a return ID or anything about a person.

Pure module (the workflow sandbox passes it through).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from temporalio.common import (
    MetricCounter,
    MetricGaugeFloat,
    MetricHistogramFloat,
    MetricMeter,
)

Kind = Literal["counter", "histogram", "gauge"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds, for a call or a request."""

_HOUR = 3600.0
_DAY = 24 * _HOUR
DAYS_BUCKETS = (
    _HOUR,
    6 * _HOUR,
    _DAY,
    2 * _DAY,
    3 * _DAY,
    5 * _DAY,
    7 * _DAY,
    10 * _DAY,
    14 * _DAY,
    21 * _DAY,
    30 * _DAY,
    60 * _DAY,
)
"""Seconds, for the legal periods of a return (an hour to two months)."""


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()
    in_workflow: bool = False
    """Recorded by the return workflow on its meter, which adds `namespace`, `task_queue` and
    `workflow_type` to the labels."""


RETURNS_STARTED = Metric(
    "returnflow_returns_started_total", "counter", "Returns started.", in_workflow=True
)
RETURNS_ENDED = Metric(
    "returnflow_returns_ended_total",
    "counter",
    "Returns ended, by the stage they ended in (the outcome) and the furthest stage they "
    "reached on the way.",
    ("outcome", "reached"),
    in_workflow=True,
)
RETURNS_IN_STAGE = Metric(
    "returnflow_returns_in_stage",
    "gauge",
    "Running returns now in each stage (counted in Temporal's visibility).",
    ("stage",),
)
RETURNS_NEEDING_ATTENTION = Metric(
    "returnflow_returns_needing_attention",
    "gauge",
    "Running returns now needing operations' attention, by reason (a return may have several).",
    ("reason",),
)
RETURNS_COUNTED_AT = Metric(
    "returnflow_returns_counted_timestamp_seconds",
    "gauge",
    "When the returns in each stage were last counted (Unix time).",
)
WITHDRAWAL_TO_DISPATCH = Metric(
    "returnflow_withdrawal_to_dispatch_seconds",
    "histogram",
    "From the customer's notice of withdrawal to the proof of dispatch (the carrier's first scan).",
    buckets=DAYS_BUCKETS,
    in_workflow=True,
)
WITHDRAWAL_TO_REFUND = Metric(
    "returnflow_withdrawal_to_refund_request_seconds",
    "histogram",
    "From the customer's notice of withdrawal to the refund request to the order service.",
    buckets=DAYS_BUCKETS,
    in_workflow=True,
)
REFUNDS_REQUESTED = Metric(
    "returnflow_refunds_requested_total",
    "counter",
    "Refunds asked of the order service, new ones and ones it already had (a retry).",
    ("created",),
)
DEADLINES_MISSED = Metric(
    "returnflow_legal_deadlines_missed_total",
    "counter",
    "Legal deadlines the trader missed: `refund` is a refund requested after the 14 days of "
    "Art. 13(1).",
    ("deadline",),
    in_workflow=True,
)
ATTENTION_RAISED = Metric(
    "returnflow_attention_raised_total",
    "counter",
    "Reasons for operations' attention raised on a return.",
    ("reason",),
    in_workflow=True,
)
CARRIER_CALLS = Metric(
    "returnflow_carrier_calls_total",
    "counter",
    "Calls to a carrier, by carrier, operation and outcome (ok, rejected, auth_failed, "
    "unavailable, error, or cancelled by the return or a worker's shutdown).",
    ("carrier", "operation", "outcome"),
)
CARRIER_CALL_SECONDS = Metric(
    "returnflow_carrier_call_seconds",
    "histogram",
    "How long a call to a carrier took, whatever its outcome.",
    ("carrier", "operation"),
    LATENCY_BUCKETS,
)
EMAILS = Metric(
    "returnflow_emails_total",
    "counter",
    "Notices by kind and outcome: sent, already_sent (by an earlier attempt), undeliverable "
    "(for good) or failed (retried).",
    ("kind", "outcome"),
)
REMINDER_SWEEPS = Metric(
    "returnflow_reminder_sweeps_total",
    "counter",
    "Reminder sweeps run to their end.",
)
REMINDER_SWEEP_DONE_AT = Metric(
    "returnflow_reminder_sweep_done_timestamp_seconds",
    "gauge",
    "When this worker last ran a reminder sweep to its end (Unix time).",
)
REMINDERS_SENT = Metric(
    "returnflow_reminders_sent_total",
    "counter",
    "Returns a reminder sweep told to remind their customer to ship.",
)
EVENT_DELIVERIES = Metric(
    "returnflow_event_deliveries_total",
    "counter",
    "Event feed deliveries by subscriber and outcome: delivered, or failed (tried again, "
    "then parked).",
    ("subscriber", "outcome"),
)
HTTP_REQUESTS = Metric(
    "returnflow_http_requests_total",
    "counter",
    "Requests answered, by route (its template), method and status; 429 is a rate-limited "
    "request, 503 Temporal not answering.",
    ("route", "method", "status"),
)
HTTP_REQUEST_SECONDS = Metric(
    "returnflow_http_request_seconds",
    "histogram",
    "From a request's arrival to its answer's last byte.",
    ("route", "method"),
    LATENCY_BUCKETS,
)
RATE_LIMITED = Metric(
    "returnflow_rate_limited_total",
    "counter",
    "Requests refused for their source's rate: `requests` (too many) or `refusals` (too many "
    "refused before).",
    ("limit",),
)
DEAD_LETTERS = Metric(
    "returnflow_dead_letters_filed_total",
    "counter",
    "Requests kept as dead letters for operations, by the door they came through (`events`, "
    "`carrier`).",
    ("source",),
)
TEMPORAL_UNREACHABLE = Metric(
    "returnflow_temporal_unreachable_total",
    "counter",
    "Requests the gateway could not hand to Temporal because it did not answer (each answered "
    "503).",
)
CATALOGUE: tuple[Metric, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Metric))
"""Every metric of the product (the SDK's own are named `temporal_*`)."""


ANNOUNCED: dict[str, tuple[tuple[Metric, dict[str, str]], ...]] = {
    "worker": (
        (RETURNS_STARTED, {}),
        (REFUNDS_REQUESTED, {"created": "true"}),
        (DEADLINES_MISSED, {"deadline": "refund"}),
        (REMINDER_SWEEPS, {}),
        (REMINDERS_SENT, {}),
    ),
    "gateway": (
        (RATE_LIMITED, {"limit": "requests"}),
        (RATE_LIMITED, {"limit": "refusals"}),
        (DEAD_LETTERS, {"source": "events"}),
        (DEAD_LETTERS, {"source": "carrier"}),
        (TEMPORAL_UNREACHABLE, {}),
    ),
}
"""Counters each service exports from its start, at zero until something happens: an alert
or a dashboard then reads 0, not "no data", and `increase` sees the first one."""


def announce(service: str, workflow_labels: Mapping[str, str] | None = None) -> None:
    """Export the counters of `service` at zero (see `ANNOUNCED`); those a workflow records,
    with the labels its meter adds (`workflow_labels`), so that they are the same series."""
    for metric, labels in ANNOUNCED.get(service, ()):
        if metric.in_workflow:
            if workflow_labels is None:
                continue
            meter = _process_meter.with_additional_attributes(workflow_labels)
            meter.create_counter(metric.name, metric.help).add(0, _checked(metric, labels))
        else:
            add(metric, 0, labels)


SDK_BUCKETS: dict[str, tuple[float, ...]] = {
    # The alerts' thresholds (2 s, 30 s) are bucket boundaries: the SDK's own buckets (0.1, 0.5,
    # 1, 5, 10, 100, 1000) would put 30 s between 10 and 100, and the quantile anywhere there.
    "temporal_workflow_task_schedule_to_start_latency": (0.1, 0.5, 1, 2, 5, 10, 100, 1000),
    "temporal_activity_schedule_to_start_latency": (0.1, 0.5, 1, 5, 10, 30, 60, 100, 1000),
}
"""The buckets, in seconds, of the SDK's histograms the alerts read a quantile of."""


def bucket_overrides() -> dict[str, list[float]]:
    """The buckets of each histogram, the product's and the SDK's the alerts read, for the
    runtime's Prometheus exporter."""
    product = {m.name: list(m.buckets) for m in CATALOGUE if m.kind == "histogram"}
    return product | {name: list(buckets) for name, buckets in SDK_BUCKETS.items()}


_process_meter: MetricMeter = MetricMeter.noop


def use_meter(meter: MetricMeter) -> None:
    """Record this process's metrics on `meter` (its runtime's); until then nothing is kept."""
    global _process_meter
    _process_meter = meter
    _counters.clear()
    _histograms.clear()
    _gauges.clear()


_counters: dict[str, MetricCounter] = {}
_histograms: dict[str, MetricHistogramFloat] = {}
_gauges: dict[str, MetricGaugeFloat] = {}


def count(
    metric: Metric, labels: Mapping[str, str] | None = None, on: MetricMeter | None = None
) -> None:
    add(metric, 1, labels, on)


def add(
    metric: Metric,
    value: int,
    labels: Mapping[str, str] | None = None,
    on: MetricMeter | None = None,
) -> None:
    """Add `value` to a counter, on `on` (a workflow's meter) or the process's."""
    assert metric.kind == "counter", metric.name
    if on is not None:
        on.create_counter(metric.name, metric.help).add(value, _checked(metric, labels))
        return
    counter = _counters.get(metric.name)
    if counter is None:
        counter = _counters[metric.name] = _process_meter.create_counter(metric.name, metric.help)
    counter.add(value, _checked(metric, labels))


def observe(
    metric: Metric,
    seconds: float | dt.timedelta,
    labels: Mapping[str, str] | None = None,
    on: MetricMeter | None = None,
) -> None:
    """Record a duration in a histogram, on `on` (a workflow's meter) or the process's."""
    assert metric.kind == "histogram", metric.name
    value = seconds.total_seconds() if isinstance(seconds, dt.timedelta) else seconds
    if on is not None:
        on.create_histogram_float(metric.name, metric.help, "s").record(
            max(value, 0.0), _checked(metric, labels)
        )
        return
    histogram = _histograms.get(metric.name)
    if histogram is None:
        histogram = _process_meter.create_histogram_float(metric.name, metric.help, "s")
        _histograms[metric.name] = histogram
    histogram.record(max(value, 0.0), _checked(metric, labels))


def set_gauge(metric: Metric, value: float, labels: Mapping[str, str] | None = None) -> None:
    assert metric.kind == "gauge", metric.name
    gauge = _gauges.get(metric.name)
    if gauge is None:
        gauge = _gauges[metric.name] = _process_meter.create_gauge_float(metric.name, metric.help)
    gauge.set(value, _checked(metric, labels))


def _checked(metric: Metric, labels: Mapping[str, str] | None) -> Mapping[str, str]:
    given = dict(labels or {})
    assert set(given) == set(metric.labels), (metric.name, sorted(given))
    return given
