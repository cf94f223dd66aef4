"""Timeouts and retry policies of every activity the workflows call, with the reason.

A return's retries never give up on a transient failure: a return must outlive a carrier's or a
mail relay's outage. What retrying cannot fix is a non-retryable error type, handled by the
workflow. Only the reminder sweep gives up (the next day's sweep does its work).

Every activity that calls another service is given a heartbeat timeout (`KEPT_ALIVE`), and the
worker heartbeats for it while it runs (`plumbing.keepalive`): an attempt on a worker that died
is retried elsewhere within that timeout, not after its start-to-close timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

from domain.failures import CARRIER_FAILURES_FOR_GOOD, NOTICE_FAILURES_FOR_GOOD, FailureType


@dataclass(frozen=True)
class ActivityPolicy:
    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy
    heartbeat_timeout: timedelta | None = None
    """A lost worker's attempt is retried elsewhere this soon (the worker heartbeats for
    every activity it runs, `plumbing.keepalive`)."""
    schedule_to_close_timeout: timedelta | None = None
    """All attempts together: past it, the activity gives up."""

    def options(self, **overrides: Any) -> dict[str, Any]:
        """`workflow.execute_activity` arguments: every timeout and the retry policy, with
        `overrides` (a deadline of the call's own, another retry policy)."""
        return {
            "start_to_close_timeout": self.start_to_close_timeout,
            "heartbeat_timeout": self.heartbeat_timeout,
            "schedule_to_close_timeout": self.schedule_to_close_timeout,
            "retry_policy": self.retry_policy,
            **overrides,
        }


KEPT_ALIVE = timedelta(seconds=20)
"""The heartbeat timeout of the activities calling other services: the worker heartbeats for
them every 5 s, so an attempt on a worker that died is retried 20 s after its last heartbeat."""

CARRIER = ActivityPolicy(
    # One HTTP call with its own 20 s timeout; carriers have outages of minutes to hours.
    start_to_close_timeout=timedelta(seconds=60),
    heartbeat_timeout=KEPT_ALIVE,
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=10),
        non_retryable_error_types=list(CARRIER_FAILURES_FOR_GOOD),
    ),
)

LABEL_PRICES = ActivityPolicy(
    # The offered carriers quoted at once, each within its own HTTP timeout; a carrier that
    # fails is offered without a price inside the activity. Retries only cover a lost worker:
    # the address email does not wait long for prices.
    start_to_close_timeout=timedelta(seconds=60),
    heartbeat_timeout=KEPT_ALIVE,
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=3),
)

NOTICE = ActivityPolicy(
    # Fetching a label PDF and one SMTP transaction. A relay that is down is retried for as long
    # as it takes; a recipient the relay refuses is not. Its heartbeats carry the Message-IDs
    # sent so far.
    start_to_close_timeout=timedelta(seconds=90),
    heartbeat_timeout=KEPT_ALIVE,
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=5),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=15),
        non_retryable_error_types=list(NOTICE_FAILURES_FOR_GOOD),
    ),
)

LOOKUP = ActivityPolicy(
    # Local activities on the worker: the return's clocks, the eligibility rule, the sellers
    # file, the carriers configured. A broken sellers file waits for an operator.
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
)

SELLER_CHAT = ActivityPolicy(
    # One message in the seller chat; the chat may be down for a while.
    start_to_close_timeout=timedelta(seconds=30),
    heartbeat_timeout=KEPT_ALIVE,
    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=10)),
)

ORDER_SERVICE = ActivityPolicy(
    # The refund request: idempotent by key, retried through the order service's outages;
    # a conflicting request under the same key is a bug for operations, not retried.
    start_to_close_timeout=timedelta(seconds=30),
    heartbeat_timeout=KEPT_ALIVE,
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_interval=timedelta(minutes=10),
        non_retryable_error_types=[FailureType.REFUND_CONFLICT],
    ),
)

WITHDRAWN_RETURNS = ActivityPolicy(
    # A confirmed withdrawal starts its lines' returns: one start per line, each idempotent by
    # its event ID. Retried until Temporal takes them: the customer has withdrawn.
    start_to_close_timeout=timedelta(seconds=60),
    heartbeat_timeout=KEPT_ALIVE,
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
    ),
)

POLLING = ActivityPolicy(
    # One tracking call per attempt; the waiting happens between attempts.
    start_to_close_timeout=timedelta(seconds=60),
    heartbeat_timeout=KEPT_ALIVE,
    retry_policy=RetryPolicy(),
)


REMINDER_SWEEP = ActivityPolicy(
    # Pages through visibility and signals each unshipped return: seconds for thousands. Its
    # heartbeat holds the progress, so an attempt on a lost worker is noticed within a minute
    # and the retry goes on from the last page done (a return signalled twice sends one
    # reminder a day). It gives up after an hour: reminders are a courtesy, and the next
    # day's sweep finds whoever this one missed.
    start_to_close_timeout=timedelta(minutes=15),
    heartbeat_timeout=timedelta(minutes=1),
    schedule_to_close_timeout=timedelta(hours=1),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=2)
    ),
)

LAST_LOOK_WITHIN = timedelta(hours=1)
"""The last look at the carrier before a return expires, retries included: a carrier down for
longer does not hold the return open (the return expires without it)."""

SWEEP_RUN_TIMEOUT = timedelta(hours=2)
"""The whole sweep workflow: beyond its activity's hour, something is wrong; it fails visibly
in the Web UI and leaves room for the next day's run (the schedule skips overlapping runs)."""


def polling(interval: timedelta) -> RetryPolicy:
    """Poll at a fixed interval: each attempt that finds no new scan fails as benign
    `NoScanYet` and the next one comes `interval` later, until cancelled or answered."""
    return RetryPolicy(
        initial_interval=interval,
        backoff_coefficient=1.0,
        maximum_interval=interval,
        non_retryable_error_types=list(CARRIER_FAILURES_FOR_GOOD),
    )


FEED_PUBLISH = ActivityPolicy(
    # A local activity: one signal-with-start to Temporal, which the return waits for. Retried
    # for as long as Temporal does not answer (the return cannot go on without it either).
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
)


def feed_delivery(attempts: int) -> ActivityPolicy:
    """One event to one subscriber: one HTTP call within 25 s; `attempts` with backoff from 1 s
    to 10 minutes, then the delivery is parked for operations. A refusal (3xx, 4xx) is parked
    at once: retrying sends the same request."""
    return ActivityPolicy(
        start_to_close_timeout=timedelta(seconds=30),
        heartbeat_timeout=KEPT_ALIVE,
        retry_policy=RetryPolicy(
            initial_interval=timedelta(seconds=1),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(minutes=10),
            maximum_attempts=attempts,
            non_retryable_error_types=[FailureType.FEED_SUBSCRIBER_REJECTED],
        ),
    )
