"""What the product asks of a carrier, whoever the carrier is.

Adapters (the embedded sandbox; Colissimo and EasyPost next) raise the errors below so that
the activities classify every failure the same way: bad data is the caller's problem and is
never retried; an unavailable carrier is retried with backoff.
"""

from __future__ import annotations

from typing import Protocol

from domain.carriers import (
    CarrierOffer,
    CounterCode,
    CounterCodeRequest,
    Label,
    LabelRequest,
    Pickup,
    PickupRequest,
    TrackingScan,
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


class Carrier(Protocol):
    """One carrier's API. Every call that creates something takes an idempotency key."""

    @property
    def offer(self) -> CarrierOffer:
        """Who the carrier is and what it can do."""
        ...

    async def create_return_label(self, request: LabelRequest) -> Label: ...

    async def fetch_label_pdf(self, label: Label) -> bytes: ...

    async def book_mailbox_pickup(self, request: PickupRequest) -> Pickup: ...

    async def request_counter_code(self, request: CounterCodeRequest) -> CounterCode: ...

    async def track(self, tracking_number: str) -> list[TrackingScan]: ...

    async def aclose(self) -> None: ...
