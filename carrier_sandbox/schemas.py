"""The request bodies the API accepts; closed, so a misspelt field is an error naming it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import AwareDatetime, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from domain.addresses import PostalAddress
from domain.base import DomainModel, ShortText
from domain.carriers import Parcel, TrackingStatus

Reference = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$"),
    Field(description="The shipper's reference, printed on the label: 1-64 of A-Z a-z 0-9 . _ : -"),
]


class LabelBody(DomainModel):
    """`POST /carriers/{code}/v1/labels`: a prepaid return label."""

    reference: Reference
    sender: PostalAddress = Field(description="The customer sending the parcel back.")
    recipient: PostalAddress = Field(description="The seller receiving it.")
    parcel: Parcel


class QuoteBody(DomainModel):
    """`POST /carriers/{code}/v1/quotes`: the price of a return label, nothing bought."""

    sender: PostalAddress = Field(description="The customer sending the parcel back.")
    recipient: PostalAddress = Field(description="The seller receiving it.")
    parcel: Parcel


class CounterCodeBody(DomainModel):
    """`POST /carriers/{code}/v1/counter-codes`: a code the counter turns into a label."""

    reference: Reference
    sender: PostalAddress
    recipient: PostalAddress
    parcel: Parcel


class PickupBody(DomainModel):
    """`POST /carriers/{code}/v1/pickups`: collect a labelled parcel from a mailbox."""

    reference: Reference
    label_id: str = Field(min_length=1, max_length=64)
    pickup_date: dt.date = Field(description="The day of the round, YYYY-MM-DD.")
    address: PostalAddress = Field(description="Where the mailbox is.")


class ScanBody(DomainModel):
    """`POST /sandbox/parcels/{tracking_number}/scans`: play the carrier scanning a parcel."""

    status: TrackingStatus | None = Field(
        default=None, description="Omitted: the parcel takes the next step of its journey."
    )
    location: ShortText | None = None
    description: ShortText | None = None


class ClockMove(DomainModel):
    """`POST /sandbox/clock`: move the sandbox's clock forward, by a duration or to a time."""

    advance_seconds: float | None = Field(
        default=None, ge=0, le=10 * 366 * 86400, description="Move on by this many seconds."
    )
    now: AwareDatetime | None = Field(default=None, description="Move on to this time.")

    @model_validator(mode="after")
    def _one_of_them(self) -> Self:
        if (self.advance_seconds is None) == (self.now is None):
            raise PydanticCustomError("one_of", "give advance_seconds or now, not both")
        return self
