"""Standard Webhooks signatures: what a subscriber's library accepts, and what it refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from plumbing.standard_webhooks import (
    BadSecret,
    SignatureRejected,
    key,
    make_secret,
    signed_headers,
    verify,
)

OLD = make_secret(b"o" * 32)
NEW = make_secret(b"n" * 32)
BODY = b'{"type":"return.started","timestamp":"2026-12-06T10:00:00Z","data":{}}'
AT = 1_796_560_000


def test_the_signature_is_the_specifications_hmac_of_id_timestamp_and_body() -> None:
    headers = signed_headers([OLD], "return-1:1", BODY, timestamp=AT)

    mac = hmac.new(b"o" * 32, b"return-1:1." + str(AT).encode() + b"." + BODY, hashlib.sha256)
    assert headers == {
        "webhook-id": "return-1:1",
        "webhook-timestamp": str(AT),
        "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode(),
    }


def test_while_a_secret_is_rotated_both_sign_and_either_verifies() -> None:
    headers = signed_headers([OLD, NEW], "return-1:2", BODY, timestamp=AT)

    assert len(headers["webhook-signature"].split()) == 2
    assert verify(headers, BODY, [NEW], now=AT) == "return-1:2"
    assert verify(headers, BODY, [OLD], now=AT + 60) == "return-1:2"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"webhook-signature": None}, "headers are required"),
        ({"webhook-timestamp": "soon"}, "not a number of seconds"),
        ({"webhook-timestamp": str(AT - 301)}, "more than 300 s off"),
        ({"webhook-id": "return-1:9"}, "does not match the body"),
    ],
)
def test_a_delivery_not_signed_as_it_claims_is_refused_saying_why(
    change: dict[str, str | None], why: str
) -> None:
    headers: dict[str, str] = signed_headers([OLD], "return-1:1", BODY, timestamp=AT)
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value

    with pytest.raises(SignatureRejected, match=why):
        verify(headers, BODY, [OLD], now=AT)


def test_a_changed_body_or_another_secret_does_not_verify() -> None:
    headers = signed_headers([OLD], "return-1:1", BODY, timestamp=AT)

    with pytest.raises(SignatureRejected):
        verify(headers, BODY.replace(b"started", b"expired"), [OLD], now=AT)
    with pytest.raises(SignatureRejected):
        verify(headers, BODY, [NEW], now=AT)


@pytest.mark.parametrize(
    "secret", ["n" * 40, "whsec_not base64!", make_secret(b"short"), make_secret(b"x" * 65)]
)
def test_a_secret_that_is_not_whsec_and_24_to_64_bytes_is_refused(secret: str) -> None:
    with pytest.raises(BadSecret):
        key(secret)
