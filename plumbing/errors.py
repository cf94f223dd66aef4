"""A library's error said in one line, for a message that names the setting to fix."""

from __future__ import annotations


def first_line(err: BaseException) -> str:
    """The first line of `err`'s message (a database driver's or the Temporal SDK's go on with
    details and context lines), or its type's name when it has none."""
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
