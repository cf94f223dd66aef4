"""What the product asks of a carrier, whoever the carrier is.

Adapters (the embedded sandbox, Colissimo, EasyPost) raise the errors below so that
the activities classify every failure the same way: bad data is the caller's problem and is
never retried; an unavailable carrier is retried with backoff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Protocol

from domain.base import Money
from domain.carriers import (
    Cancellation,
    CarrierOffer,
    CounterCode,
    CounterCodeRequest,
    Label,
    LabelQuoteRequest,
    LabelRequest,
    ParcelDestination,
    Pickup,
    PickupDatesRequest,
    PickupRequest,
    PostOffice,
    PostOfficeQuery,
    TrackingScan,
    WebhookScans,
)


class CarrierError(Exception):
    """A carrier call did not do what was asked."""

    def __init__(self, carrier: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{carrier}: {message}")
        self.carrier = carrier
        self.message = message
        self.status = status


class CarrierRejected(CarrierError):
    """The carrier refused the request's data (HTTP 4xx): retrying cannot help."""

    def __init__(
        self, carrier: str, message: str, *, field: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(carrier, message, status=status)
        self.field = field


class CarrierAuthFailed(CarrierError):
    """The carrier refused our credentials: an operator must fix the configuration."""


class CarrierUnavailable(CarrierError):
    """The carrier failed or could not be reached (5xx, 429, timeout): try again later."""

    def __init__(
        self,
        carrier: str,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(carrier, message, status=status)
        self.retry_after = retry_after


class CarrierUnsupported(CarrierRejected):
    """The carrier does not offer this operation (see its declared capabilities)."""

    def __init__(self, carrier: str, operation: str) -> None:
        super().__init__(carrier, f"{carrier} does not offer {operation}")
        self.operation = operation


class WebhookRejected(Exception):
    """A tracking webhook that must not be believed: bad or stale signature, unreadable body.

    The message says why, and never quotes the body.
    """


class WebhookIgnored(WebhookRejected):
    """A genuine, correctly signed webhook about something other than tracking: acknowledge it
    (so the carrier stops resending it) and do nothing."""


class Carrier(Protocol):
    """One carrier's API, whoever the carrier is: the workflow sees only this and the offer.

    Every operation that creates something takes an idempotency key and is safe to retry under
    it; voiding and cancelling are safe to repeat. An operation outside the carrier's declared
    capabilities raises `CarrierUnsupported`. Failures are `CarrierRejected` (bad data, 4xx),
    `CarrierAuthFailed` (credentials) or `CarrierUnavailable` (5xx, 429, timeouts).
    """

    @property
    def code(self) -> str:
        """The carrier's code in configuration: what `LabelRequest.carrier` etc. name."""
        ...

    async def describe(self) -> CarrierOffer:
        """Who the carrier is and what it can do (may ask the carrier once, then cached)."""
        ...

    async def quote_return_label(self, request: LabelQuoteRequest) -> Money | None:
        """What a return label (or counter code) from `sender` to `recipient` costs, nothing
        bought; None when the carrier's API gives no price."""
        ...

    async def create_return_label(self, request: LabelRequest) -> Label:
        """Capability `online_return_label`: a prepaid return label."""
        ...

    async def fetch_label_pdf(self, label: Label) -> bytes:
        """The label made by `create_return_label`, as the carrier hands the file over; callers
        go through `CarrierRegistry.label_pdf`, which refuses a file that is not a PDF."""
        ...

    async def void_label(self, label: Label) -> Cancellation:
        """Give back an unused label, so that it is not charged."""
        ...

    async def mailbox_pickup_dates(self, request: PickupDatesRequest) -> list[dt.date]:
        """Capability `mailbox_pickup`: the days the carrier can collect at that address."""
        ...

    async def book_mailbox_pickup(self, request: PickupRequest) -> Pickup:
        """Capability `mailbox_pickup`: collect the labelled parcel from the mailbox."""
        ...

    async def cancel_pickup(self, pickup: Pickup) -> Cancellation:
        """Capability `mailbox_pickup`: call a booked pickup off."""
        ...

    async def request_counter_code(self, request: CounterCodeRequest) -> CounterCode:
        """Capability `counter_return_code`: a code the post office counter prints a label from."""
        ...

    async def find_post_offices(self, query: PostOfficeQuery) -> list[PostOffice]:
        """Capability `post_office_locator`: the nearest counters, nearest first."""
        ...

    async def track(self, tracking_number: str) -> list[TrackingScan]:
        """Capability `tracking_polling`: every scan of the parcel so far, oldest first."""
        ...

    async def parcel_destination(self, tracking_number: str) -> ParcelDestination | None:
        """Capability `tracking_polling`: where the carrier's data says the parcel goes; None
        when its data does not say. A number the carrier does not know is `CarrierRejected`."""
        ...

    def read_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        received_at: dt.datetime | None = None,
    ) -> WebhookScans:
        """Capability `tracking_webhook`: verify a pushed tracking event and read its scans.

        `headers` keys are lower case. Raises `WebhookRejected` for a bad, missing or stale
        signature or an unreadable body. A signature's freshness is judged at `received_at`
        (default: now), so a dead letter replayed later is checked as of when it came.
        """
        ...

    async def aclose(self) -> None: ...
