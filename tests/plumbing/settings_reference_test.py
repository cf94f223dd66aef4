"""The configuration reference: generated from the settings' fields, and kept current."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field, SecretStr

from plumbing import settings_reference as reference
from starter import CONFIGURATION_PAGE, settings_groups


class Example(BaseModel):
    name: str = Field(description="What it is | called.")
    wait: dt.timedelta = Field(dt.timedelta(hours=12), description="How long.")
    mode: Literal["fast", "safe"] = Field("safe", description="How.")
    token: SecretStr | None = Field(None, description="A secret.")
    accounts: list[str] = Field(default_factory=list, description="Accounts.")


EXAMPLE = reference.Group("Example", "EX_", Example, "Read by the example.")


def test_every_variable_returnflow_reads_says_what_it_is_for() -> None:
    assert reference.undescribed(settings_groups()) == []


def test_the_reference_in_the_docs_is_the_one_the_settings_generate() -> None:
    assert reference.is_current(CONFIGURATION_PAGE, settings_groups()), (
        "docs/configuration.md is stale: run `python starter.py schema`"
    )


def test_a_row_gives_the_variable_its_type_default_and_meaning() -> None:
    rows = reference.render([EXAMPLE]).splitlines()

    assert rows[:3] == ["### Example", "", "Read by the example."]
    assert "| `EX_NAME` | text | **required** | What it is \\| called. |" in rows
    assert "| `EX_WAIT` | duration, ISO 8601 (`P2D`, `PT6H`) | `PT12H` | How long. |" in rows
    assert "| `EX_MODE` | `fast` \\| `safe` | `safe` | How. |" in rows
    assert "| `EX_TOKEN` | secret, optional | unset | A secret. |" in rows
    assert "| `EX_ACCOUNTS` | JSON list of text | `[]` | Accounts. |" in rows


def test_a_field_without_a_description_stops_the_reference_naming_it() -> None:
    class Bare(BaseModel):
        described: int = Field(1, description="Yes.")
        silent: int = 2

    with pytest.raises(reference.ReferenceProblem, match="BARE_SILENT"):
        reference.render([reference.Group("Bare", "BARE_", Bare, "")])


def test_the_reference_goes_between_the_markers_and_a_changed_one_is_stale(
    tmp_path: Path,
) -> None:
    page = tmp_path / "configuration.md"
    page.write_text(f"# Configuration\n\n{reference.START}\n{reference.END}\n\nMore.\n")

    assert not reference.is_current(page, [EXAMPLE])
    reference.write(page, [EXAMPLE])
    written = page.read_text()
    assert reference.is_current(page, [EXAMPLE])
    assert written.startswith("# Configuration\n\n<!-- settings-reference:start -->\n\n### Example")
    assert written.endswith("<!-- settings-reference:end -->\n\nMore.\n")
    page.write_text(written.replace("How long.", "How long it was."))
    assert not reference.is_current(page, [EXAMPLE])


def test_a_page_without_markers_is_refused() -> None:
    with pytest.raises(reference.ReferenceProblem, match="settings-reference:start"):
        reference.place("# Configuration\n", "table")
