"""Shared building blocks of the domain models."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

PERSONAL = "x-personal"
"""JSON Schema key marking a field that holds personal data (GDPR Art. 4(1)).

Such fields never go into workflow IDs, search attributes, summaries, details or log lines.
"""


def personal(description: str, **kwargs: Any) -> Any:
    """A field holding personal data: documented, and marked in the JSON Schema."""
    return Field(description=description, json_schema_extra={PERSONAL: True}, **kwargs)


class DomainModel(BaseModel):
    """Strict, closed models: a wrong type or an unknown field is an error naming the field.

    Errors never quote the input: a wrong field next to a customer's address would otherwise put
    the address into a workflow failure, an update rejection or a log line.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, hide_input_in_errors=True)


Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"),
    Field(
        description=(
            "An opaque identifier: letters, digits and . _ : - (at most 64 characters, "
            "no personal data: it appears in workflow IDs and search attributes)."
        )
    ),
]

LineId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:]{0,15}$"),
    Field(
        description=(
            "An order line's identifier: letters, digits and . _ : (no '-', so that the last "
            "'-' of a return ID always separates the line), at most 16 characters."
        )
    ),
]

CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    Field(description="ISO 3166-1 alpha-2 country code, upper case (FR, DE, ...)."),
]

Locale = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$"),
    Field(description="The customer's language for notices, BCP 47 (en, fr, fr-FR, ...)."),
]

Email = Annotated[
    str,
    StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254),
]

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Money(DomainModel):
    """An amount in a currency."""

    amount: Decimal = Field(ge=0, decimal_places=2, description="Amount, e.g. 249.00.")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR.")
