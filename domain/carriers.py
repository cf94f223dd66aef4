"""What a carrier offers and what it hands back: labels, pickups, counter codes, scans."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

from pydantic import Field

from domain.addresses import PostalAddress
from domain.base import DomainModel, Identifier, Instant, Money, ShortText


class ReturnMethod(StrEnum):
    """How the customer hands the parcel to the carrier."""

    MAILBOX_PICKUP = "mailbox_pickup"
    """Online label; the carrier collects the parcel from the customer's mailbox."""
    POST_OFFICE_DROP_OFF = "post_office_drop_off"
    """Online label; the customer drops the labelled parcel at a post office."""
    POST_OFFICE_COUNTER = "post_office_counter"
    """No label at home: the post office counter makes it from a return code."""


class CarrierCapability(StrEnum):
    """What a carrier's API can do for a return."""

    ONLINE_RETURN_LABEL = "online_return_label"
    COUNTER_RETURN_CODE = "counter_return_code"
    COUNTER_LABEL = "counter_label"
    """The carrier's counters print a return label on the spot from the seller's address: the
    counter option works without a code, and the customer reports the tracking number."""
    MAILBOX_PICKUP = "mailbox_pickup"
    DROP_OFF = "drop_off"
    POST_OFFICE_LOCATOR = "post_office_locator"
    TRACKING_WEBHOOK = "tracking_webhook"
    TRACKING_POLLING = "tracking_polling"


_METHOD_NEEDS: dict[ReturnMethod, frozenset[CarrierCapability]] = {
    ReturnMethod.MAILBOX_PICKUP: frozenset(
        {CarrierCapability.ONLINE_RETURN_LABEL, CarrierCapability.MAILBOX_PICKUP}
    ),
    ReturnMethod.POST_OFFICE_DROP_OFF: frozenset(
        {CarrierCapability.ONLINE_RETURN_LABEL, CarrierCapability.DROP_OFF}
    ),
    # With a code the counter prints the label from it; without one (counter_label) the clerk
    # types the seller's address, and the customer reports the tracking number.
    ReturnMethod.POST_OFFICE_COUNTER: frozenset(
        {CarrierCapability.COUNTER_RETURN_CODE, CarrierCapability.DROP_OFF}
    ),
}

_COUNTER_WITHOUT_CODE = frozenset({CarrierCapability.COUNTER_LABEL})


class LabelCostBearer(StrEnum):
    """Who pays for a return label the marketplace buys from the carrier for the customer."""

    CUSTOMER = "customer"
    """The customer (Art. 14(1)): its price, shown before they choose, is withheld from the
    refund."""
    SELLER = "seller"
    """The seller, by the marketplace's policy: nothing is withheld."""


class CarrierOffer(DomainModel):
    """A carrier the customer may choose, and what it can do."""

    code: Identifier = Field(description="The carrier's code in configuration, e.g. sandbox.")
    name: ShortText = Field(description="The carrier's name as customers know it.")
    capabilities: frozenset[CarrierCapability]
    label_price: Money | None = Field(
        default=None,
        description="What the carrier charges for this return's label (or counter code), as it "
        "quoted it once the seller's address was known; none when it could not quote.",
    )

    def methods(self) -> list[ReturnMethod]:
        """The return methods this carrier supports, in the order they are offered."""
        return [m for m in ReturnMethod if self._offers(m)]

    def _offers(self, method: ReturnMethod) -> bool:
        if _METHOD_NEEDS[method] <= self.capabilities:
            return True
        counter = method is ReturnMethod.POST_OFFICE_COUNTER
        return counter and self.capabilities >= _COUNTER_WITHOUT_CODE

    @property
    def has_counter_code(self) -> bool:
        return CarrierCapability.COUNTER_RETURN_CODE in self.capabilities

    def buys_label(self, method: ReturnMethod) -> bool:
        """Whether `method` has the marketplace buy a label (or a counter code) from the
        carrier; at a counter that prints labels without a code, the customer pays there."""
        return method is not ReturnMethod.POST_OFFICE_COUNTER or self.has_counter_code


