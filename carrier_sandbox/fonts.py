"""The typeface of the label, and how a name it cannot draw is still printed legibly."""

from __future__ import annotations

import unicodedata
from collections.abc import Container
from pathlib import Path

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR, BOLD = "SandboxSans", "SandboxSansBold"

_BUNDLED = Path(reportlab.__file__).parent / "fonts"
# DejaVu Sans, where the system has it, draws nearly every Latin, Greek and Cyrillic name;
# Bitstream Vera ships with reportlab, so a label can always be printed.
_CANDIDATES = [
    *(
        (Path(d) / "DejaVuSans.ttf", Path(d) / "DejaVuSans-Bold.ttf")
        for d in (
            "/usr/share/fonts/truetype/dejavu",
            "/usr/share/fonts/dejavu",
            "/usr/share/fonts/TTF",
            "/usr/local/share/fonts",
        )
    ),
    (_BUNDLED / "Vera.ttf", _BUNDLED / "VeraBd.ttf"),
]

# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans(
    {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H", "\u0131": "i", "ŧ": "t", "Ŧ": "T"}
)


def _register() -> frozenset[int]:
    regular, bold = next((r, b) for r, b in _CANDIDATES if r.is_file() and b.is_file())
    pdfmetrics.registerFont(TTFont(REGULAR, str(regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
    faces = [pdfmetrics.getFont(name).face for name in (REGULAR, BOLD)]
    return frozenset(faces[0].charToGlyph) & frozenset(faces[1].charToGlyph)


DRAWABLE = _register()
"""The code points both weights of the label's typeface can draw."""


def printable(text: str, drawable: Container[int] = DRAWABLE) -> str:
    """`text` as the typeface can print it: a letter it lacks loses its accent, as a postal
    clerk would write it (ś → s), rather than printing as an empty box."""
    out = []
    for char in text:
        if ord(char) in drawable:
            out.append(char)
            continue
        plain = unicodedata.normalize("NFKD", char.translate(_UNDECOMPOSED))
        kept = "".join(c for c in plain if ord(c) in drawable and not unicodedata.combining(c))
        out.append(kept or "?")
    return "".join(out)
