"""The configuration reference, generated from the settings models' fields and descriptions.

`python starter.py schema` writes it into docs/configuration.md between two marker lines;
`python starter.py schema --check` (and `make test`) fails when the page and the models differ.
Each group is a model and the prefix of its environment variables.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

START = "<!-- settings-reference:start -->"
END = "<!-- settings-reference:end -->"


@dataclass(frozen=True)
class Group:
    """One model's variables in the reference."""

    title: str
    prefix: str
    model: type[BaseModel]
    about: str


class ReferenceProblem(ValueError):
    """The page has no place for the reference, or a field has no description."""


def undescribed(groups: Sequence[Group]) -> list[str]:
    """The variables whose field has no description."""
    return [
        f"{group.prefix}{name.upper()}"
        for group in groups
        for name, field in group.model.model_fields.items()
        if not (field.description or "").strip()
    ]


def render(groups: Sequence[Group]) -> str:
    """The reference: one table per group, a row per variable."""
    missing = undescribed(groups)
    if missing:
        raise ReferenceProblem(f"fields without a description: {', '.join(missing)}")
    parts: list[str] = []
    for group in groups:
        parts += [f"### {group.title}", "", group.about, ""]
        parts += ["| variable | type | default | meaning |", "| --- | --- | --- | --- |"]
        for name, field in group.model.model_fields.items():
            cells = [
                f"`{group.prefix}{name.upper()}`",
                _type(field.annotation),
                _default(field),
                _cell(field.description or ""),
            ]
            parts.append("| " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)


def place(page: str, reference: str) -> str:
    """`page` with `reference` between its marker lines."""
    start, end = page.find(START), page.find(END)
    if start < 0 or end < start:
        raise ReferenceProblem(f"the page has no {START} ... {END} lines")
    return f"{page[: start + len(START)]}\n\n{reference}\n{page[end:]}"


def is_current(path: Path, groups: Sequence[Group]) -> bool:
    page = path.read_text("utf-8")
    return place(page, render(groups)) == page


def write(path: Path, groups: Sequence[Group]) -> None:
    path.write_text(place(path.read_text("utf-8"), render(groups)), "utf-8")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _type(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, UnionType):
        kept = [a for a in args if a is not NoneType]
        return " or ".join(_type(a) for a in kept) + (", optional" if len(kept) < len(args) else "")
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"JSON list of {_type(args[0])}"
    names = {
        str: "text",
        int: "integer",
        float: "number",
        bool: "`true` \\| `false`",
        Path: "path",
        SecretStr: "secret",
        dt.timedelta: "duration, ISO 8601 (`P2D`, `PT6H`)",
        dt.time: "time of day (`08:00`)",
    }
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f"`{m.value}`" for m in annotation)
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "**required**"
    else:
        value = field.default
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "the dev stack's (secret)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dt.timedelta):
        return f"`{_duration(value)}`"
    if isinstance(value, enum.Enum):
        return f"`{value.value}`"
    if isinstance(value, list):
        return "`[]`" if not value else f"`{value}`"
    if value == "":
        return "empty"
    return f"`{_cell(str(value))}`"


def _duration(value: dt.timedelta) -> str:
    """ISO 8601, as the variables may be written (`P2D`, `PT12H`)."""
    total = int(value.total_seconds())
    if total == 0:
        return "PT0S"
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")
