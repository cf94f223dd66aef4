"""The lifecycle page's table of a return's phases is the transition table the workflow runs on,
and the README's picture of a return's stages draws only the moves that table allows.

python -m tests.docs.lifecycle_table_test      # rewrites the table in docs/lifecycle.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from domain.returns import FINAL_STAGES, ReturnStage
from workflows.transitions import TABLE, Phase, markdown_table, successors

ROOT = Path(__file__).resolve().parents[2]
LIFECYCLE = ROOT / "docs" / "lifecycle.md"
README = ROOT / "README.md"
BEGIN = "<!-- transition table: generated from workflows/transitions.py -->"
END = "<!-- end of the transition table -->"

PHASES: dict[str, Phase] = {str(phase): phase for phase in TABLE}
START = "[*]"


def table_in(text: str) -> str:
    start = text.index(BEGIN) + len(BEGIN)
    return text[start : text.index(END)].strip()


def with_table(text: str) -> str:
    start = text.index(BEGIN) + len(BEGIN)
    return f"{text[:start]}\n{markdown_table()}\n{text[text.index(END) :]}"


def test_the_lifecycle_page_shows_the_transition_table_the_workflow_runs_on() -> None:
    shown = table_in(LIFECYCLE.read_text(encoding="utf-8"))
    assert shown == markdown_table(), "regenerate it: python -m tests.docs.lifecycle_table_test"


def stage_picture(text: str) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """The README's `stateDiagram-v2`: its arrows (from, to), and each composite state's
    members (an arrow to or from a composite is an arrow to or from each of its members)."""
    block = re.search(r"```mermaid\nstateDiagram-v2\n(.*?)```", text, flags=re.DOTALL)
    assert block, "the README has no stateDiagram-v2 of a return's stages"
    arrows: list[tuple[str, str]] = []
    composites: dict[str, list[str]] = {}
    inside: str | None = None
    for line in block.group(1).splitlines():
        line = line.strip()
        if composite := re.fullmatch(r'state "[^"]*" as (\w+) \{', line):
            inside = composite.group(1)
            composites[inside] = []
        elif line == "}":
            inside = None
        elif arrow := re.fullmatch(r"(\S+) --> (\S+?)(?:\s*:.*)?", line):
            arrows.append((arrow.group(1), arrow.group(2)))
        elif inside is not None and line:
            composites[inside].append(line)
        else:
            assert not line, f"a line of the stage picture this test does not read: {line}"
    return arrows, composites


def drawn_arrows() -> set[tuple[str, str]]:
    """Every arrow of the README's picture, between phases or from the start or to the end."""
    arrows, composites = stage_picture(README.read_text(encoding="utf-8"))
    return {
        (source, target)
        for drawn_source, drawn_target in arrows
        for source in composites.get(drawn_source, [drawn_source])
        for target in composites.get(drawn_target, [drawn_target])
    }


def test_the_readme_s_stage_picture_draws_only_moves_the_transition_table_allows() -> None:
    for source, target in drawn_arrows():
        if source == START:
            assert target == ReturnStage.CHECKING_ELIGIBILITY, f"a return starts in {target}?"
        elif target == START:
            assert PHASES[source] in FINAL_STAGES, f"{source} is not a stage a return ends in"
        else:
            assert PHASES[target] in successors(PHASES[source]), f"{source} → {target}"


def test_the_readme_s_stage_picture_shows_every_stage_and_every_way_to_end() -> None:
    arrows = drawn_arrows()
    drawn = {phase for arrow in arrows for phase in arrow} - {START}
    ends = {source for source, target in arrows if target == START}

    assert {str(stage) for stage in ReturnStage} <= drawn
    assert ends == {str(stage) for stage in FINAL_STAGES}


if __name__ == "__main__":
    LIFECYCLE.write_text(with_table(LIFECYCLE.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