class Parcel(DomainModel):
    """What goes in the box."""

    weight_grams: int = Field(gt=0, le=30_000)
    description: ShortText = Field(description="Contents, for the label: e.g. 'Smartphone'.")


class LabelRequest(DomainModel):
    """Ask a carrier for a prepaid return label."""

    idempotency_key: str = Field(description="Same key, same label: derived from return + step.")
    carrier: Identifier
    reference: Identifier = Field(description="The return ID, printed on the label.")
    sender: PostalAddress
    recipient: PostalAddress
    parcel: Parcel


class LabelPricesRequest(DomainModel):
    """Ask each offered carrier what this return's label costs, once the addresses are known."""

    offers: list[CarrierOffer]
    sender: PostalAddress
    recipient: PostalAddress
    parcel: Parcel
    currency: str = Field(
        pattern=r"^[A-Z]{3}$",
        description="The order's currency: a price quoted in another one is not shown.",
    )


class LabelQuoteRequest(DomainModel):
    """Ask one carrier the price of a return label from the customer to the seller."""

    carrier: Identifier
    sender: PostalAddress
    recipient: PostalAddress
    parcel: Parcel


class Label(DomainModel):
    """A return label the carrier made. The PDF itself stays at the carrier (fetched to send)."""

    carrier: Identifier
    label_id: Identifier
    tracking_number: Identifier
    created_at: Instant


class PickupRequest(DomainModel):
    """Ask a carrier to collect a labelled parcel from the customer's mailbox."""

    idempotency_key: str
    carrier: Identifier
    reference: Identifier
    label_id: Identifier
    tracking_number: Identifier
    pickup_date: dt.date
    address: PostalAddress


class Pickup(DomainModel):
    """A booked mailbox pickup."""

    carrier: Identifier
    pickup_id: Identifier
    pickup_date: dt.date
    deposit_before: dt.time = Field(description="Local time by which the parcel must be in.")
    confirmation: ShortText = Field(description="The carrier's confirmation number.")
    deposit_by: Instant | None = Field(
        default=None,
        description="The instant the carrier booked the collection from (EasyPost's window "
        "opening); unset, `deposit_before` on `pickup_date` in the mailbox's country's time.",
    )

    def gone_by(self, today: dt.date) -> bool:
        """Its day is behind `today` (the customer's): with no scan, a missed pickup, not a day
        to send the customer to their mailbox."""
        return self.pickup_date < today


class CounterCodeRequest(DomainModel):
    """Ask a carrier for a code the post office counter turns into a label."""

    idempotency_key: str
    carrier: Identifier
    reference: Identifier
    sender: PostalAddress
    recipient: PostalAddress
    parcel: Parcel


class CounterCode(DomainModel):
    """A counter return code, and the tracking number its label will carry."""

    carrier: Identifier
    code: Identifier
    tracking_number: Identifier
    expires_at: Instant


class TrackingStatus(StrEnum):
    """A carrier's scan, normalised across carriers."""

    PRE_TRANSIT = "pre_transit"
    ACCEPTED = "accepted"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"


class TrackingScan(DomainModel):
    """One scan of a parcel by its carrier."""

    carrier: Identifier
    tracking_number: Identifier
    scan_id: Identifier = Field(description="The carrier's ID for the scan: repeats are ignored.")
    status: TrackingStatus
    occurred_at: Instant
    location: ShortText | None = Field(default=None, description="Facility or town.")
    description: ShortText | None = Field(default=None, description="The carrier's words.")
    carrier_code: ShortText | None = Field(
        default=None,
        description="The carrier's own event code before normalisation (e.g. Colissimo PCHCFM).",
    )


class WebhookScans(DomainModel):
    """What a verified tracking webhook said: the scans of one parcel."""

    carrier: Identifier
    tracking_number: Identifier
    reference: Identifier | None = Field(
        default=None,
        description="The shipper's reference (the return ID) when the carrier echoes it back.",
    )
    scans: list[TrackingScan]


class TrackingQuery(DomainModel):
    """Ask a carrier for every scan of a parcel."""

    carrier: Identifier
    tracking_number: Identifier
    known_scan_ids: list[str] = Field(
        default_factory=list, description="Scans already seen: polling waits for another one."
    )


