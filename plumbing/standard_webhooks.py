"""Signatures as the Standard Webhooks specification lays them out (standardwebhooks.com): the
event feed signs every delivery this way, so a subscriber checks it with any of the
specification's libraries, in any language.

- `webhook-id`: the message's ID (here the event's, `{return_id}:{sequence}`), the same on
  every redelivery;
- `webhook-timestamp`: the Unix time of this sending, in seconds;
- `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` of `"{id}.{timestamp}.{body}"`,
  one per secret while a secret is rotated.

A secret is `whsec_` and the base64 of its key (24 to 64 bytes).


The timestamp's tolerance and the constant-time comparison are those of our own scheme
(`plumbing.signing`); `SignatureRejected` is its error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

from plumbing.signing import SignatureRejected as SignatureRejected
from plumbing.signing import any_matches, recent_timestamp

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


class BadSecret(ValueError):
    """A secret that is not `whsec_` and the base64 of 24 to 64 bytes."""


def key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for."""
    if not secret.startswith(PREFIX):
        raise BadSecret(f"a webhook secret starts with {PREFIX}")
    try:
        raw = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise BadSecret(f"a webhook secret is {PREFIX} and base64") from None
    if not 24 <= len(raw) <= 64:
        raise BadSecret("a webhook secret's key is 24 to 64 bytes")
    return raw


def make_secret(raw: bytes) -> str:
    return PREFIX + base64.b64encode(raw).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key(secret), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def signed_headers(
    secrets: Sequence[str], message_id: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers that sign `body`, with every secret given (rotation)."""
    at = int(time.time()) if timestamp is None else timestamp
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(at),
        SIGNATURE_HEADER: " ".join(signature(s, message_id, at, body) for s in secrets),
    }


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """The message's ID if one of `secrets` signed `body` within the tolerance, else
    `SignatureRejected` saying what is wrong. `headers` has lower-case names."""
    message_id = headers.get(ID_HEADER)
    stamp = headers.get(TIMESTAMP_HEADER)
    offered = headers.get(SIGNATURE_HEADER)
    if not message_id or not stamp or not offered:
        raise SignatureRejected(
            f"the {ID_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required"
        )
    signed_at = recent_timestamp(stamp, TIMESTAMP_HEADER, tolerance_seconds, now)
    candidates = [part.encode("utf-8", "replace") for part in offered.split()]
    expected = [signature(s, message_id, signed_at, body).encode() for s in secrets]
    if not any_matches(expected, candidates):
        raise SignatureRejected(f"{SIGNATURE_HEADER} does not match the body")
    return message_id
