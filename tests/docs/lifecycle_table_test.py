"""The README's table of a return's phases is the transition table the workflow runs on.

python -m tests.docs.lifecycle_table_test      # rewrites the table in README.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from workflows.transitions import markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN = "<!-- transition table: generated from workflows/transitions.py -->"
END = "<!-- end of the transition table -->"


def table_in(text: str) -> str:
    start = text.index(BEGIN) + len(BEGIN)
    return text[start : text.index(END)].strip()


def with_table(text: str) -> str:
    start = text.index(BEGIN) + len(BEGIN)
    return f"{text[:start]}\n{markdown_table()}\n{text[text.index(END) :]}"


def test_the_readme_shows_the_transition_table_the_workflow_runs_on() -> None:
    shown = table_in(README.read_text(encoding="utf-8"))
    assert shown == markdown_table(), "regenerate it: python -m tests.docs.lifecycle_table_test"


if __name__ == "__main__":
    README.write_text(with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
