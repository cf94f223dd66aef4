"""The marketplace sandbox's side of the event feed: it receives each subscriber's webhooks,
checks their Standard Webhooks signatures, and keeps what arrived, in order of arrival (in
memory and in `{directory}/events.jsonl`), with whether each was a duplicate (an event ID the
subscriber had received already)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from plumbing import standard_webhooks
from plumbing.standard_webhooks import PREFIX


class Received(BaseModel):
    """One delivery as the sandbox received it."""

    subscriber: str
    webhook_id: str
    type: str
    timestamp: str
    sequence: int
    return_id: str
    received_at: dt.datetime
    duplicate: bool
    data: dict[str, Any]


class SubscriberFeed(BaseModel):
    """What one subscriber received of one return: complete and in sequence, or not."""

    subscriber: str
    return_id: str
    received: int
    duplicates: int
    sequences: list[int]
    """The sequence numbers, first deliveries only, in order of arrival."""
    in_sequence: bool
    """Every first delivery came in order, 1, 2, 3, ..., with no gap."""


class FeedInbox:
    """What the subscribers received, kept in `events.jsonl` and read back at start: a restarted
    sandbox still knows a redelivery for one, and where each return's sequence stands."""

    def __init__(self, directory: Path) -> None:
        self._path = directory / "events.jsonl"
        self._lock = asyncio.Lock()
        self.received: list[Received] = []
        self._seen: dict[str, set[str]] = defaultdict(set)
        lines = self._path.read_text(encoding="utf-8").splitlines() if self._path.exists() else []
        for line in lines:
            try:
                entry = Received.model_validate_json(line)
            except ValidationError:  # a line cut short when the process was killed
                continue
            self.received.append(entry)
            self._seen[entry.subscriber].add(entry.webhook_id)

    async def receive(self, subscriber: str, webhook_id: str, body: dict[str, Any]) -> Received:
        data = body.get("data", {})
        async with self._lock:
            duplicate = webhook_id in self._seen[subscriber]
            self._seen[subscriber].add(webhook_id)
            entry = Received(
                subscriber=subscriber,
                webhook_id=webhook_id,
                type=str(body.get("type")),
                timestamp=str(body.get("timestamp")),
                sequence=data["sequence"],
                return_id=data["return_id"],
                received_at=dt.datetime.now(dt.UTC),
                duplicate=duplicate,
                data=data,
            )
            self.received.append(entry)
            await asyncio.to_thread(self._append, entry)
        return entry

    def _append(self, entry: Received) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as out:
            out.write(entry.model_dump_json() + "\n")

    def events(self, subscriber: str | None, return_id: str | None) -> list[Received]:
        return [
            r
            for r in self.received
            if (subscriber is None or r.subscriber == subscriber)
            and (return_id is None or r.return_id == return_id)
        ]

    def report(self) -> list[SubscriberFeed]:
        """Per subscriber and return: what came, and whether it came whole and in order."""
        grouped: dict[tuple[str, str], list[Received]] = defaultdict(list)
        for entry in self.received:
            grouped[(entry.subscriber, entry.return_id)].append(entry)
        report = []
        for (subscriber, return_id), entries in sorted(grouped.items()):
            firsts = [e.sequence for e in entries if not e.duplicate]
            report.append(
                SubscriberFeed(
                    subscriber=subscriber,
                    return_id=return_id,
                    received=len(entries),
                    duplicates=len(entries) - len(firsts),
                    sequences=firsts,
                    in_sequence=firsts == list(range(1, len(firsts) + 1)),
                )
            )
        return report


def secrets_for(subscriber: str, configured: Sequence[str]) -> list[str]:
    """The secrets a subscriber's deliveries may be signed with: each configured entry is
    `NAME=whsec_...` (that subscriber's) or `whsec_...` (any subscriber's)."""
    return [secret for name, secret in map(_entry, configured) if name in (None, subscriber)]


def _entry(entry: str) -> tuple[str | None, str]:
    """A configured entry as (the subscriber it is for, None for any; its secret)."""
    if entry.startswith(PREFIX):
        return None, entry
    name, _, secret = entry.partition("=")
    return name, secret


def secret_problem(entry: str) -> str | None:
    """Why a configured entry (`NAME=whsec_...` or `whsec_...`) cannot sign anything, naming
    the subscriber, never the secret; None when it can."""
    name, secret = _entry(entry)
    try:
        standard_webhooks.key(secret)
    except standard_webhooks.BadSecret as err:
        return f"{name or 'any subscriber'}: {err}"
    return None


def load(directory: Path) -> list[dict[str, Any]]:
    """The deliveries recorded under `directory`, for tools reading after the sandbox stopped."""
    path = directory / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
