"""A directory of `.eml` files, one per message received, in arrival order."""

from __future__ import annotations

import datetime as dt
import email
import email.parser
import email.policy
import os
import re
import threading
from email.message import EmailMessage
from pathlib import Path

_FILENAME = re.compile(r"^\d{8}T\d{12}-(?P<seq>\d+)-.+\.eml$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SLUG_MAX = 80
NO_MESSAGE_ID = "no-message-id"


def message_key(content: bytes) -> str:
    """The left part of a message's Message-ID (`return-O1-1.acknowledgement.1`), or a marker.

    It says which notice a message is without saying who it went to, so it is what the sink
    logs and puts in file names. (A whole Message-ID looks like an email address to the log
    redactor, which would mask it.)
    """
    # As written, not parsed into a structured header: a malformed Message-ID (`<a@[b`), which
    # a relay takes, makes the structured parser raise, and the message must still be kept.
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(content)
    message_id = str(headers.get("Message-ID", "")).strip().strip("<>")
    left = message_id.rpartition("@")[0] or message_id
    return left or NO_MESSAGE_ID


def _slug(key: str) -> str:
    return _UNSAFE.sub("-", key).strip("-.")[:_SLUG_MAX] or NO_MESSAGE_ID


class Mailbox:
    """Writes each message to its own file, atomically, never over another one.

    Names are `{UTC time}-{sequence}-{message key}.eml`: they sort in arrival order, and two
    messages with the same Message-ID (a retried send) still get a file each, because a sink that
    merged them would hide exactly the duplicates the tests look for.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # Continue the numbering of a mailbox kept from an earlier run.
        self._sequence = max(
            (int(m["seq"]) for p in directory.iterdir() if (m := _FILENAME.match(p.name))),
            default=0,
        )

    def store(self, content: bytes) -> Path:
        """Write one message; once this returns, the whole file is there under its final name."""
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{sequence:04d}-{_slug(message_key(content))}.eml"
        final = self.directory / name
        # A reader never sees half a message: it only lists `*.eml`, and the rename is atomic.
        temporary = self.directory / f".{name}.tmp"
        with temporary.open("wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(final)
        return final


def read_mailbox(directory: Path) -> list[EmailMessage]:
    """Every message stored in `directory`, parsed, in the order they arrived."""
    if not directory.is_dir():
        return []
    paths = sorted(directory.glob("*.eml"), key=_arrival)
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths]


def _arrival(path: Path) -> tuple[int, str]:
    # The sequence, not the clock, is the arrival order: a wall clock can step backwards.
    match = _FILENAME.match(path.name)
    return (int(match["seq"]) if match else 0, path.name)
