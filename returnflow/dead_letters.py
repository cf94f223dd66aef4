"""The dead-letter store: every payload the gateway refused or could not process, with why.

One JSON file per letter under `var/dead-letters/` (file mode 0600: bodies hold customers'
personal data). A letter keeps the raw body as it came, the headers needed to check its
signature again, the HTTP answer given and the reason, and every later replay. The same body
refused again from the same source (a sender retrying) is counted on the existing letter
instead of filed twice.

`python starter.py dead-letters list|show|replay` reads and replays them; see `returnflow.replay`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

KEPT_HEADERS = frozenset(
    {
        "content-type",
        "user-agent",
        "x-request-id",
        "x-returnflow-timestamp",
        "x-returnflow-signature",
        # Carriers' webhook signatures, so a replay can check them again.
        "x-sandbox-timestamp",
        "x-sandbox-signature",
        "x-hmac-signature",
        "x-hmac-signature-v2",
        "x-timestamp",
        "x-path",
    }
)
"""Headers worth keeping: what tells the sender and what proves the payload is theirs. Never
`Authorization`."""


class LetterState(StrEnum):
    PENDING = "pending"
    """Waiting for someone to fix what is wrong and replay it."""
    REPLAYED = "replayed"
    """Replayed successfully: its return has it now."""
    DISCARDED = "discarded"
    """Looked at and dropped on purpose (spam, a test, a payload nobody wants)."""


class Replay(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: dt.datetime
    by: str
    outcome: str
    """`accepted`, `duplicate`, or the reason it was refused again."""
    detail: str = ""
    edited_body: bool = False


class DeadLetter(BaseModel):
    """A payload refused or not processed, with everything needed to process it later."""

    model_config = ConfigDict(extra="forbid")

    letter_id: str
    source: str = Field(description="`events`, or `carrier:<code>` for a tracking webhook.")
    received_at: dt.datetime
    last_received_at: dt.datetime
    times_received: int = 1
    status_code: int = Field(description="The HTTP status the sender got.")
    reason: str = Field(description="Machine-readable: bad_signature, invalid_event, ...")
    problems: list[str] = Field(default_factory=list, description="Each naming its field.")
    authenticated: bool = Field(
        description="The signature was checked and good when it came (a fixed body may then "
        "be replayed in its place)."
    )
    headers: dict[str, str] = Field(default_factory=dict)
    body_sha256: str
    body_size: int
    body_base64: str
    truncated: bool = Field(False, description="Only the first bytes of a too-large body.")
    state: LetterState = LetterState.PENDING
    replays: list[Replay] = Field(default_factory=list)

    @property
    def body(self) -> bytes:
        return base64.b64decode(self.body_base64)


class DeadLetterStore:
    """The letters of one directory, safe for several gateway processes sharing it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def keep(
        self,
        *,
        source: str,
        body: bytes,
        headers: Mapping[str, str],
        status_code: int,
        reason: str,
        problems: list[str] | None = None,
        authenticated: bool,
        truncated: bool = False,
        now: dt.datetime | None = None,
    ) -> DeadLetter:
        """File a refused payload (or count it again on its pending letter); its letter."""
        at = now or dt.datetime.now(dt.UTC)
        digest = hashlib.sha256(body).hexdigest()
        index = self._index_path(source, digest)
        earlier = self._pending_letter(index)
        if earlier is not None:
            earlier.times_received += 1
            earlier.last_received_at = at
            earlier.status_code, earlier.reason = status_code, reason
            earlier.problems = problems or []
            earlier.authenticated = earlier.authenticated or authenticated
            self._write(earlier)
            return earlier
        letter = DeadLetter(
            letter_id=f"dl-{at:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}",
            source=source,
            received_at=at,
            last_received_at=at,
            status_code=status_code,
            reason=reason,
            problems=problems or [],
            authenticated=authenticated,
            headers={k: v for k, v in headers.items() if k.lower() in KEPT_HEADERS},
            body_sha256=digest,
            body_size=len(body),
            body_base64=base64.b64encode(body).decode(),
            truncated=truncated,
        )
        self._write(letter)
        index.write_text(letter.letter_id)
        return letter

    def _index_path(self, source: str, digest: str) -> Path:
        """Where the pending letter of this source and body is named (one file lookup)."""
        key = hashlib.sha256(f"{source}\n{digest}".encode()).hexdigest()
        return self.directory / "index" / key

    def _pending_letter(self, index: Path) -> DeadLetter | None:
        try:
            letter = self.get(index.read_text().strip())
        except (OSError, KeyError):
            return None
        return letter if letter.state is LetterState.PENDING else None

    def letters(self, state: LetterState | None = None) -> Iterator[DeadLetter]:
        """Every letter (or those in `state`), oldest first."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("dl-*.json")):
            letter = DeadLetter.model_validate_json(path.read_bytes())
            if state is None or letter.state is state:
                yield letter

    def get(self, letter_id: str) -> DeadLetter:
        path = self._path(letter_id)
        if not path.is_file():
            raise KeyError(letter_id)
        return DeadLetter.model_validate_json(path.read_bytes())

    def record_replay(self, letter: DeadLetter, replay: Replay, state: LetterState) -> None:
        letter.replays.append(replay)
        letter.state = state
        self._write(letter)

    def discard(self, letter: DeadLetter, by: str, why: str) -> None:
        """Drop a letter on purpose; it stays on file, marked, with who and why."""
        replay = Replay(at=dt.datetime.now(dt.UTC), by=by, outcome="discarded", detail=why)
        self.record_replay(letter, replay, LetterState.DISCARDED)

    def _path(self, letter_id: str) -> Path:
        if not letter_id.startswith("dl-") or "/" in letter_id or ".." in letter_id:
            raise KeyError(letter_id)
        return self.directory / f"{letter_id}.json"

    def _write(self, letter: DeadLetter) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.directory / "index").mkdir(exist_ok=True, mode=0o700)
        path = self._path(letter.letter_id)
        temporary = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        data = json.dumps(letter.model_dump(mode="json"), indent=2).encode() + b"\n"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # Renamed into place whole: a reader never sees half a letter.
        temporary.replace(path)