class ParcelDestination(DomainModel):
    """Where a carrier's data says a parcel is going, as far as that data says: the country
    always, the postal code when the carrier shows it."""

    country_code: str = Field(pattern=r"^[A-Z]{2}$")
    postal_code: str | None = Field(default=None, max_length=12)

    def reaches(self, address: PostalAddress) -> bool:
        """Whether the parcel goes to `address`: the same country, and the same postal code
        when the carrier shows one (spaces, hyphens and case aside; a carrier may show only its
        first part, a ZIP without its +4 or a UK outward code)."""
        if self.country_code != address.country_code:
            return False
        if self.postal_code is None:
            return True
        shown, known = _postal(self.postal_code), _postal(address.postal_code)
        return bool(shown) and (known.startswith(shown) or shown.startswith(known))


def _postal(code: str) -> str:
    return "".join(ch for ch in code if ch.isalnum()).upper()


class PickupDatesRequest(DomainModel):
    """Which days can the carrier collect from this mailbox?"""

    carrier: Identifier
    address: PostalAddress


class PostOfficeQuery(DomainModel):
    """The carrier's counters nearest to an address."""

    carrier: Identifier
    near: PostalAddress
    limit: int = Field(default=3, ge=1, le=20)


class OpeningHours(DomainModel):
    """One day's opening hours of a counter, as the carrier publishes them."""

    weekday: int = Field(ge=1, le=7, description="ISO weekday: 1 is Monday, 7 is Sunday.")
    hours: ShortText = Field(description="e.g. '09:00-12:00 14:00-18:00', or 'closed'.")


class PostOffice(DomainModel):
    """A counter where the customer can hand in the parcel (a post office or a relay point)."""

    carrier: Identifier
    site_id: Identifier = Field(description="The carrier's ID for the site.")
    name: ShortText
    kind: ShortText = Field(description="post_office, relay_point or locker.")
    line1: ShortText
    postal_code: str = Field(min_length=2, max_length=12)
    city: ShortText
    country_code: str = Field(pattern=r"^[A-Z]{2}$")
    distance_m: int | None = Field(default=None, ge=0, description="From the searched address.")
    opening_hours: list[OpeningHours] = Field(default_factory=list)


class CancellationOutcome(StrEnum):
    """What voiding a label or cancelling a pickup achieved."""

    DONE = "done"
    """Voided or cancelled by this call."""
    ALREADY_DONE = "already_done"
    """Voided or cancelled before (a retry of the same step): nothing more to do."""
    NOTHING_TO_UNDO = "nothing_to_undo"
    """The carrier charges and acts only on use (an unused label, a pickup nobody deposits for)
    and offers no cancel call: there is nothing to undo."""


class Cancellation(DomainModel):
    """The carrier's answer to voiding a label or cancelling a pickup."""

    carrier: Identifier
    object_id: Identifier = Field(description="The label or pickup concerned.")
    outcome: CancellationOutcome
    detail: ShortText | None = Field(default=None, description="The carrier's words, if any.")


TRACKING_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    # La Poste: 13 characters, a digit, a letter and 11 digits (6A12345678901), or the UPU
    # S10 form of international parcels (CB123456789FR).
    "colissimo": (
        re.compile(r"^(\d[A-Z]\d{11}|[A-Z]{2}\d{9}[A-Z]{2})$"),
        "13 characters like 6A12345678901 or CB123456789FR",
    ),
    "sandbox": (re.compile(r"^SB[0-9A-Z]{8,20}$"), "SB followed by 8 to 20 letters or digits"),
    "relay": (re.compile(r"^RX[0-9A-Z]{8,20}$"), "RX followed by 8 to 20 letters or digits"),
}
"""Tracking-number formats of the carriers we know, to catch a mistyped receipt number."""


def tracking_number_problem(carrier: str, number: str) -> str | None:
    """Why `number` cannot be one of `carrier`'s tracking numbers, or None."""
    known = TRACKING_FORMATS.get(carrier)
    if known is None or known[0].match(number):
        return None
    return f"is not a {carrier} tracking number: expected {known[1]}"
