"""Reading an activity's failure the way `domain.failures` defines it: its type and details.

The workflow never parses a message; it reads the type, and the typed detail of the failures
that carry one. A detail that does not fit its model counts as the whole batch failing.
"""

from __future__ import annotations

from pydantic import ValidationError
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    RetryState,
    TimeoutError,
    TimeoutType,
)

from domain.failures import FailureType, NoticesUndelivered
from domain.notices import NoticeKind, NoticeRequest


def failure_type(err: ActivityError) -> FailureType | None:
    """The `FailureType` of the activity's own failure; None for another error (a timeout)."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type in FailureType._value2member_map_:
        assert cause.type is not None
        return FailureType(cause.type)
    return None


def message(err: ActivityError) -> str:
    """The activity's own words (the carrier's, the relay's), not the wrapper's."""
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    if isinstance(cause, TimeoutError):
        return "no answer in time"
    return str(cause or err)


def timed_out(err: ActivityError) -> bool:
    """The call's overall bound ran out: the last attempt hung past it (a `TimeoutError`
    cause), or attempts kept failing with retryable errors (an outage) until it did."""
    if err.retry_state is RetryState.TIMEOUT:
        return True
    cause = err.cause
    return isinstance(cause, TimeoutError) and cause.type in (
        TimeoutType.SCHEDULE_TO_CLOSE,
        TimeoutType.SCHEDULE_TO_START,
    )


def cancelled(err: ActivityError) -> bool:
    return isinstance(err.cause, CancelledError)


def undelivered(err: ActivityError) -> NoticesUndelivered | None:
    """The detail of a `NoticesUndelivered` failure; None for any other failure."""
    cause = err.cause
    if not isinstance(cause, ApplicationError) or failure_type(err) is not (
        FailureType.NOTICES_UNDELIVERED
    ):
        return None
    if not cause.details:
        return None
    try:
        return NoticesUndelivered.from_detail(cause.details[0])
    except ValidationError:
        return None


def undelivered_kinds(err: ActivityError, notices: list[NoticeRequest]) -> set[NoticeKind]:
    """Which notices of a batch were not delivered: those the failure names, or all of them
    when it names none (the activity failed before any was sent)."""
    detail = undelivered(err)
    if detail is None:
        return {n.kind for n in notices}
    return set(detail.kinds)
