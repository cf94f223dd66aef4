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
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pydantic import AwareDatetime, Field, ValidationError

from domain.base import DomainModel, Identifier
from domain.notices import SellerChatKind, SellerChatMessage


class SellerChat(Protocol):
    """Posts messages to sellers, each at most once."""

    async def post(self, message: SellerChatMessage, text: str) -> bool:
        """Post `text` as `message`: True if posted now, False if its message_id already was."""
        ...


class ChatPost(DomainModel):
    """A message posted in a seller's chat (`POST /v1/sellers/{seller_id}/messages`)."""

    message_id: str = Field(
        min_length=1, max_length=200, description="The Idempotency-Key: posted at most once."
    )
    kind: SellerChatKind
    return_id: str = Field(min_length=1, max_length=200)
    order_id: Identifier
    line_id: Identifier
    reply_by: AwareDatetime | None = Field(
        default=None, description="When the ask goes to operations if the seller has not answered."
    )
    text: str = Field(
        min_length=1, max_length=4000, description="The message, in the seller's language."
    )

    @classmethod
    def of(cls, message: SellerChatMessage, text: str) -> ChatPost:
        return cls(
            message_id=message.message_id,
            kind=message.kind,
            return_id=message.return_id,
            order_id=message.order_id,
            line_id=message.line_id,
            reply_by=message.reply_by,
            text=text,
        )


class ChatPosted(DomainModel):
    """The chat's answer to a post: `created` is false when the message_id was posted before."""

    message_id: str
    posted_at: AwareDatetime
    created: bool


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
        _, created = await self.record(message, text)
        return created

    async def record(self, message: SellerChatMessage, text: str) -> tuple[ChatEntry, bool]:
        """The message as the conversation holds it, and whether this call posted it."""
        return await asyncio.to_thread(self._post, message, text)

    async def messages(self, seller_id: str) -> list[ChatEntry]:
        """The seller's conversation, oldest first (for tests, demos and operators)."""
        return await asyncio.to_thread(self._messages, seller_id)

    def _post(self, message: SellerChatMessage, text: str) -> tuple[ChatEntry, bool]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(
                self.conversation(message.seller_id), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644
            )
            try:
                # Other workers may share the directory: the check and the append are one step.
                fcntl.flock(fd, fcntl.LOCK_EX)
                content = _read_all(fd)
                posted = _posted(content, message.message_id)
                if posted is not None:
                    return posted, False
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
                return entry, True
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


def _posted(content: bytes, message_id: str) -> ChatEntry | None:
    """The entry posted under `message_id`, if any (a line torn by a crash was never posted)."""
    for line in content.splitlines():
        try:
            entry = ChatEntry.model_validate_json(line)
        except ValidationError:
            continue
        if entry.message_id == message_id:
            return entry
    return None
