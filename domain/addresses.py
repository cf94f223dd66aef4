"""Postal addresses: where a parcel comes from and where it goes back to."""

from __future__ import annotations

from pydantic import Field

from domain.base import CountryCode, DomainModel, ShortText, personal


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

    def lines(self) -> list[str]:
        """The address as it is written on a parcel, one line per row."""
        rows = [self.name]
        rows += [x for x in (self.company, self.line1, self.line2) if x]
        rows.append(f"{self.postal_code} {self.city}")
        rows.append(self.country_code)
        return rows
