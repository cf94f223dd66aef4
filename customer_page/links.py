"""The customer's links: where they point, and for how long they open the page."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from customer_page.tokens import PageTokens, Purpose
from plumbing.settings import Settings

PREFIX = "/my"
"""Every customer page is under this path of the gateway."""


class PageLinks:
    """The links customer emails and the order service hand out, under `customer_page_url`."""

    def __init__(self, settings: Settings, tokens: PageTokens | None = None) -> None:
        self._settings = settings
        self._given_tokens = tokens

    @cached_property
    def tokens(self) -> PageTokens:
        return self._given_tokens or PageTokens.from_settings(self._settings)

    @property
    def base(self) -> str:
        return self._settings.customer_page_url.rstrip("/") + PREFIX

    def return_page(self, return_id: str, now: dt.datetime | None = None) -> str:
        """A link to the return's page, opening it for `customer_page_link_days`."""
        return self._settings.customer_page_url.rstrip("/") + self.return_path(return_id, now)

    def return_path(self, return_id: str, now: dt.datetime | None = None) -> str:
        """The path of such a link, for a page on this site to link to."""
        issued = now or dt.datetime.now(dt.UTC)
        expires = issued + dt.timedelta(days=self._settings.customer_page_link_days)
        return f"{PREFIX}/returns/{self.tokens.seal(Purpose.RETURN, return_id, expires)}"

    def withdrawal(self, withdrawal_id: str, expires_at: dt.datetime) -> str:
        """A link to an order's withdrawal function, opening it until `expires_at` (its
        workflow's `open_until`)."""
        token = self.tokens.seal(Purpose.WITHDRAWAL, withdrawal_id, expires_at)
        return f"{self.base}/withdraw/{token}"
