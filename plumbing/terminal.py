"""Text from senders, made safe for an operator's terminal.

A dead letter's headers and body, a problem naming what a sender wrote, a reason an operator or
a carrier gave: the command line prints them. Control characters (an escape sequence can move
the cursor, rewrite a line or set the window title) and the bidirectional controls that reorder
what is shown (U+202A to U+202E, U+2066 to U+2069) are printed as escapes (`\\x1b`, `\\u202e`), so
what the operator reads is what was sent.
"""

from __future__ import annotations

import re

_REORDERING = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""The bidirectional marks, embeddings, overrides and isolates: an operator sees each one."""
_UNSAFE = re.compile(rf"[\x00-\x1f\x7f-\x9f{_REORDERING}]")
_UNSAFE_IN_TEXT = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_REORDERING}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def line(text: str) -> str:
    """`text` on one line: every control character escaped, newlines and tabs too."""
    return _UNSAFE.sub(_escape, text)


def block(text: str) -> str:
    """`text` as lines: newlines and tabs kept, every other control character escaped."""
    return _UNSAFE_IN_TEXT.sub(_escape, text)
