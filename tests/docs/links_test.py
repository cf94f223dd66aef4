"""The README and the pages under docs/ hold together: every page is reachable from the README,
every relative link leads to a file that exists and every `#anchor` to a heading of its target,
and the docs speak of the product as it is, not of how it was built."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", flags=re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(?:(?!\n\n).)*?(?<!`)\1(?!`)", flags=re.DOTALL)
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", flags=re.MULTILINE)
PROCESS_TALK = re.compile(r"issue\s[0-9]|next\sissues|walking\sskeleton", flags=re.IGNORECASE)
"""Words about how the product was built, which mean nothing to its readers."""
NOT_THE_PRODUCT = {".git", ".venv", "mutants", "var", "node_modules", "__pycache__"}
"""Folders of tools and runtime files, not of the product's text."""


def product_texts() -> list[Path]:
    """Every Python module and Markdown page of the product, but the changelog (whose releases
    may say how they came about)."""
    found = []
    for path in sorted([*ROOT.rglob("*.py"), *ROOT.rglob("*.md")]):
        parts = set(path.relative_to(ROOT).parts)
        if parts & NOT_THE_PRODUCT or path.name == "CHANGELOG.md":
            continue
        found.append(path)
    return found


def prose(text: str) -> str:
    """The text as a reader sees its links: without code blocks and inline code."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: formatting and links dropped, lower case, punctuation
    other than hyphens (and underscores, which are word characters) removed, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[^\w\- ]", "", text.replace("`", "").strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor in `page`, a repeated heading's numbered as GitHub numbers them."""
    seen: Counter[str] = Counter()
    found = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def links(page: Path) -> list[str]:
    """The page's link targets, other than to the web or by mail."""
    targets = LINK.findall(prose(page.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t, flags=re.IGNORECASE)]


def name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_the_slugs_are_github_s() -> None:
    assert slug("The return's lifecycle") == "the-returns-lifecycle"
    assert slug("Operations: `resolve_attention`") == "operations-resolve_attention"
    assert slug("docker-compose.yml") == "docker-composeyml"
    assert slug("What `status` and the Web UI tell") == "what-status-and-the-web-ui-tell"
    assert slug("The customer's choice, and changes of mind") == (
        "the-customers-choice-and-changes-of-mind"
    )


def test_there_are_docs_pages() -> None:
    assert len(PAGES) > 5


def test_every_docs_page_is_linked_from_the_readme() -> None:
    reached = {(README.parent / target.split("#")[0]).resolve() for target in links(README)}
    unlinked = [name(page) for page in PAGES[1:] if page.resolve() not in reached]
    assert not unlinked, f"not linked from README.md: {unlinked}"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_relative_link_leads_to_a_file_and_a_heading(page: Path) -> None:
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        goes_to = (page.parent / path).resolve() if path else page
        if not goes_to.exists():
            broken.append(f"{target}: no such file")
        elif anchor and goes_to.suffix != ".md":
            broken.append(f"{target}: an anchor into a file that is not markdown")
        elif anchor and anchor not in anchors(goes_to):
            broken.append(f"{target}: no heading '{anchor}' in {name(goes_to)}")
    assert not broken, f"{name(page)}: {broken}"


def test_code_and_docs_speak_of_the_product_not_of_its_making() -> None:
    texts = product_texts()
    found = {
        str(path.relative_to(ROOT)): PROCESS_TALK.findall(path.read_text(encoding="utf-8"))
        for path in texts
    }

    assert README in texts and ROOT / "starter.py" in texts
    assert {path: words for path, words in found.items() if words} == {}
