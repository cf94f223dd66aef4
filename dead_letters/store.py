"""The dead-letter store: every payload the gateway refused or could not process, with why.

One JSON file per letter under `var/dead-letters/` (file mode 0600). A letter keeps the body as
it came, the headers needed to check its signature again, the HTTP answer given and the reason,
and every later replay. The same body refused again from the same source (a sender retrying) is
counted on the existing letter instead of filed twice.

Letters of unauthenticated senders (the gateway keeps a sample of them) go under
`unauthenticated/`, written without fsync, never looked up to count a repeat, and within
`unauthenticated_quota_bytes`: the oldest are removed to make room. Letters of authenticated
senders are never removed.

Bodies hold customers' personal data, so they are kept **sealed** with the payload keys
(`plumbing.encryption`, the keys every Temporal payload is encrypted with): `body_sealed` is
the encrypted payload (AES-256-GCM, the letter's ID and source inside it so a body cannot be
moved to another letter), `body_key_id` names its key. Only the store opens a body
(`DeadLetterStore.body`), with any key the process knows; a body under a key it lacks is a
`LetterKeyError` naming that key. Listing letters never opens a body (and needs no key).

The dedupe index names each pending letter by an HMAC-SHA256 of its source and body, keyed by a
key derived from a payload key: without that key, the index confirms nothing about a body (a
plain SHA-256 of a short or guessable body would). Letters written before bodies were sealed
(`body_base64`, in clear, and a plain SHA-256 index) are still read, found and replayed, and
are sealed the next time they are touched or by `DeadLetterStore.seal_all`.

`python starter.py dead-letters list|show|replay|discard|seal` reads and replays them; see
`dead_letters.replay`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Self

from google.protobuf.message import DecodeError
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from temporalio.api.common.v1 import Payload

from plumbing.encryption import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadKeyError,
    UnknownPayloadKey,
)

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

INDEX_KEY_CONTEXT = b"returnflow/dead-letters/index/v1"
"""What a payload key is HMAC'd with to give its dead-letter index key (never the key itself)."""

UNAUTHENTICATED_DIR = "unauthenticated"
"""The subdirectory of the letters of senders not authenticated: sampled, within a disk quota,
oldest removed first, never looked up to count a repeat."""

LETTER_ID_METADATA = "dead-letter-id"
SOURCE_METADATA = "dead-letter-source"


class LetterKeyError(PayloadKeyError):
    """A letter's body cannot be opened with this process's keys; the message names the key."""


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
        None, description="Letters written before bodies were sealed: the body in clear."
    )
    body_sha256: str | None = Field(
        None, description="Letters written before bodies were sealed: the body's SHA-256."
    )
    truncated: bool = Field(False, description="Only the first bytes of a too-large body.")
    state: LetterState = LetterState.PENDING
    replays: list[Replay] = Field(default_factory=list)

    _store: DeadLetterStore | None = PrivateAttr(None)
    _apart: bool = PrivateAttr(False)

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


