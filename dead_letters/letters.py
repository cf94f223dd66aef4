"""A dead letter: a payload the gateway refused or could not process, with why, as the store
keeps it (`dead_letters.store`)."""

from __future__ import annotations

import base64
import datetime as dt
from enum import StrEnum
from typing import Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from dead_letters.sealing import LetterKeyError

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


class Opener(Protocol):
    """What opens a letter's body: the store it was read from."""

    def body(self, letter: DeadLetter) -> bytes: ...


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
    body_size: int
    body_sealed: str | None = Field(
        None, description="The body, encrypted: base64 of the serialized encrypted payload."
    )
    body_key_id: str | None = Field(None, description="The payload key `body_sealed` is under.")
    body_base64: str | None = Field(
        None, description="Letters kept before bodies were sealed: the body in clear."
    )
    body_sha256: str | None = Field(
        None, description="Letters kept before bodies were sealed: the body's SHA-256."
    )
    truncated: bool = Field(False, description="Only the first bytes of a too-large body.")
    state: LetterState = LetterState.PENDING
    replays: list[Replay] = Field(default_factory=list)

    _store: Opener | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _one_body(self) -> Self:
        if (self.body_sealed is None) == (self.body_base64 is None):
            raise ValueError("a letter has either body_sealed or body_base64 (before sealing)")
        if self.body_sealed is not None and not self.body_key_id:
            raise ValueError("a sealed body names its key (body_key_id)")
        return self

    @property
    def sealed(self) -> bool:
        return self.body_sealed is not None

    @property
    def body(self) -> bytes:
        """The body as it came, opened by the store this letter was read from."""
        if self._store is None:
            if self.body_base64 is not None:
                return base64.b64decode(self.body_base64)
            raise LetterKeyError(f"{self.letter_id}: read it through a DeadLetterStore to open it")
        return self._store.body(self)

    def document(self) -> str:
        """The letter as the store keeps it: JSON, without the fields of letters kept before
        bodies were sealed once it is sealed."""
        legacy = {name for name in ("body_base64", "body_sha256") if getattr(self, name) is None}
        return self.model_dump_json(exclude=legacy)
