"""The failures activities raise for the workflows, built in one place (see `domain.failures`).

The adapters and the tests' activity doubles raise through these functions, so the workflow
reads one shape whichever of them failed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from domain.failures import CarrierRefusal, FailureType, NoticesUndelivered
from domain.notices import NoticeKind

if TYPE_CHECKING:
    from activities.notices.context import InvalidNoticeRequest


def carrier_rejected(message: str, field: str | None = None) -> ApplicationError:
    """The carrier refused our data for good."""
    return ApplicationError(
        message,
        CarrierRefusal(field=field).model_dump(mode="json"),
        type=FailureType.CARRIER_REJECTED,
        non_retryable=True,
    )


def carrier_auth_failed(message: str) -> ApplicationError:
    """The carrier refused our credentials."""
    return ApplicationError(message, type=FailureType.CARRIER_AUTH_FAILED, non_retryable=True)


def carrier_unavailable(message: str, retry_after: dt.timedelta | None = None) -> ApplicationError:
    """The carrier is down, slow or throttling: retried (after `retry_after` when given)."""
    return ApplicationError(
        message, type=FailureType.CARRIER_UNAVAILABLE, next_retry_delay=retry_after
    )


def no_scan_yet(carrier: str) -> ApplicationError:
    """Polling found no new scan: benign, retried at the polling interval."""
    return ApplicationError(
        f"{carrier} has no new scan of the parcel yet",
        type=FailureType.NO_SCAN_YET,
        category=ApplicationErrorCategory.BENIGN,
    )


def invalid_notice(what: str, error: InvalidNoticeRequest) -> ApplicationError:
    """A notice that cannot be composed (`what`: "notice", "acknowledgement"): final, naming
    the field, never its value; sending it again cannot help."""
    return ApplicationError(
        f"Cannot send the {what}: {error}",
        error.field,
        type=FailureType.INVALID_NOTICE,
        non_retryable=True,
    )


def notices_undelivered(undelivered: list[tuple[NoticeKind, ApplicationError]]) -> ApplicationError:
    """Some notices of a batch could not be delivered for good (the others were sent)."""
    kinds = [kind for kind, _ in undelivered]
    first = undelivered[0][1]
    first_type = (
        FailureType(first.type)
        if first.type and first.type in FailureType._value2member_map_
        else FailureType.INVALID_NOTICE
    )
    detail = NoticesUndelivered(kinds=kinds, first_failure=first_type, reason=first.message)
    return ApplicationError(
        f"Not delivered: {', '.join(kinds)} (first failure: {first.message})",
        detail.model_dump(mode="json"),
        type=FailureType.NOTICES_UNDELIVERED,
        non_retryable=True,
    )


def refund_conflict(message: str) -> ApplicationError:
    """The refund key was already used for another request."""
    return ApplicationError(message, type=FailureType.REFUND_CONFLICT, non_retryable=True)
