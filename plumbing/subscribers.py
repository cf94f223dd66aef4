"""The event feed's subscribers, as the settings configure them (docs/event-feed.md).

- `RETURNFLOW_EVENT_SUBSCRIBERS`: comma-separated `NAME=URL`, where each return's events go;
- `RETURNFLOW_EVENT_SUBSCRIBER_SECRETS`: comma-separated `NAME=whsec_...`, each subscriber's
  signing secret (a name given twice: both sign, while the subscriber rotates);
- `RETURNFLOW_EVENT_SUBSCRIBERS_PERSONAL`: comma-separated names of the subscribers that receive
  the events' personal fields (the customer's contact, the pickup address); others never do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from plumbing.standard_webhooks import BadSecret, key

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


@dataclass(frozen=True)
class Subscriber:
    name: str
    url: str
    secrets: tuple[str, ...]
    personal_data: bool


def _pairs(setting: str, text: str | None) -> list[tuple[str, str]]:
    pairs = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.strip().partition("=")
        if not sep or not NAME.match(name.strip()) or not value.strip():
            raise ValueError(f"{setting}: each entry is NAME=VALUE (a name of letters and digits)")
        pairs.append((name.strip(), value.strip()))
    return pairs


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host, and a port if any that is a number in range."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (read to check it: a port that is not one raises)
    except ValueError:  # `http://[`, `https://host:abc`
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def parse_subscribers(
    subscribers: str | None, secrets: str | None, personal: str | None
) -> dict[str, Subscriber]:
    """The subscribers, or a `ValueError` naming the setting at fault."""
    urls: dict[str, str] = {}
    for name, url in _pairs("RETURNFLOW_EVENT_SUBSCRIBERS", subscribers):
        if not is_http_url(url):
            raise ValueError(
                f"RETURNFLOW_EVENT_SUBSCRIBERS: {name}'s URL is not http(s)://host[:port]"
            )
        if name in urls:
            raise ValueError(f"RETURNFLOW_EVENT_SUBSCRIBERS: {name} is named twice")
        urls[name] = url
    keys: dict[str, list[str]] = {}
    for name, secret in _pairs("RETURNFLOW_EVENT_SUBSCRIBER_SECRETS", secrets):
        if name not in urls:
            raise ValueError(f"RETURNFLOW_EVENT_SUBSCRIBER_SECRETS: {name} is not a subscriber")
        try:
            key(secret)
        except BadSecret as err:
            raise ValueError(f"RETURNFLOW_EVENT_SUBSCRIBER_SECRETS: {name}: {err}") from None
        keys.setdefault(name, []).append(secret)
    missing = sorted(set(urls) - set(keys))
    if missing:
        raise ValueError(
            f"RETURNFLOW_EVENT_SUBSCRIBER_SECRETS: no secret for {', '.join(missing)}: every "
            "delivery is signed"
        )
    named = {n.strip() for n in (personal or "").split(",") if n.strip()}
    unknown = sorted(named - set(urls))
    if unknown:
        raise ValueError(
            f"RETURNFLOW_EVENT_SUBSCRIBERS_PERSONAL: {', '.join(unknown)} is not a subscriber"
        )
    return {
        name: Subscriber(name, url, tuple(keys[name]), name in named) for name, url in urls.items()
    }
