"""A customer at their browser, without JavaScript: opens the pages the emails and the
marketplace link to, and sends their forms as a browser would (cookies kept, hidden fields
sent back). The demo's customers act through it."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)
    """Each <select>'s values, in the order the page offers them."""


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", "")))
        elif not self.forms:
            return
        elif tag == "input" and values.get("type") in ("hidden", "checkbox"):
            if values.get("type") == "hidden" or "checked" in values:
                self.forms[-1].fields.setdefault(values.get("name", ""), values.get("value", ""))
        elif tag == "select":
            self._select = values.get("name", "")
            self.forms[-1].options[self._select] = []
        elif tag == "option" and self._select is not None:
            self.forms[-1].options[self._select].append(values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


class Browser:
    """One customer's browser: its own cookies."""

    def __init__(self, timeout: float = 60.0) -> None:
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=True)
        self.page = ""
        self.url = ""

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._http.aclose()

    async def open(self, url: str) -> str:
        answer = await self._http.get(url)
        answer.raise_for_status()
        self.url, self.page = str(answer.url), answer.text
        return self.page

    def forms(self) -> list[Form]:
        parser = _Forms()
        parser.feed(self.page)
        return parser.forms

    def form(self, action_ends: str, **having: str) -> Form:
        """The page's form posting to `.../<action_ends>` whose fields include `having`."""
        for form in self.forms():
            if form.action.endswith(action_ends) and all(
                form.fields.get(k) == v for k, v in having.items()
            ):
                return form
        raise LookupError(f"no {action_ends} form with {having} on {self.url}")

    async def submit(self, form: Form, **fields: str) -> str:
        """Send the form (its fields, and those given), as its button does."""
        answer = await self._http.post(
            urljoin(self.url, form.action),
            data={**form.fields, **fields},
            headers={"Origin": _origin(self.url)},
        )
        if answer.status_code >= 400:
            raise RuntimeError(f"the page refused the form: {answer.status_code}")
        self.url, self.page = str(answer.url), answer.text
        return self.page


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
