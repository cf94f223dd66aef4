"""Dead letters' bodies sealed with the payload keys, and the names the dedupe index gives them.

A body is sealed as a Temporal payload encrypted with the current payload key (AES-256-GCM,
`plumbing.encryption`), its letter's ID and source inside it, so a sealed body moved to another
letter does not open. The dedupe index names a letter by an HMAC-SHA256 of its source and body
under a key derived from each payload key: without that key a name confirms nothing about a
body (a plain SHA-256 of a short or guessable body would). Letters kept before bodies were
sealed were named by a plain SHA-256 (`legacy_index_name`): such names are found, never written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload

from plumbing.encryption import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadKeyError,
    UnknownPayloadKey,
)

INDEX_KEY_CONTEXT = b"returnflow/dead-letters/index/v1"
"""What a payload key is HMAC'd with to give its dead-letter index key (never the key itself)."""

LETTER_ID_METADATA = "dead-letter-id"
SOURCE_METADATA = "dead-letter-source"


class LetterKeyError(PayloadKeyError):
    """A letter's body cannot be opened with this process's keys; the message names the key."""


def seal_body(codec: EncryptionCodec, letter_id: str, source: str, body: bytes) -> tuple[str, str]:
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


def open_body(codec: EncryptionCodec, letter_id: str, source: str, body_sealed: str) -> bytes:
    """The body sealed for the letter `letter_id` of `source`; a `LetterKeyError` saying why
    it does not open (a key this process lacks, named; an altered or moved body)."""
    sealed = Payload()
    try:
        sealed.ParseFromString(base64.b64decode(body_sealed, validate=True))
    except (binascii.Error, ValueError, DecodeError):
        raise LetterKeyError(f"{letter_id}: its sealed body is not readable") from None
    if sealed.metadata.get("encoding") != ENCODING:
        raise LetterKeyError(f"{letter_id}: its sealed body is not encrypted")
    try:
        inner = codec.decrypt(sealed)
    except UnknownPayloadKey as err:
        raise LetterKeyError(
            f"{letter_id}: its body is sealed under key {err.key_id!r}, which is not "
            f"among this process's keys ({', '.join(codec.keyring.key_ids)}): add it to "
            "RETURNFLOW_PAYLOAD_KEYS or RETURNFLOW_PAYLOAD_KEY_FILE"
        ) from None
    except PayloadKeyError as err:
        raise LetterKeyError(f"{letter_id}: {err}") from None
    if (
        inner.metadata.get(LETTER_ID_METADATA) != letter_id.encode()
        or inner.metadata.get(SOURCE_METADATA) != source.encode()
    ):
        raise LetterKeyError(f"{letter_id}: its sealed body belongs to another letter")
    return inner.data


def index_names(codec: EncryptionCodec, source: str, body: bytes) -> list[str]:
    """Where the pending letter of this source and body may be named: under each known key (the
    current one first, where new letters are named), then the pre-sealing name."""
    keyring = codec.keyring
    ids = [keyring.current, *(k for k in keyring.key_ids if k != keyring.current)]
    keys = [hmac.digest(keyring.keys[k], INDEX_KEY_CONTEXT, "sha256") for k in ids]
    message = source.encode() + b"\n" + body
    keyed = [hmac.new(key, message, "sha256").hexdigest() for key in keys]
    return [*keyed, legacy_index_name(source, hashlib.sha256(body).hexdigest())]


def legacy_index_name(source: str, digest: str) -> str:
    """The index name of letters kept before bodies were sealed (found, never written)."""
    return hashlib.sha256(f"{source}\n{digest}".encode()).hexdigest()
