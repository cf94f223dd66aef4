"""The opaque tokens in the customer's links: sealed, not merely signed.

A token is `<key id>.<base64url(nonce || AES-256-GCM(claims))>`. The claims (what the link is
for, the return or withdrawal it names, when it stops opening the page) are encrypted and
authenticated with a key derived (HKDF-SHA256) from one of `RETURNFLOW_CUSTOMER_PAGE_KEYS`, or,
when that is unset, from the payload encryption keys: a link shows nothing of the order or the
customer, and cannot be altered or pointed at another return. Keys rotate as payload keys do:
the first (or named) key seals, every listed key opens.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from plumbing.encryption import Keyring
from plumbing.settings import Settings

_INFO = b"returnflow customer page links v1"
_NONCE_BYTES = 12
MAX_TOKEN_LENGTH = 600
"""Longer than any token this module seals: a longer one is refused before any work."""


class Purpose(StrEnum):
    """What a link opens: a token sealed for one purpose never opens another."""

    RETURN = "return"
    """The return page of one return (`subject` is the return ID)."""
    WITHDRAWAL = "withdrawal"
    """The withdrawal function of one order (`subject` is the withdrawal's workflow ID)."""


class TokenRefused(Exception):
    """Not a token of ours: tampered with, cut short, sealed with an unknown key, or for
    another purpose."""


class TokenExpired(Exception):
    """A genuine token past its expiry: `claims` says which return it was for."""

    def __init__(self, claims: Claims) -> None:
        super().__init__("the link has expired")
        self.claims = claims


@dataclass(frozen=True)
class Claims:
    purpose: Purpose
    subject: str
    expires_at: dt.datetime


class PageTokens:
    """Seals and opens the customer's link tokens with a keyring."""

    def __init__(self, keyring: Keyring) -> None:
        self._current = keyring.current
        self._keys = {key_id: _derive(secret) for key_id, secret in keyring.keys.items()}

    @classmethod
    def from_settings(cls, settings: Settings) -> PageTokens:
        """The configured page keys, or else keys derived from the payload keys (a
        `PayloadKeyError` naming the setting when neither is configured)."""
        if settings.customer_page_keys is not None:
            return cls(
                Keyring.parse(
                    settings.customer_page_keys.get_secret_value(),
                    source="RETURNFLOW_CUSTOMER_PAGE_KEYS",
                )
            )
        return cls(settings.payload_keyring())

    def csrf_keys(self) -> list[bytes]:
        """Keys for the pages' CSRF fields, derived apart from the sealing keys (current first)."""
        ordered = [self._current, *(k for k in self._keys if k != self._current)]
        return [_derive(self._keys[k], b"returnflow customer page forms v1") for k in ordered]

    def seal(self, purpose: Purpose, subject: str, expires_at: dt.datetime) -> str:
        claims = json.dumps(
            {"s": subject, "e": int(expires_at.timestamp())}, separators=(",", ":")
        ).encode()
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self._keys[self._current]).encrypt(nonce, claims, _aad(purpose))
        return f"{self._current}.{_b64(nonce + sealed)}"

    def open(self, token: str, purpose: Purpose, *, now: dt.datetime | None = None) -> Claims:
        """The claims of a genuine, unexpired token for `purpose`; else `TokenRefused`, or
        `TokenExpired` for a genuine one past its time."""
        if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise TokenRefused("not a link token")
        # The body is base64url, which has no ".": a key ID may have some (`page.2027`).
        key_id, sep, body = token.rpartition(".")
        key = self._keys.get(key_id)
        if not sep or key is None:
            raise TokenRefused("not a link token")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise TokenRefused("not a link token") from None
        if _b64(raw) != body:
            # Another spelling of the same bytes (characters the decoder skips, the last
            # character's spare bits): a link that was altered, even where it opens the same
            # return.
            raise TokenRefused("not a link token")
        if len(raw) <= _NONCE_BYTES:
            raise TokenRefused("not a link token")
        try:
            plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(purpose))
            fields = json.loads(plain)
            claims = Claims(
                purpose,
                str(fields["s"]),
                dt.datetime.fromtimestamp(int(fields["e"]), dt.UTC),
            )
        except (InvalidTag, ValueError, KeyError, TypeError):
            raise TokenRefused("not a link token") from None
        if claims.expires_at <= (now or dt.datetime.now(dt.UTC)):
            raise TokenExpired(claims)
        return claims


def _derive(secret: bytes, info: bytes = _INFO) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def _aad(purpose: Purpose) -> bytes:
    return f"returnflow:{purpose.value}".encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