class DeadLetterStore:
    """The letters of one directory, safe for several gateway processes sharing it.

    `codec` seals new bodies (with its current key) and opens sealed ones (with any of its
    keys). `None` gives a store that can only list letters and read what is around the body
    (`dead-letters list`): keeping a letter or opening a body then fails with a
    `LetterKeyError`.
    """

    def __init__(
        self,
        directory: Path,
        codec: EncryptionCodec | None,
        *,
        unauthenticated_quota_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.directory = directory
        self.codec = codec
        self.unauthenticated_quota_bytes = unauthenticated_quota_bytes

    @property
    def apart(self) -> Path:
        """Where the letters of unauthenticated senders are kept, within their quota."""
        return self.directory / UNAUTHENTICATED_DIR

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
        codec = self._codec()
        at = now or dt.datetime.now(dt.UTC)
        # A stranger varies a body for free: their letters are not looked up, only bounded.
        earlier = self._pending_letter(source, body) if authenticated else None
        if earlier is not None:
            earlier.times_received += 1
            earlier.last_received_at = at
            earlier.status_code, earlier.reason = status_code, reason
            earlier.problems = problems or []
            earlier.authenticated = earlier.authenticated or authenticated
            self._write(earlier)
            return earlier
        letter_id = f"dl-{at:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
        sealed, key_id = _seal(codec, letter_id, source, body)
        letter = DeadLetter(
            letter_id=letter_id,
            source=source,
            received_at=at,
            last_received_at=at,
            status_code=status_code,
            reason=reason,
            problems=problems or [],
            authenticated=authenticated,
            headers={k: v for k, v in headers.items() if k.lower() in KEPT_HEADERS},
            body_size=len(body),
            body_sealed=sealed,
            body_key_id=key_id,
            truncated=truncated,
        )
        letter._store = self
        if not authenticated:
            letter._apart = True
            self._save(letter, durable=False)
            self._evict_for(letter)
            return letter
        self._write(letter)
        self._index(letter, body)
        return letter

    def unauthenticated_bytes(self) -> int:
        """The disk the letters of unauthenticated senders take."""
        return sum(size for _, size in self._apart_files())

    def body(self, letter: DeadLetter) -> bytes:
        """The letter's body as it came: opened with the key it names (a `LetterKeyError` naming
        that key if this process lacks it), or read as it is from a letter written before bodies
        were sealed."""
        if letter.body_base64 is not None:
            return base64.b64decode(letter.body_base64)
        if self.codec is None:
            raise LetterKeyError(
                f"{letter.letter_id}: its body is sealed under key {letter.body_key_id!r} and no "
                "payload key is configured: set RETURNFLOW_PAYLOAD_KEYS or "
                "RETURNFLOW_PAYLOAD_KEY_FILE"
            )
        return _open(self.codec, letter)

    def letters(self, state: LetterState | None = None) -> Iterator[DeadLetter]:
        """Every letter (or those in `state`), oldest first. No body is opened."""
        if not self.directory.is_dir():
            return
        paths = [*self.directory.glob("dl-*.json"), *self.apart.glob("dl-*.json")]
        for path in sorted(paths, key=lambda p: p.name):
            try:
                letter = self._read(path)
            except FileNotFoundError:  # evicted meanwhile by another gateway process
                continue
            if state is None or letter.state is state:
                yield letter

    def get(self, letter_id: str) -> DeadLetter:
        path = self._path(letter_id)
        if not path.is_file():
            path = self.apart / path.name
        if not path.is_file():
            raise KeyError(letter_id)
        return self._read(path)

    def record_replay(self, letter: DeadLetter, replay: Replay, state: LetterState) -> None:
        letter.replays.append(replay)
        letter.state = state
        self._write(letter)

    def discard(self, letter: DeadLetter, by: str, why: str) -> None:
        """Drop a letter on purpose; it stays on file, marked, with who and why."""
        replay = Replay(at=dt.datetime.now(dt.UTC), by=by, outcome="discarded", detail=why)
        self.record_replay(letter, replay, LetterState.DISCARDED)

    def seal_all(self) -> tuple[list[DeadLetter], list[LetterKeyError]]:
        """Seal every letter still in clear (written before bodies were sealed) and re-seal
        those under another key than the current one (after a rotation, so the old key can be
        retired): the letters changed, and why others could not be (a key this process
        lacks)."""
        codec = self._codec()
        changed: list[DeadLetter] = []
        failed: list[LetterKeyError] = []
        for letter in self.letters():
            if letter.body_key_id == codec.keyring.current:
                continue
            try:
                self._write(letter, reseal=True)
            except LetterKeyError as err:
                failed.append(err)
            else:
                changed.append(letter)
        return changed, failed

    # --- sealing -----------------------------------------------------------------------------

    def _codec(self) -> EncryptionCodec:
        if self.codec is None:
            raise LetterKeyError(
                "the dead-letter store needs the payload keys to seal bodies: set "
                "RETURNFLOW_PAYLOAD_KEYS or RETURNFLOW_PAYLOAD_KEY_FILE"
            )
        return self.codec

    def _write(self, letter: DeadLetter, *, reseal: bool = False) -> None:
        """Write `letter` back, sealing its body first if it is still in clear (or, with
        `reseal`, under another key than the current one) and the store has the keys."""
        clear = letter.body_base64 is not None
        if self.codec is not None and (clear or reseal):
            current = self.codec.keyring.current
            if clear or letter.body_key_id != current:
                body = self.body(letter)
                letter.body_sealed, letter.body_key_id = _seal(
                    self.codec, letter.letter_id, letter.source, body
                )
                legacy_index = self._legacy_index_path(letter)
                letter.body_base64 = letter.body_sha256 = None
                self._save(letter)
                if letter.state is LetterState.PENDING:
                    self._index(letter, body)
                if legacy_index is not None and _names(legacy_index, letter.letter_id):
                    legacy_index.unlink(missing_ok=True)
                return
        self._save(letter)

    # --- the dedupe index --------------------------------------------------------------------

    def _index_keys(self) -> list[bytes]:
        """The index keys, the current payload key's first."""
        keyring = self._codec().keyring
        ids = [keyring.current, *(k for k in keyring.key_ids if k != keyring.current)]
        return [hmac.digest(keyring.keys[k], INDEX_KEY_CONTEXT, "sha256") for k in ids]

    def _index_paths(self, source: str, body: bytes) -> list[Path]:
        """Where the pending letter of this source and body may be named: under each known key
        (the current one first, where new letters are named), then the pre-sealing index."""
        message = source.encode() + b"\n" + body
        keyed = [hmac.new(key, message, "sha256").hexdigest() for key in self._index_keys()]
        legacy = _legacy_index_name(source, hashlib.sha256(body).hexdigest())
        return [self.directory / "index" / name for name in (*keyed, legacy)]

    def _legacy_index_path(self, letter: DeadLetter) -> Path | None:
        if letter.body_sha256 is None:
            return None
        return self.directory / "index" / _legacy_index_name(letter.source, letter.body_sha256)

    def _index(self, letter: DeadLetter, body: bytes) -> None:
        self._index_paths(letter.source, body)[0].write_text(letter.letter_id)

    def _pending_letter(self, source: str, body: bytes) -> DeadLetter | None:
        for index in self._index_paths(source, body):
            try:
                letter = self.get(index.read_text().strip())
            except (OSError, KeyError):
                continue
            if letter.state is LetterState.PENDING:
                return letter
        return None

    # --- files -------------------------------------------------------------------------------

    def _read(self, path: Path) -> DeadLetter:
        letter = DeadLetter.model_validate_json(path.read_bytes())
        letter._store = self
        letter._apart = path.parent == self.apart
        return letter

    def _apart_files(self) -> list[tuple[Path, int]]:
        """The unauthenticated senders' letters with their sizes, oldest first."""
        found = []
        try:
            entries = list(os.scandir(self.apart))
        except FileNotFoundError:
            return []
        for entry in entries:
            if entry.name.startswith("dl-") and entry.name.endswith(".json"):
                try:
                    found.append((Path(entry.path), entry.stat().st_size))
                except FileNotFoundError:
                    continue
        return sorted(found, key=lambda item: item[0].name)

    def _evict_for(self, kept: DeadLetter) -> None:
        """Remove the oldest unauthenticated letters until they fit their quota again (never
        the one just kept)."""
        files = self._apart_files()
        total = sum(size for _, size in files)
        for path, size in files:
            if total <= self.unauthenticated_quota_bytes:
                return
            if path.stem == kept.letter_id:
                continue
            path.unlink(missing_ok=True)
            total -= size

    def _path(self, letter_id: str) -> Path:
        if not letter_id.startswith("dl-") or "/" in letter_id or ".." in letter_id:
            raise KeyError(letter_id)
        return self.directory / f"{letter_id}.json"

    def _save(self, letter: DeadLetter, *, durable: bool = True) -> None:
        """Write `letter` whole (renamed into place); `durable`: on disk before returning."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.directory / "index").mkdir(exist_ok=True, mode=0o700)
        path = self._path(letter.letter_id)
        if letter._apart:
            self.apart.mkdir(exist_ok=True, mode=0o700)
            path = self.apart / path.name
        temporary = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        legacy = {name for name in ("body_base64", "body_sha256") if getattr(letter, name) is None}
        data = json.dumps(letter.model_dump(mode="json", exclude=legacy), indent=2).encode() + b"\n"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            if durable:
                os.fsync(file.fileno())
        # Renamed into place whole: a reader never sees half a letter.
        temporary.replace(path)


def _seal(codec: EncryptionCodec, letter_id: str, source: str, body: bytes) -> tuple[str, str]:
    """`body` encrypted with the current key, bound to its letter; and that key's ID."""
    inner = Payload(
        metadata={
            "encoding": b"binary/plain",
            LETTER_ID_METADATA: letter_id.encode(),
            SOURCE_METADATA: source.encode(),
        },
        data=body,
    )
    sealed = codec.encrypt(inner)
    key_id = sealed.metadata[KEY_ID_METADATA].decode("ascii")
    return base64.b64encode(sealed.SerializeToString()).decode("ascii"), key_id


def _open(codec: EncryptionCodec, letter: DeadLetter) -> bytes:
    assert letter.body_sealed is not None
    sealed = Payload()
    try:
        sealed.ParseFromString(base64.b64decode(letter.body_sealed, validate=True))
    except (binascii.Error, ValueError, DecodeError):
        raise LetterKeyError(f"{letter.letter_id}: its sealed body is not readable") from None
    if sealed.metadata.get("encoding") != ENCODING:
        raise LetterKeyError(f"{letter.letter_id}: its sealed body is not encrypted")
    try:
        inner = codec.decrypt(sealed)
    except UnknownPayloadKey as err:
        raise LetterKeyError(
            f"{letter.letter_id}: its body is sealed under key {err.key_id!r}, which is not "
            f"among this process's keys ({', '.join(codec.keyring.key_ids)}): add it to "
            "RETURNFLOW_PAYLOAD_KEYS or RETURNFLOW_PAYLOAD_KEY_FILE"
        ) from None
    except PayloadKeyError as err:
        raise LetterKeyError(f"{letter.letter_id}: {err}") from None
    if (
        inner.metadata.get(LETTER_ID_METADATA) != letter.letter_id.encode()
        or inner.metadata.get(SOURCE_METADATA) != letter.source.encode()
    ):
        raise LetterKeyError(f"{letter.letter_id}: its sealed body belongs to another letter")
    return inner.data


def _legacy_index_name(source: str, digest: str) -> str:
    """The index name of letters written before bodies were sealed (found, never written)."""
    return hashlib.sha256(f"{source}\n{digest}".encode()).hexdigest()


def _names(index: Path, letter_id: str) -> bool:
    try:
        return index.read_text().strip() == letter_id
    except OSError:
        return False
