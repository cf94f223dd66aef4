"""What keeps the customer's pages safe: security headers, and CSRF protection on every form.

CSRF: the page sets a random cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS) and
every form carries `csrf`, an HMAC of that cookie and the page's link token under a key derived
from the page keys. A form posted from elsewhere has neither the cookie (SameSite) nor the
field; a browser that says the request is cross-site (`Sec-Fetch-Site`, `Origin`) is refused
before the field is checked.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import TypeVar
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

logger = logging.getLogger(__name__)

CSRF_COOKIE = "rf_csrf"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The link token is in the URL: no other site may learn it from a Referer.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


R = TypeVar("R", bound=Response)


def secure_headers(response: R, *, https: bool) -> R:
    response.headers.update(HEADERS)
    if https:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


class Csrf:
    """The CSRF cookie and form field of the customer's pages."""

    def __init__(
        self, keys: list[bytes], *, https: bool, path: str, public_origin: str | None = None
    ) -> None:
        self._keys = keys
        self._https = https
        self._path = path
        self._public_host = urlsplit(public_origin).netloc if public_origin else None

    def cookie_of(self, request: Request) -> str | None:
        value = request.cookies.get(CSRF_COOKIE)
        return value if value and len(value) <= 64 and value.isascii() else None

    def ensure_cookie(self, request: Request, response: Response) -> str:
        """The request's CSRF cookie, or a new one set on `response`."""
        value = self.cookie_of(request)
        if value is None:
            value = secrets.token_urlsafe(32)
            response.set_cookie(
                CSRF_COOKIE,
                value,
                httponly=True,
                samesite="strict",
                secure=self._https,
                path=self._path,
            )
        return value

    def field(self, cookie: str, token: str) -> str:
        return _mac(self._keys[0], cookie, token).decode()

    def genuine(self, request: Request, presented: str | None, token: str) -> bool:
        """The form came from our page, in this browser, for this link."""
        if not same_site(request, self._public_host):
            logger.info("form refused: sent from another site")
            return False
        cookie = self.cookie_of(request)
        if cookie is None:
            logger.info("form refused: no CSRF cookie")
            return False
        good = False
        for key in self._keys:
            good |= hmac.compare_digest(_mac(key, cookie, token), (presented or "").encode())
        if not good:
            logger.info("form refused: its CSRF field does not match")
        return good


def same_site(request: Request, public_host: str | None = None) -> bool:
    """Whether the browser's own words allow the request: not from another site. Browsers say
    where a request comes from in `Sec-Fetch-Site`; an older one in `Origin` (`null` when a
    referrer policy hides it), which names the pages' public host
    (`RETURNFLOW_CUSTOMER_PAGE_URL`), or the `Host` asked for where no proxy rewrites it."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    try:
        host = urlsplit(origin).netloc
    except ValueError:  # `http://[`: no origin a browser sends, so no site of ours
        return False
    return host == request.headers.get("host", "") or (
        public_host is not None and host == public_host
    )


def _mac(key: bytes, cookie: str, token: str) -> bytes:
    return hmac.new(key, f"{cookie}\n{token}".encode(), hashlib.sha256).hexdigest().encode()


TOO_MANY_REQUESTS = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Too many requests</title></head>
<body>
<main>
<h1>Too many requests</h1>
<p>Too many requests came from your connection. Please try again in a minute.</p>
<p lang="fr">Trop de demandes sont venues de votre connexion. Réessayez dans une minute.</p>
</main>
</body>
</html>
"""


def too_many_requests_page(headers: dict[str, str], *, https: bool) -> HTMLResponse:
    """The rate limit's answer to a customer's page, in both languages (their locale is not
    known before the request is read), with the pages' headers (`https`: served over it)."""
    return secure_headers(
        HTMLResponse(TOO_MANY_REQUESTS, status_code=429, headers=headers), https=https
    )
