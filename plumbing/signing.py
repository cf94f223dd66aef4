"""HMAC-SHA256 request signatures over a timestamp and the raw body, checked in constant time.

The scheme the order service's events and the sandbox's tracking webhooks use (the same shape
as the carriers' own webhook signatures): the sender puts the Unix time in a timestamp header
and `v1=<hex HMAC-SHA256 of "{timestamp}." + body>` in a signature header. Several signatures,
comma-separated, may be sent while a secret is rotated; the receiver likewise accepts any of
its configured secrets. A signature older (or further ahead) than the tolerance is refused, so
a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

TIMESTAMP_HEADER = "X-Returnflow-Timestamp"
SIGNATURE_HEADER = "X-Returnflow-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureRejected(ValueError):
    """The request is not signed by someone holding a secret we know, or not recently."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=` and the lower-case hex HMAC-SHA256 of `"{timestamp}."` followed by the body."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def signed_headers(
    secret: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    timestamp_header: str = TIMESTAMP_HEADER,
    signature_header: str = SIGNATURE_HEADER,
) -> dict[str, str]:
    """The headers that sign `body` at `timestamp` (default: now, real time)."""
    at = int(time.time()) if timestamp is None else timestamp
    return {timestamp_header: str(at), signature_header: signature(secret, at, body)}


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    timestamp_header: str = TIMESTAMP_HEADER,
    signature_header: str = SIGNATURE_HEADER,
    now: float | None = None,
) -> int:
    """The signing time if one of `secrets` signed `body` within the tolerance, else
    `SignatureRejected` saying what is wrong (never which secret, nor the expected value).

    `headers` must have lower-case names (as ASGI servers give them).
    """
    if not secrets:
        raise SignatureRejected("no signing secret is configured: no request can be trusted")
    stamp = headers.get(timestamp_header.lower())
    offered = headers.get(signature_header.lower())
    if not stamp or not offered:
        raise SignatureRejected(
            f"the {timestamp_header} and {signature_header} headers are missing"
        )
    signed_at = recent_timestamp(stamp, timestamp_header, tolerance_seconds, now)
    # Bytes, not str: compare_digest refuses non-ASCII str, which anyone can send.
    candidates = [part.strip().encode("utf-8", "replace") for part in offered.split(",")]
    expected = [signature(secret, signed_at, body).encode() for secret in secrets]
    if not any_matches(expected, candidates):
        raise SignatureRejected(f"{signature_header} does not match the body")
    return signed_at


def recent_timestamp(stamp: str, header: str, tolerance_seconds: float, now: float | None) -> int:
    """The Unix seconds of a timestamp header, if within the tolerance of `now` (default: the
    real time); else `SignatureRejected` naming the header."""
    # Unix seconds: a handful of digits (a long number would overflow the comparison).
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise SignatureRejected(f"{header} is not a number of seconds")
    signed_at = int(stamp)
    current = time.time() if now is None else now
    if abs(current - signed_at) > tolerance_seconds:
        raise SignatureRejected(
            f"{header} is stale or in the future (more than {tolerance_seconds:.0f} s off: a "
            "replayed request, or a clock gone wrong)"
        )
    return signed_at


def any_matches(expected: Sequence[bytes], candidates: Sequence[bytes]) -> bool:
    """Whether a candidate signature is one expected; every pair is compared, so the time
    taken does not tell which one matched."""
    matched = False
    for wanted in expected:
        for candidate in candidates:
            matched |= hmac.compare_digest(wanted, candidate)
    return matched
