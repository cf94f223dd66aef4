"""How long a carrier or a marketplace service asks us to wait: honoured up to the retry
policies' longest wait, and ignored when it is not a number of seconds; and an answer an
adapter cannot read, tried again as an outage."""

from __future__ import annotations

import asyncio
import time
from decimal import InvalidOperation

import httpx
import pytest
from temporalio.common import MetricMeter
from temporalio.exceptions import ApplicationError
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment

from activities.carriers.classify import classified
from activities.carriers.http_errors import MAX_RETRY_AFTER, raise_for_status, retry_after, send
from activities.carriers.protocol import CarrierAuthFailed, CarrierRejected, CarrierUnavailable
from plumbing import metrics
from tests.trickle import trickling


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("30", 30.0),
        ("0.5", 0.5),
        ("-5", 0.0),
        ("86400", MAX_RETRY_AFTER),  # a day: the choice and the refund cannot wait that long
        ("1e20", MAX_RETRY_AFTER),
        ("inf", None),
        ("nan", None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
        ("soon", None),
    ],
)
def test_retry_after_is_a_bounded_number_of_seconds_or_nothing(
    header: str, seconds: float | None
) -> None:
    response = httpx.Response(429, headers={"Retry-After": header})

    assert retry_after(response) == seconds


def test_no_retry_after_is_nothing() -> None:
    assert retry_after(httpx.Response(503)) is None


@pytest.mark.parametrize(
    "unreadable",
    [
        KeyError("label_id"),
        TypeError("list indices must be integers"),
        ValueError("not JSON"),
        InvalidOperation("a rate of null"),
    ],
)
async def test_an_answer_an_adapter_cannot_read_is_an_outage_named_in_the_failure(
    unreadable: Exception,
) -> None:
    async def call_the_carrier() -> None:
        with classified("sandbox"):
            raise unreadable

    with pytest.raises(ApplicationError) as failed:
        await ActivityEnvironment().run(call_the_carrier)

    assert failed.value.type == "CarrierUnavailable"
    assert not failed.value.non_retryable
    said = failed.value.message
    assert said.startswith(f"sandbox: an answer it could not read ({type(unreadable).__name__}")
    if not isinstance(unreadable, KeyError):
        assert str(unreadable) not in said  # what the carrier sent is not repeated


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, CarrierRejected),
        (422, CarrierRejected),
        (401, CarrierAuthFailed),
        (403, CarrierAuthFailed),
        # EasyPost's Payment Required: the account's billing, operations' to fix.
        (402, CarrierAuthFailed),
        # A request the carrier gave up waiting for: its outcome unknown, asked again (a
        # purchase is safe to retry: the adapter reads the shipment back first).
        (408, CarrierUnavailable),
        (429, CarrierUnavailable),
        (503, CarrierUnavailable),
    ],
)
def test_each_status_is_the_carrier_error_that_tells_who_must_act(
    status: int, kind: type[Exception]
) -> None:
    with pytest.raises(kind):
        raise_for_status("easypost", status, "the carrier's words")


async def test_a_carrier_answering_a_byte_at_a_time_is_cut_off_and_retried() -> None:
    """Each byte within the timeout, so no step of httpx's times out: the whole answer must
    still come within twice the timeout, or the call is an outage, asked again."""

    started = time.monotonic()
    async with (
        trickling(b'{"name": "Sandbox Post", "capabilities": []}') as url,
        httpx.AsyncClient(timeout=0.5) as http,
    ):
        with pytest.raises(CarrierUnavailable) as cut_off:
            await send(http, "sandbox", "GET", f"{url}/v1/carrier")

    assert "no whole answer within 1s" in str(cut_off.value)
    assert time.monotonic() - started < 3


async def test_a_call_cancelled_by_the_return_is_counted_cancelled_not_as_a_carrier_error() -> None:
    """A poll the return stops, or a call cut by a worker's shutdown, says nothing of the
    carrier: `CarrierErrorRate` must not read it as a failure."""
    kept = MetricBuffer(1000)
    metrics.use_meter(Runtime(telemetry=TelemetryConfig(metrics=kept)).metric_meter)
    environment = ActivityEnvironment()

    async def poll_the_carrier() -> None:
        with classified("sandbox"):
            environment.cancel()
            await asyncio.sleep(10)

    try:
        with pytest.raises(asyncio.CancelledError):
            await environment.run(poll_the_carrier)
    finally:
        metrics.use_meter(MetricMeter.noop)

    outcomes = [
        dict(u.attributes)["outcome"]
        for u in kept.retrieve_updates()
        if u.metric.name == metrics.CARRIER_CALLS.name
    ]
    assert outcomes == ["cancelled"]
