"""Postal addresses: where a parcel comes from and where it goes back to."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from domain.base import CountryCode, DomainModel, ShortText, personal
from domain.countries import ISO_3166_ALPHA2, postal_code_problem


class PostalAddress(DomainModel):
    """A postal address with the name of the person or business at it."""

    name: ShortText = personal("Recipient's full name, or the business name for a seller.")
    company: ShortText | None = personal("Company, for a business address.", default=None)
    line1: ShortText = personal("Street and number.")
    line2: ShortText | None = personal("Building, floor, apartment.", default=None)
    postal_code: str = personal(
        "Postal code as the country writes it.",
        min_length=2,
        max_length=12,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$",
    )
    city: ShortText = personal("City or town.")
    country_code: CountryCode = Field(description="ISO 3166-1 alpha-2 country code.")
    phone: str | None = personal(
        "Phone number, for the carrier.", default=None, pattern=r"^\+?[0-9 ().-]{6,20}$"
    )

    @model_validator(mode="after")
    def _country_and_postal_code(self) -> Self:
        # The messages name the field and the expected form, never the value (personal data).
        if self.country_code not in ISO_3166_ALPHA2:
            raise ValueError("country_code is not an ISO 3166-1 country code")
        problem = postal_code_problem(self.country_code, self.postal_code)
        if problem:
            raise ValueError(f"postal_code {problem}")
        return self

    def lines(self) -> list[str]:
        """The address as it is written on a parcel, one line per row."""
        rows = [self.name]
        rows += [x for x in (self.company, self.line1, self.line2) if x]
        rows.append(f"{self.postal_code} {self.city}")
        rows.append(self.country_code)
        return rows
