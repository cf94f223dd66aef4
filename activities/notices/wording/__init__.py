"""The words of the notices that depend on the data: subjects, reasons, steps, packaging tips.

The letters themselves are Jinja templates (`templates/{lang}/{kind}.txt|.html`). What lives
here is what both the text and the HTML version show as the same items (a list of steps, a
sentence chosen by a reason code): it is written once, as plain text, and each template lays
it out (and the HTML one escapes it).
"""

from __future__ import annotations

from activities.notices.wording.base import Wording
from activities.notices.wording.en import ENGLISH
from activities.notices.wording.fr import FRENCH

DEFAULT_LANGUAGE = "en"

WORDINGS: dict[str, Wording] = {"en": ENGLISH, "fr": FRENCH}


def language_of(locale: str) -> str:
    """The notices' language for a locale: `fr-FR` → `fr`; unknown → English."""
    language = locale.split("-", 1)[0].lower()
    return language if language in WORDINGS else DEFAULT_LANGUAGE


__all__ = ["DEFAULT_LANGUAGE", "WORDINGS", "Wording", "language_of"]
