"""What no real deployment runs with: the embedded carrier sandbox's carriers, and secrets
everyone knows (the sandbox's defaults, the dev stack's own credentials, written in its code).

The worker and the gateway refuse at start to use either, and the codec server a public token,
naming the setting, unless
`RETURNFLOW_ALLOW_SANDBOX_CARRIERS=true` (the dev stack and the tests set it).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import SecretStr

from plumbing.settings import Settings

ALLOW_SETTING = "RETURNFLOW_ALLOW_SANDBOX_CARRIERS"

REAL_CARRIERS = frozenset({"colissimo", "easypost"})
"""Every other code is a carrier of the embedded sandbox (`activities.carriers.registry`)."""

PUBLIC_SECRETS = frozenset(
    {
        # The carrier sandbox's defaults (plumbing.settings, carrier_sandbox/).
        "sandbox-key",
        "sandbox-webhook-secret",
        # The dev stack's credentials (devstack/config.py).
        "devstack-order-events-secret",
        "devstack-seller-portal-token",
        "devstack-customer-app-token",
        "devstack-operations-token",
        "devstack-codec-token",
        "devstack-marketplace-token",
        "whsec_ZGV2c3RhY2stZXZlbnQtZmVlZC1zZWNyZXQtMjAyNg==",  # the dev stack's event feed
    }
)
"""Secrets published with the code: anyone can sign or authenticate with them."""


class PublicDefaultsRefused(ValueError):
    """The configuration uses a test double or a public secret; the message names each setting."""


def refuse_public_defaults(settings: Settings) -> None:
    """Raise `PublicDefaultsRefused` naming every setting that uses the sandbox's carriers or a
    public secret, unless they are allowed (a dev stack, the tests, a trial)."""
    if settings.allow_sandbox_carriers:
        return
    problems = []
    sandbox = [code for code in settings.carrier_codes if code not in REAL_CARRIERS]
    if sandbox:
        problems.append(
            f"RETURNFLOW_CARRIERS: {', '.join(sandbox)} "
            f"{'is a carrier' if len(sandbox) == 1 else 'are carriers'} of the embedded carrier "
            "sandbox, a stand-in that makes no real parcel (real carriers: colissimo, easypost)"
        )
    secrets: dict[str, SecretStr | None] = {
        "RETURNFLOW_GATEWAY_EVENT_SECRETS": settings.gateway_event_secrets,
        "RETURNFLOW_GATEWAY_SELLER_TOKENS": settings.gateway_seller_tokens,
        "RETURNFLOW_GATEWAY_CUSTOMER_TOKENS": settings.gateway_customer_tokens,
        "RETURNFLOW_GATEWAY_OPERATIONS_TOKENS": settings.gateway_operations_tokens,
        "RETURNFLOW_CODEC_TOKENS": settings.codec_tokens,
        "RETURNFLOW_MARKETPLACE_TOKEN": settings.marketplace_token,
        "RETURNFLOW_EVENT_SUBSCRIBER_SECRETS": settings.event_subscriber_secrets,
    }
    if sandbox:
        secrets["RETURNFLOW_CARRIER_SANDBOX_API_KEY"] = settings.carrier_sandbox_api_key
        secrets["RETURNFLOW_CARRIER_SANDBOX_WEBHOOK_SECRET"] = (
            settings.carrier_sandbox_webhook_secret
        )
    problems += _public_secrets(secrets)
    for name, url in (
        ("RETURNFLOW_ORDER_SERVICE_URL", settings.order_service_url),
        ("RETURNFLOW_SELLER_SERVICE_URL", settings.seller_service_url),
    ):
        if url is not None and not _public_https(url):
            problems.append(
                f"{name}: {url} is not a public https:// address, and the marketplace token "
                "travels with every call"
            )
    for name, subscriber in settings.subscribers().items():
        if not _public_https(subscriber.url):
            problems.append(
                f"RETURNFLOW_EVENT_SUBSCRIBERS: {name}'s {subscriber.url} is not a public "
                "https:// address, and every return's events travel there"
            )
    if not _public_https(settings.customer_page_url):
        problems.append(
            f"RETURNFLOW_CUSTOMER_PAGE_URL: {settings.customer_page_url} is not a public https:// "
            "address, and every customer email links there"
        )
    _refuse(problems)


def refuse_public_codec_tokens(settings: Settings) -> None:
    """The codec server's share of `refuse_public_defaults`: it decrypts every payload for
    whoever holds one of its tokens, so none may be published with the code."""
    if not settings.allow_sandbox_carriers:
        _refuse(_public_secrets({"RETURNFLOW_CODEC_TOKENS": settings.codec_tokens}))


def _public_secrets(secrets: dict[str, SecretStr | None]) -> list[str]:
    return [
        f"{name}: holds a public default secret, known to everyone"
        for name, value in secrets.items()
        if value is not None and _holds_public_secret(value)
    ]


def _refuse(problems: list[str]) -> None:
    if problems:
        raise PublicDefaultsRefused(
            "; ".join(problems)
            + f". Configure real ones, or set {ALLOW_SETTING}=true on a dev stack or a trial."
        )


def _holds_public_secret(value: SecretStr) -> bool:
    """A secret setting holds a public one: comma-separated values, each `SECRET` or
    `NAME=SECRET`."""
    for part in value.get_secret_value().split(","):
        # `NAME=SECRET`, where the secret may hold `=` itself (base64): the name is up to the
        # first one.
        candidates = {part.strip(), part.partition("=")[2].strip()}
        if candidates & PUBLIC_SECRETS:
            return True
    return False


def _public_https(url: str) -> bool:
    """An https:// address of a host other than this machine."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https" or not host or host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True
