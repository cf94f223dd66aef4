"""Shared building blocks of the domain models."""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic.fields import FieldInfo

PERSONAL = "x-personal"
"""JSON Schema key marking a field that holds personal data (GDPR Art. 4(1)).

Such fields never go into workflow IDs, search attributes, summaries, details or log lines.
"""


def personal(description: str, **kwargs: Any) -> Any:
    """A field holding personal data: documented, and marked in the JSON Schema."""
    return Field(description=description, json_schema_extra={PERSONAL: True}, **kwargs)


def personal_field_names(*models: type[BaseModel]) -> frozenset[str]:
    """The names and aliases of the fields marked `personal` in `models` and in every model
    their fields hold (`PostalAddress | None`, `list[Customer]`, ...), for the log redactor."""
    names: set[str] = set()
    seen: set[type[BaseModel]] = set()
    pending = list(models)
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            if _is_personal(field):
                names.add(name)
                names.update(_aliases(field))
            pending.extend(_models_in(field.annotation))
    return frozenset(names)


def _is_personal(field: FieldInfo) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and extra.get(PERSONAL) is True


def _aliases(field: FieldInfo) -> set[str]:
    aliases = {a for a in (field.alias, field.serialization_alias) if isinstance(a, str)}
    if isinstance(field.validation_alias, str):
        aliases.add(field.validation_alias)
    elif isinstance(field.validation_alias, AliasChoices):
        aliases.update(c for c in field.validation_alias.choices if isinstance(c, str))
    return aliases


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation refers to: itself, or those inside `X | None`, `list[X]`..."""
    if isinstance(annotation, type) and not isinstance(annotation, types.GenericAlias):
        return [annotation] if issubclass(annotation, BaseModel) else []
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


class DomainModel(BaseModel):
    """Strict, closed models: a wrong type or an unknown field is an error naming the field.

    Errors never quote the input: a wrong field next to a customer's address would otherwise put
    the address into a workflow failure, an update rejection or a log line.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, hide_input_in_errors=True)


IDENTIFIER = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"
"""An opaque identifier's characters, as a regular expression (`Identifier`)."""

LINE_ID = r"[A-Za-z0-9][A-Za-z0-9._:]{0,15}"
"""An order line's identifier's characters, as a regular expression (`LineId`)."""

Identifier = Annotated[
    str,
    StringConstraints(pattern=rf"^{IDENTIFIER}$"),
    Field(
        description=(
            "An opaque identifier: letters, digits and . _ : - (at most 64 characters, "
            "no personal data: it appears in workflow IDs and search attributes)."
        )
    ),
]

LineId = Annotated[
    str,
    StringConstraints(pattern=rf"^{LINE_ID}$"),
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

UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters, and the bidirectional embeddings, overrides and isolates that reorder
how text is shown: no name, title or address line needs them, and each reaches emails, labels,
carriers' APIs and operators' terminals. (The left-to-right and right-to-left marks, which some
names written in Arabic or Hebrew need, are kept.)"""


def _printable(value: str) -> str:
    found = UNPRINTABLE.search(value)
    if found is not None:
        raise ValueError(
            f"holds U+{ord(found.group()):04X} at position {found.start() + 1}, a control "
            "character or a bidirectional override: text here is one line of printable characters"
        )
    return value


OneLine = Annotated[str, AfterValidator(_printable)]
"""Text of one line of printable characters, its length bounded where it is used."""

ShortText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, strip_whitespace=True),
    AfterValidator(_printable),
]


EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
"""The span a fact's time may fall in. Outside it a date is a mistake, and the legal clocks'
arithmetic (days added, zones converted) could overflow on it."""


def _plausible(value: dt.datetime) -> dt.datetime:
    try:
        in_span = EARLIEST <= value < LATEST
    except OverflowError:  # an offset taking the year past 1 or 9999 in UTC
        in_span = False
    if not in_span:
        raise ValueError(f"outside the years {EARLIEST.year} to {LATEST.year - 1}")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_plausible)]
"""A moment with its time zone, within the years returnflow's clocks can count from."""


MONEY_DIGITS = 15
"""An amount's digits in all, cents included: more than any order holds, and few enough that
the sums and roundings of a refund stay exact within the 28 digits of Python's decimals."""

MONEY_LIMIT = Decimal(10) ** (MONEY_DIGITS - 2)
"""Every amount is below it (13 digits before the point)."""


class Money(DomainModel):
    """An amount in a currency."""

    amount: Decimal = Field(
        ge=0,
        max_digits=MONEY_DIGITS,
        decimal_places=2,
        description="Amount, e.g. 249.00: at most 13 digits before the point and 2 after.",
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR.")


def field_problems(err: ValidationError, whole: str = "(event)") -> list[str]:
    """One line per problem, each starting with the dotted path of the field, or `whole` when
    the problem is the whole input (an event, a request's body). Never the value given, which
    may be personal data."""
    problems = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or whole
        problems.append(f"{where}: {e['msg']}")
    return problems


OPERATIONS_ACTOR = r"operations:[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
"""How a staff member is named where they act: `operations:<staff id>`, an ID, never a name."""
