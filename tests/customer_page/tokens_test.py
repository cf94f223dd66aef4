"""The customer's link tokens: opaque, bound to one purpose, expiring, and keys that rotate."""

from __future__ import annotations

import base64
import datetime as dt
from typing import cast

import pytest
from pydantic import SecretStr
from temporalio.client import Client

from activities.carriers.registry import CarrierRegistry
from customer_page.routes import RENEW_EVERY_SECONDS, Pages
from customer_page.tokens import MAX_TOKEN_LENGTH, PageTokens, Purpose, TokenExpired, TokenRefused
from plumbing.encryption import Keyring
from plumbing.settings import Settings
from tests.keys import NEXT_KEY, NEXT_KEY_ID, PAGE_KEYS

NOW = dt.datetime(2026, 12, 6, 10, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=30)
RETURN = "return-ORD-2026-10231-1"


def tokens(text: str = PAGE_KEYS) -> PageTokens:
    return PageTokens(Keyring.parse(text, source="test"))


def test_a_token_opens_what_it_was_sealed_for_and_shows_nothing_of_it() -> None:
    token = tokens().seal(Purpose.RETURN, RETURN, LATER)

    claims = tokens().open(token, Purpose.RETURN, now=NOW)

    assert (claims.subject, claims.expires_at) == (RETURN, LATER)
    assert "ORD" not in token and "10231" not in token
    assert token.startswith("page-2026-a.")
    assert len(token) < MAX_TOKEN_LENGTH


def test_two_tokens_for_the_same_return_differ() -> None:
    sealer = tokens()

    assert sealer.seal(Purpose.RETURN, RETURN, LATER) != sealer.seal(Purpose.RETURN, RETURN, LATER)


def test_a_token_for_one_purpose_opens_nothing_else() -> None:
    token = tokens().seal(Purpose.WITHDRAWAL, RETURN, LATER)

    with pytest.raises(TokenRefused):
        tokens().open(token, Purpose.RETURN, now=NOW)


def test_an_expired_token_says_which_return_it_was_for() -> None:
    token = tokens().seal(Purpose.RETURN, RETURN, NOW)

    with pytest.raises(TokenExpired) as expired:
        tokens().open(token, Purpose.RETURN, now=NOW)

    assert expired.value.claims.subject == RETURN


def test_keys_rotate_the_new_key_seals_and_the_old_one_still_opens() -> None:
    old_key = PAGE_KEYS
    rotated = tokens(f"{NEXT_KEY_ID}={NEXT_KEY},{old_key}")
    before = tokens(old_key).seal(Purpose.RETURN, RETURN, LATER)

    after = rotated.seal(Purpose.RETURN, RETURN, LATER)

    assert after.startswith(f"{NEXT_KEY_ID}.")
    assert rotated.open(before, Purpose.RETURN, now=NOW).subject == RETURN
    with pytest.raises(TokenRefused):
        tokens(f"{NEXT_KEY_ID}={NEXT_KEY}").open(before, Purpose.RETURN, now=NOW)


def test_a_key_id_with_dots_seals_tokens_that_open() -> None:
    # `starter.py keys new --id page.2027` hands out such an ID.
    dotted = tokens(f"page.2027.a={NEXT_KEY}")

    token = dotted.seal(Purpose.RETURN, RETURN, LATER)

    assert token.startswith("page.2027.a.")
    assert dotted.open(token, Purpose.RETURN, now=NOW).subject == RETURN


@pytest.mark.parametrize(
    "garbage",
    ["", ".", "page-2026-a.", "page-2026-a.!!!", "page-2026-a.AAAA", "x" * (MAX_TOKEN_LENGTH + 1),
     "page-2026-a.é", "no-dot-at-all"],
)  # fmt: skip
def test_anything_else_is_refused_without_an_error(garbage: str) -> None:
    with pytest.raises(TokenRefused):
        tokens().open(garbage, Purpose.RETURN, now=NOW)


def _alterations(token: str) -> list[str]:
    """Ways to change a token that base64 decoders forgive: characters outside the alphabet
    (skipped), or the last character's spare bits (ignored)."""
    key_id, _, body = token.partition(".")
    last = body[-1]
    spelled_otherwise = next(
        c
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        if c != last
        and base64.urlsafe_b64decode(body[:-1] + c + "=" * (-len(body) % 4))
        == base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    )
    return [
        f"{key_id}.!!!!{body}",
        f"{key_id}.{body[:8]}~~~~{body[8:]}",
        f"{key_id}.{body}....",
        f"{key_id}.{body[:-1]}{spelled_otherwise}",
    ]


def test_a_token_altered_where_base64_would_forgive_it_is_refused() -> None:
    token = tokens().seal(Purpose.RETURN, RETURN, LATER)
    assert len(token.partition(".")[2]) % 4 != 0  # its last character has spare bits

    for altered in _alterations(token):
        with pytest.raises(TokenRefused):
            tokens().open(altered, Purpose.RETURN, now=NOW)


def test_the_pages_forget_renewals_once_their_wait_is_over() -> None:
    """However long the gateway runs, it keeps only the renewals of the last ten minutes."""
    settings = Settings(_env_file=None, customer_page_keys=SecretStr(PAGE_KEYS))
    pages = Pages(cast(Client, None), settings, cast(CarrierRegistry, None))

    for n in range(1000):
        pages.note_renewed(f"return-ORD-{n}-1", at=float(n))
    pages.note_renewed("return-ORD-LAST-1", at=1000.0 + RENEW_EVERY_SECONDS)

    assert set(pages.renewed) == {"return-ORD-LAST-1"}
