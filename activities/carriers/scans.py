"""A carrier's scans as returnflow keeps them: one odd detail never hides the parcel's others.

Carriers write free text (a scan's description, its place) as they like, line breaks and tabs
included, and now and then a date no clock can count from. A scan's text is cleaned to one line
of printable characters; a detail that still cannot be a scan (no readable date, one outside
the years returnflow counts in, a field missing) is left out and logged, and the parcel's other
scans, its proof of dispatch among them, are kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from domain.base import UNPRINTABLE
from domain.carriers import TrackingScan

logger = logging.getLogger(__name__)

TEXT_LIMIT = 200
"""The longest text a scan keeps (`ShortText`)."""

_SPACES = re.compile(r"\s+")


def carrier_text(value: Any) -> str | None:
    """A carrier's free text as one line: control characters and bidirectional overrides
    become spaces, spaces run together, at most `TEXT_LIMIT` characters; None when nothing is
    left."""
    if value is None:
        return None
    text = _SPACES.sub(" ", UNPRINTABLE.sub(" ", str(value))).strip()
    return text[:TEXT_LIMIT].strip() or None


def unreadable(err: Exception) -> str:
    """What could not be read, naming no value a carrier sent (a person's name or address may be
    among them): the error's kind, and for a field missing, the field."""
    return f"{type(err).__name__} {err}" if isinstance(err, KeyError) else type(err).__name__


def readable_scan(
    carrier: str, tracking_number: str, build: Callable[[], TrackingScan | None]
) -> TrackingScan | None:
    """The scan `build` makes of one detail, or None (logged) when the detail cannot be one."""
    try:
        return build()
    except (ValueError, KeyError, TypeError) as err:  # pydantic's ValidationError among them
        logger.warning(
            "carrier scan left out: the detail cannot be read as a scan",
            extra={
                "carrier": carrier,
                "tracking_number": tracking_number,
                "why": unreadable(err),
            },
        )
        return None
