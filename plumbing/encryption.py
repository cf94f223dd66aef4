"""Payload encryption: AES-256-GCM over every payload Temporal stores, with the key's ID beside it.

A return carries the customer's name, email and home address. Temporal keeps every payload in
its history and shows it in the Web UI, so every payload leaves our processes encrypted: the
Temporal cluster, its database and anyone reading the history without a key see
`binary/encrypted` and the key's ID, nothing else.

Keys are configured, never generated behind the operator's back: `KEY_ID=BASE64` pairs (32
random bytes each, `python starter.py keys new`) in `RETURNFLOW_PAYLOAD_KEYS` or one per line in
the file `RETURNFLOW_PAYLOAD_KEY_FILE`. Payloads are encrypted with the current key
(`RETURNFLOW_PAYLOAD_KEY_ID`, by default the first listed) and decrypted with whichever known key
their metadata names, so a key is rotated by adding the new one as current and keeping the old
one listed until no open return needs it.

The key's ID is authenticated with the ciphertext (GCM's associated data), so a payload whose
metadata was altered to name another key fails to decrypt instead of decrypting to garbage.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
CIPHER_METADATA = "encryption-cipher"
CIPHER = b"AES-256-GCM"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32

_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class PayloadKeyError(ValueError):
    """The keys are misconfigured, or a payload cannot be decrypted with them."""


class UnknownPayloadKey(PayloadKeyError):
    """A payload names a key this process does not have."""

    def __init__(self, key_id: str, known: Iterable[str]) -> None:
        self.key_id = key_id
        listed = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"payload encrypted with key {key_id!r}, which is not among this process's keys "
            f"({listed}): add it to RETURNFLOW_PAYLOAD_KEYS or RETURNFLOW_PAYLOAD_KEY_FILE"
        )


@dataclass(frozen=True)
class Keyring:
    """The keys a process knows, and the one it encrypts with."""

    keys: Mapping[str, bytes] = field(repr=False)
    current: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise PayloadKeyError("no payload encryption key configured")
        if self.current not in self.keys:
            raise PayloadKeyError(
                f"RETURNFLOW_PAYLOAD_KEY_ID names key {self.current!r}, which is not among the "
                f"configured keys ({', '.join(sorted(self.keys))})"
            )

    @property
    def key_ids(self) -> list[str]:
        return sorted(self.keys)

    @classmethod
    def parse(cls, text: str, current: str | None = None, *, source: str) -> Keyring:
        """`KEY_ID=BASE64` pairs separated by commas or new lines; `#` starts a comment.

        The current key is `current`, or the first one listed. Errors name the source and the
        entry's position or key ID, never a key's value.
        """
        keys: dict[str, bytes] = {}
        entries = [
            entry.strip()
            for line in text.splitlines()
            for entry in line.split("#", 1)[0].split(",")
            if entry.strip()
        ]
        for position, entry in enumerate(entries, start=1):
            key_id, sep, encoded = entry.partition("=")
            key_id = key_id.strip()
            if not sep or not _KEY_ID.fullmatch(key_id):
                raise PayloadKeyError(
                    f"{source}: entry {position} is not KEY_ID=BASE64 (a key ID is 1 to 64 "
                    "letters, digits, '.', '_' or '-')"
                )
            if key_id in keys:
                raise PayloadKeyError(f"{source}: key {key_id!r} is listed twice")
            keys[key_id] = _decode_key(encoded.strip(), key_id, source)
        if not keys:
            raise PayloadKeyError(f"{source}: no key in it")
        return cls(keys=keys, current=current or next(iter(keys)))

    @classmethod
    def from_file(cls, path: Path, current: str | None = None) -> Keyring:
        """A key file, which only its owner may read."""
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise PayloadKeyError(
                f"RETURNFLOW_PAYLOAD_KEY_FILE {path}: {err.strerror or err}"
            ) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PayloadKeyError(
                f"RETURNFLOW_PAYLOAD_KEY_FILE {path} can be read by others "
                f"(mode {stat.S_IMODE(mode):o}): chmod 600 it"
            )
        return cls.parse(text, current, source=f"RETURNFLOW_PAYLOAD_KEY_FILE {path}")

    def with_current(self, key_id: str, key: bytes) -> Keyring:
        """This keyring with `key_id` added and made current (a rotation)."""
        return Keyring(keys={**self.keys, key_id: key}, current=key_id)


def _decode_key(encoded: str, key_id: str, source: str) -> bytes:
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise PayloadKeyError(f"{source}: key {key_id!r} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise PayloadKeyError(
            f"{source}: key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}"
        )
    return key


def new_key() -> bytes:
    """32 bytes from the operating system's random source."""
    return secrets.token_bytes(KEY_BYTES)


def key_line(key_id: str, key: bytes | None = None) -> str:
    """`KEY_ID=BASE64` for a key file or RETURNFLOW_PAYLOAD_KEYS."""
    if not _KEY_ID.fullmatch(key_id):
        raise PayloadKeyError(
            f"key ID {key_id!r}: 1 to 64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return f"{key_id}={base64.b64encode(key or new_key()).decode('ascii')}"


def write_key_file(path: Path, key_id: str) -> Keyring:
    """Create a key file with one new key, readable by its owner only (the dev stack's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = key_line(key_id)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(
            "# returnflow payload keys: KEY_ID=BASE64, the current one first. Keep every key\n"
            "# that encrypted a payload of an open return; losing it loses those payloads.\n"
        )
        out.write(line + "\n")
    return Keyring.from_file(path)


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over the whole serialized payload (its metadata included)."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.keyring.current
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(
            nonce, payload.SerializeToString(), key_id.encode("ascii")
        )
        return Payload(
            metadata={
                "encoding": ENCODING,
                KEY_ID_METADATA: key_id.encode("ascii"),
                CIPHER_METADATA: CIPHER,
            },
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        """The original payload; one that was never encrypted is returned as it is (a return
        started before encryption was switched on)."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode("ascii", "replace")
        if not _KEY_ID.fullmatch(key_id):
            raise PayloadKeyError("encrypted payload with a missing or malformed key ID")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownPayloadKey(key_id, self.keyring.keys)
        data = payload.data
        if len(data) < NONCE_BYTES + TAG_BYTES:
            raise PayloadKeyError(f"payload under key {key_id!r} is truncated")
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise PayloadKeyError(
                f"payload under key {key_id!r} failed authentication: it was altered, or the "
                f"key configured as {key_id!r} is not the one that encrypted it"
            ) from None
        decrypted = Payload()
        decrypted.ParseFromString(plain)
        return decrypted
