"""The failures activities raise and the workflows read: one name per failure, one shape each.

An activity fails with `temporalio.exceptions.ApplicationError(message, *details, type=...)`.
The workflow never guesses from the message: it reads the `type` (a `FailureType`) and, for the
failures that carry facts, one detail whose model is defined here. Activities and the test
doubles build these errors with the functions below, so both raise the same shape.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from domain.base import DomainModel
from domain.notices import NoticeKind


class FailureType(StrEnum):
    """`ApplicationError.type` of every failure a workflow tells apart."""

    CARRIER_REJECTED = "CarrierRejected"
    """The carrier refused our data for good (4xx): a date it cannot serve, an address."""
    CARRIER_AUTH_FAILED = "CarrierAuthFailed"
    """The carrier refused our credentials (401/403): the configuration needs fixing."""
    CARRIER_UNAVAILABLE = "CarrierUnavailable"
    """The carrier is down, slow or throttling: retried, after `Retry-After` when given."""
    NO_SCAN_YET = "NoScanYet"
    """Polling found no new scan: a benign failure, retried at the polling interval."""
    RECIPIENT_REJECTED = "RecipientRejected"
    """The mail relay refused the recipient for good (SMTP 5xx)."""
    MESSAGE_REJECTED = "MessageRejected"
    """The mail relay refused the message's content for good (SMTP 5xx after DATA)."""
    MAIL_RELAY_UNAVAILABLE = "MailRelayUnavailable"
    """The relay could not be reached or deferred the message: retried with backoff."""
    INVALID_NOTICE = "InvalidNotice"
    """A notice lacks a fact its kind must tell (a bug upstream, or a seller without email)."""
    NOTICES_UNDELIVERED = "NoticesUndelivered"
    """Some notices of a batch could not be delivered for good; the detail names them."""
    REFUND_CONFLICT = "RefundConflict"
    """The refund key was used for another request: a bug for operations, never retried."""
    ORDER_SERVICE_REJECTED = "OrderServiceRejected"
    """The order service refused a request for good (a 4xx other than a key conflict)."""
    ORDER_SERVICE_UNAVAILABLE = "OrderServiceUnavailable"
    """The order service is down, slow or throttling: retried, after `Retry-After` when given."""
    SELLER_SERVICE_REJECTED = "SellerServiceRejected"
    """The seller directory or chat refused a request (a 4xx): a chat message is not retried;
    a directory lookup is, as every return needs it once operations fix the configuration."""
    SELLER_SERVICE_UNAVAILABLE = "SellerServiceUnavailable"
    """The seller directory or chat is down, slow or throttling: retried."""
    FEED_SUBSCRIBER_REJECTED = "FeedSubscriberRejected"
    """An event feed's subscriber refused a delivery (a 3xx or 4xx): parked for operations."""
    FEED_SUBSCRIBER_UNAVAILABLE = "FeedSubscriberUnavailable"
    """An event feed's subscriber is down, slow or throttling: retried, then parked."""


class NoticesUndelivered(DomainModel):
    """The detail of a `NoticesUndelivered` failure: which notices of the batch did not go."""

    kinds: list[NoticeKind] = Field(
        min_length=1, description="The kinds not delivered; the others of the batch were sent."
    )
    first_failure: FailureType = Field(description="The type of the first notice's failure.")
    reason: str = Field(description="The first failure's words (the relay's reply).")

    @classmethod
    def from_detail(cls, detail: object) -> NoticesUndelivered:
        """The detail as it comes back through the data converter (a JSON object)."""
        return cls.model_validate(detail, strict=False)


class CarrierRefusal(DomainModel):
    """The detail of a `CarrierRejected` failure: the field of our request the carrier blamed."""

    field: str | None = None


NOTICE_FAILURES_FOR_GOOD = (
    FailureType.RECIPIENT_REJECTED,
    FailureType.MESSAGE_REJECTED,
    FailureType.INVALID_NOTICE,
    FailureType.NOTICES_UNDELIVERED,
    # The label PDF for the label email: the carrier no longer has it, or refuses us.
    FailureType.CARRIER_REJECTED,
    FailureType.CARRIER_AUTH_FAILED,
)
"""What retrying a notice cannot fix (the notice retry policy's non-retryable types)."""

CARRIER_FAILURES_FOR_GOOD = (FailureType.CARRIER_REJECTED, FailureType.CARRIER_AUTH_FAILED)
"""What retrying a carrier call cannot fix."""
