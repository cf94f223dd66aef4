"""Carrier failures as activity errors, classified once for every carrier and every activity.

The carrier refusing our data is a non-retryable `CarrierRejected` (the workflow decides what to
tell whom), bad credentials are a non-retryable `CarrierAuthFailed` logged loudly for operators,
and everything else is retried by Temporal, after `Retry-After` when the carrier sent one: an
answer an adapter cannot read too, as an outage, named in the failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import InvalidOperation

from temporalio import activity

from activities.carriers.protocol import CarrierAuthFailed, CarrierRejected, CarrierUnavailable
from activities.carriers.scans import unreadable
from activities.failures import carrier_auth_failed, carrier_rejected, carrier_unavailable
from plumbing import metrics


@contextmanager
def counted(carrier: str, operation: str | None = None) -> Iterator[None]:
    """Count and time a call to `carrier` (`returnflow_carrier_calls_total`) under `operation`,
    by default the activity's name, with the outcome its error says."""
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except CarrierRejected:
        outcome = "rejected"
        raise
    except CarrierAuthFailed:
        outcome = "auth_failed"
        raise
    except CarrierUnavailable:
        outcome = "unavailable"
        raise
    except asyncio.CancelledError:
        # The return stopped the call (a poll it no longer needs) or the worker is shutting
        # down: nothing the carrier did.
        outcome = "cancelled"
        raise
    finally:
        labels = {"carrier": carrier, "operation": operation or activity.info().activity_type}
        metrics.observe(metrics.CARRIER_CALL_SECONDS, time.perf_counter() - started, labels)
        metrics.count(metrics.CARRIER_CALLS, labels | {"outcome": outcome})


@contextmanager
def classified(carrier: str) -> Iterator[None]:
    """A call to `carrier`, counted, its failures classified."""
    try:
        with counted(carrier):
            yield
    except CarrierRejected as err:
        raise carrier_rejected(err.message, err.field) from err
    except CarrierAuthFailed as err:
        activity.logger.error(
            "carrier refused our credentials: fix the carrier configuration",
            extra={"carrier": carrier, "http_status": err.status},
        )
        raise carrier_auth_failed(err.message) from err
    except CarrierUnavailable as err:
        delay = dt.timedelta(seconds=err.retry_after) if err.retry_after is not None else None
        raise carrier_unavailable(err.message, delay) from err
    except (KeyError, TypeError, ValueError, InvalidOperation) as err:
        # An answer the adapter could not read (a field missing, a list for an object, a page
        # that is not JSON): the carrier's, or something's in between. Tried again, as an
        # outage is, and said so in the failure operators read, naming no value.
        why = unreadable(err)
        activity.logger.warning("carrier answer unreadable", extra={"carrier": carrier, "why": why})
        raise carrier_unavailable(f"{carrier}: an answer it could not read ({why})") from err
