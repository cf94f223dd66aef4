"""One HTTP client for the marketplace's services (schemas/marketplace-openapi.json): the order
service, the seller directory and the seller chat.

Every call shows the bearer token and checks TLS against the configured CA bundle; its answer
is classified as the carriers' are:

- 408, 425, 429, 5xx, a 2xx the caller did not expect or cannot read, a timeout (each step
  within the timeout, the whole answer within twice it) or no connection: *unavailable*,
  retried (after `Retry-After` when the service gives one, at most 10 minutes);
- a 3xx (a wrong URL) or any other 4xx (bad data, bad credentials): *rejected*, not retried.

What a service says goes into the failure's message only as its status, its error code and at
most 100 characters of its JSON error message: never its raw body (it might echo what was sent).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import httpx
from temporalio.exceptions import ApplicationError

from activities.carriers.http_errors import answer_deadline, retry_after

RETRIED_STATUSES = frozenset({408, 425, 429})
"""4xx that mean "not now" (besides every 5xx): retried."""
Unavailable = Callable[[str, dt.timedelta | None], ApplicationError]
Rejected = Callable[[str], ApplicationError]


class MarketplaceHttp:
    """Calls one marketplace service; `service` and `setting` name it in failures. Without a
    token, no Authorization header (an event feed's subscriber checks signatures instead)."""

    def __init__(
        self,
        service: str,
        setting: str,
        base_url: str,
        token: str | None,
        *,
        unavailable: Unavailable,
        rejected: Rejected,
        timeout_seconds: float = 10.0,
        ca_file: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.service = service
        self.setting = setting
        self.unavailable = unavailable
        self.rejected = rejected
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_seconds,
            headers={"Authorization": f"Bearer {token}"} if token else {},
            verify=ssl.create_default_context(cafile=str(ca_file)) if ca_file else True,
            transport=transport,
        )
        self._deadline = answer_deadline(self._http)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self,
        method: str,
        path: str,
        *,
        json_body: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The service's answer, whatever its status; a timeout or no connection is
        *unavailable*."""
        sent = dict(headers or {})
        if json_body is not None:
            sent["Content-Type"] = "application/json"
        try:
            async with asyncio.timeout(self._deadline):
                return await self._http.request(method, path, content=json_body, headers=sent)
        except TimeoutError:
            raise self.unavailable(
                f"{self.service} timed out: no whole answer within {self._deadline:g}s", None
            ) from None
        except httpx.TimeoutException as err:
            raise self.unavailable(
                f"{self.service} timed out: {type(err).__name__}", None
            ) from None
        except httpx.TransportError as err:
            raise self.unavailable(
                f"{self.service} unreachable: {type(err).__name__}", None
            ) from None
        except httpx.RequestError as err:
            # An answer httpx could not take in (a body its encoding does not decode): asked
            # again, as an answer that cannot be read is.
            raise self.unavailable(
                f"{self.service} answered unreadably: {type(err).__name__}", None
            ) from None

    def unreadable(self, path: str, response: httpx.Response) -> ApplicationError:
        """A success the caller cannot read: it may have done the work; asking again is safe."""
        return self.unavailable(
            f"{self.service} answered {path} {response.status_code} unreadably: asked again", None
        )

    def fail(self, response: httpx.Response) -> NoReturn:
        """Raise the failure an answer the caller does not handle itself stands for."""
        status = response.status_code
        code = error_code(response)
        said = f"{self.service} HTTP {status}" + (f" {code}" if code else "")
        if status in RETRIED_STATUSES or status >= 500 or 200 <= status < 300:
            wait = retry_after(response)
            raise self.unavailable(said, None if wait is None else dt.timedelta(seconds=wait))
        if 300 <= status < 400:
            where = safe(response.headers.get("location", ""))
            raise self.rejected(f"{said}: redirected to {where}: fix {self.setting}")
        raise self.rejected(f"{said}: {safe(error_message(response))}")


def _error(response: httpx.Response) -> dict[str, Any]:
    try:
        error: Any = response.json().get("error", {})
    except (ValueError, AttributeError, RecursionError):
        # Not JSON, not an object, or nested past what the decoder follows: no message.
        return {}
    return error if isinstance(error, dict) else {}


def error_message(response: httpx.Response) -> str:
    """The service's own message, when its error is JSON."""
    return str(_error(response).get("message", ""))


def error_code(response: httpx.Response) -> str | None:
    code = _error(response).get("code")
    return safe(str(code), 40) if code else None


def safe(text: str, limit: int = 100) -> str:
    """At most `limit` printable characters: it goes to the logs and the return's status."""
    printable = "".join(c if c.isprintable() else " " for c in text)
    return printable[:limit]
