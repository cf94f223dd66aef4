"""The marketplace's seller chat: where returns ask sellers for their return address.

`FileSellerChat` is the local adapter of the dev stack: each seller's conversation is a JSON
Lines file, `{directory}/{seller_id}.jsonl`, one line per message posted. A message is posted at
most once: its `message_id` (derived from the return and the step) is looked for in the file
before the line is appended, under an exclusive lock on the file, so retries, replays and
several workers sharing the directory never post it twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pydantic import AwareDatetime, ValidationError

from domain.base import DomainModel, Identifier
from domain.notices import SellerChatKind, SellerChatMessage


class SellerChat(Protocol):
    """Posts messages to sellers, each at most once."""

    async def post(self, message: SellerChatMessage, text: str) -> bool:
        """Post `text` as `message`: True if posted now, False if its message_id already was."""
        ...


class ChatEntry(DomainModel):
    """One message of a seller's conversation, as the chat file keeps it."""

    message_id: str
    kind: SellerChatKind
    return_id: str
    order_id: Identifier
    line_id: Identifier
    reply_by: AwareDatetime | None
    text: str
    posted_at: AwareDatetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FileSellerChat:
    """A seller chat over JSON Lines files, one per seller."""

    def __init__(self, directory: Path, clock: Callable[[], dt.datetime] = _now) -> None:
        self.directory = Path(directory)
        self._clock = clock
        self._lock = threading.Lock()

    def conversation(self, seller_id: str) -> Path:
        """The file of the seller's conversation (a seller ID holds no `/`: see Identifier)."""
        return self.directory / f"{seller_id}.jsonl"

    async def post(self, message: SellerChatMessage, text: str) -> bool:
        return await asyncio.to_thread(self._post, message, text)

    async def messages(self, seller_id: str) -> list[ChatEntry]:
        """The seller's conversation, oldest first (for tests, demos and operators)."""
        return await asyncio.to_thread(self._messages, seller_id)

    def _post(self, message: SellerChatMessage, text: str) -> bool:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(
                self.conversation(message.seller_id), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644
            )
            try:
                # Other workers may share the directory: the check and the append are one step.
                fcntl.flock(fd, fcntl.LOCK_EX)
                content = _read_all(fd)
                if message.message_id in _posted_ids(content):
                    return False
                entry = ChatEntry(
                    message_id=message.message_id,
                    kind=message.kind,
                    return_id=message.return_id,
                    order_id=message.order_id,
                    line_id=message.line_id,
                    reply_by=message.reply_by,
                    text=text,
                    posted_at=self._clock(),
                )
                line = entry.model_dump_json().encode() + b"\n"
                if content and not content.endswith(b"\n"):
                    line = b"\n" + line  # after a torn last line, start ours on a line of its own
                _write_all(fd, line)
                os.fsync(fd)
                return True
            finally:
                os.close(fd)  # releases the lock

    def _messages(self, seller_id: str) -> list[ChatEntry]:
        try:
            content = self.conversation(seller_id).read_bytes()
        except FileNotFoundError:
            return []
        entries = []
        for line in content.splitlines():
            try:
                entries.append(ChatEntry.model_validate_json(line))
            except ValidationError:
                continue  # a line torn by a crash was never posted
        return entries


def _read_all(fd: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 1 << 16, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    """One write(2) with O_APPEND in the normal case; a short write goes on where it stopped."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _posted_ids(content: bytes) -> set[str]:
    ids = set()
    for line in content.splitlines():
        try:
            posted = json.loads(line)
        except ValueError:
            continue
        if isinstance(posted, dict) and isinstance(posted.get("message_id"), str):
            ids.add(posted["message_id"])
    return ids
