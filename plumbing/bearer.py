"""Static bearer tokens from configuration (`NAME=TOKEN,…`), checked in constant time.

Shared by the gateway's role tokens and the codec server's tokens. Every configured token is
compared each time, so the answer's timing tells nothing about which token came close.
"""

from __future__ import annotations

import hmac
from typing import TypeVar

from pydantic import SecretStr

T = TypeVar("T")

MIN_TOKEN_LENGTH = 16


class TokenConfigError(ValueError):
    """A token setting is not a list of NAME=TOKEN pairs; the message names the setting."""


def parse_tokens(variable: str, value: SecretStr | None) -> list[tuple[str, bytes]]:
    """The (name, token) pairs of a `NAME=TOKEN,…` setting called `variable`."""
    if value is None:
        return []
    tokens = []
    for pair in value.get_secret_value().split(","):
        if not pair.strip():
            continue
        name, sep, secret = pair.strip().partition("=")
        if not sep or not name.strip() or len(secret.strip()) < MIN_TOKEN_LENGTH:
            raise TokenConfigError(
                f"{variable}: each entry is NAME=TOKEN, the token at least "
                f"{MIN_TOKEN_LENGTH} characters"
            )
        tokens.append((name.strip(), secret.strip().encode()))
    return tokens


def presented_token(authorization: str | None) -> bytes | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, offered = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not offered.strip():
        return None
    return offered.strip().encode("utf-8", "replace")


def matching(tokens: list[tuple[T, bytes]], presented: bytes) -> T | None:
    """Whose token `presented` is, comparing it with every token in constant time."""
    found = None
    for owner, secret in tokens:
        if hmac.compare_digest(secret, presented):
            found = owner
    return found
