"""The event feed's subscribers, from the settings: a mistake names the setting at fault."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from plumbing.settings import Settings
from plumbing.standard_webhooks import make_secret

SECRET = make_secret(b"s" * 32)
ROTATED = make_secret(b"r" * 32)


def test_subscribers_their_secrets_and_who_receives_personal_data() -> None:
    settings = Settings(
        event_subscribers="marketplace=https://hooks.example.com/returns, bi=https://bi.example.com/in",
        event_subscriber_secrets=f"marketplace={SECRET},bi={SECRET},marketplace={ROTATED}",
        event_subscribers_personal="marketplace",
    )

    got = settings.subscribers()

    assert got["marketplace"].url == "https://hooks.example.com/returns"
    assert got["marketplace"].secrets == (SECRET, ROTATED)
    assert got["marketplace"].personal_data and not got["bi"].personal_data


def test_no_subscriber_no_feed() -> None:
    assert Settings().subscribers() == {}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"event_subscribers": "marketplace"}, "RETURNFLOW_EVENT_SUBSCRIBERS: each entry is NAME"),
        ({"event_subscribers": "m=ftp://x"}, "RETURNFLOW_EVENT_SUBSCRIBERS: m's URL is not http"),
        (
            {"event_subscribers": "m=https://hooks.example:abc/in"},
            "RETURNFLOW_EVENT_SUBSCRIBERS: m's URL is not http",
        ),
        ({"event_subscribers": "m=http://[/in"}, "RETURNFLOW_EVENT_SUBSCRIBERS: m's URL is not"),
        (
            {"customer_page_url": "https://returns.example:99999"},
            "customer_page_url\n.*not an absolute http:// or https:// URL",
        ),
        ({"event_subscribers": "m=https://x"}, "RETURNFLOW_EVENT_SUBSCRIBER_SECRETS: no secret"),
        (
            {"event_subscribers": "m=https://x", "event_subscriber_secrets": "m=whsec_xyz"},
            "RETURNFLOW_EVENT_SUBSCRIBER_SECRETS: m: a webhook secret",
        ),
        (
            {"event_subscribers": "m=https://x", "event_subscriber_secrets": f"n={SECRET}"},
            "RETURNFLOW_EVENT_SUBSCRIBER_SECRETS: n is not a subscriber",
        ),
        (
            {
                "event_subscribers": "m=https://x",
                "event_subscriber_secrets": f"m={SECRET}",
                "event_subscribers_personal": "crm",
            },
            "RETURNFLOW_EVENT_SUBSCRIBERS_PERSONAL: crm is not a subscriber",
        ),
    ],
)
def test_a_mistake_in_the_subscribers_names_its_setting(
    options: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**options)  # type: ignore[arg-type]


def test_a_secret_never_shows_in_the_settings_repr() -> None:
    settings = Settings(event_subscribers="m=https://x", event_subscriber_secrets=f"m={SECRET}")

    assert SECRET not in repr(settings)
