"""Sender-controlled text reaches an operator's terminal with its control characters escaped."""

from __future__ import annotations

from plumbing import terminal


def test_a_line_escapes_every_control_character_and_reordering_mark() -> None:
    sent = "Jean\x1b[2J\x1b]0;title\x07 \u202eevil\u2066\x00\r\nnext\x9b"

    assert terminal.line(sent) == (
        "Jean\\x1b[2J\\x1b]0;title\\x07 \\u202eevil\\u2066\\x00\\x0d\\x0anext\\x9b"
    )


def test_a_block_keeps_its_lines_and_tabs() -> None:
    assert terminal.block("a\tb\nc\x1b[31m\rd") == "a\tb\nc\\x1b[31m\\x0dd"


def test_ordinary_text_in_any_language_is_left_as_it_is() -> None:
    text = "Zoë Łukasz 山田 عربي — 12,50 €"

    assert terminal.line(text) == terminal.block(text) == text
