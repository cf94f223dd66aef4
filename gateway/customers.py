"""Which customer a customer app acts for: a signed assertion, checked against the return's
customer (`RETURNFLOW_GATEWAY_CUSTOMER_BINDING=required`).

The customer app authenticates its customers itself; its bearer token says "the customer app".
With the binding required, each of its requests about a return also carries

    X-Returnflow-Customer: customer=<customer_id>,expires=<unix seconds>,v1=<hex>

where `v1` is HMAC-SHA256(secret, "<return_id>\\n<customer_id>\\n<expires>"), lower-case hex,
under one of `RETURNFLOW_GATEWAY_CUSTOMER_ASSERTION_SECRETS`. An assertion is good for one return
and one customer until it expires (at most `MAX_LIFETIME_SECONDS` ahead): a leaked one opens
nothing else, and not for long.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from gateway.http import split_secrets
from plumbing.settings import Settings

HEADER = "X-Returnflow-Customer"
MAX_LIFETIME_SECONDS = 15 * 60
"""How far ahead of now an assertion may expire: the app signs one per request or per page."""


class AssertionRefused(Exception):
    """The header is missing, malformed, expired, or not signed with a secret of ours."""


def binding_required(settings: Settings) -> bool:
    return settings.gateway_customer_binding == "required"


def assertion_secrets(settings: Settings) -> list[bytes]:
    return [s.encode() for s in split_secrets(settings.gateway_customer_assertion_secrets)]


def _mac(secret: bytes, return_id: str, customer_id: str, expires: int) -> str:
    # A newline is in no identifier, so no two (return, customer, expiry) sign the same bytes.
    message = f"{return_id}\n{customer_id}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def customer_assertion(
    secret: str, return_id: str, customer_id: str, *, lifetime_seconds: int = 300
) -> dict[str, str]:
    """The header a customer app sends for `customer_id` about `return_id`."""
    expires = int(time.time()) + lifetime_seconds
    mac = _mac(secret.encode(), return_id, customer_id, expires)
    return {HEADER: f"customer={customer_id},expires={expires},v1={mac}"}


def asserted_customer(
    header: str | None, return_id: str, secrets: list[bytes], *, now: float | None = None
) -> str:
    """The customer the header asserts for `return_id`, or `AssertionRefused` saying why (in
    words that quote nothing of the header)."""
    if not header:
        raise AssertionRefused(f"the {HEADER} header is missing")
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or name in fields:
            raise AssertionRefused(f"the {HEADER} header is malformed")
        fields[name] = value
    if set(fields) != {"customer", "expires", "v1"}:
        raise AssertionRefused(f"the {HEADER} header needs customer, expires and v1")
    customer, expires_text, presented = fields["customer"], fields["expires"], fields["v1"]
    if not expires_text.isascii() or not expires_text.isdigit() or len(expires_text) > 12:
        raise AssertionRefused(f"the {HEADER} header's expires is not Unix seconds")
    expires = int(expires_text)
    moment = time.time() if now is None else now
    if expires <= moment:
        raise AssertionRefused(f"the {HEADER} assertion has expired")
    if expires > moment + MAX_LIFETIME_SECONDS:
        raise AssertionRefused(
            f"the {HEADER} assertion expires more than {MAX_LIFETIME_SECONDS} s ahead"
        )
    if not presented.isascii():
        raise AssertionRefused(f"the {HEADER} signature does not match")
    good = False
    for secret in secrets:
        good |= hmac.compare_digest(_mac(secret, return_id, customer, expires), presented)
    if not good:
        raise AssertionRefused(f"the {HEADER} signature does not match")
    return customer
