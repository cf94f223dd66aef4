"""The marketplace's seller directory and seller chat over HTTP (the contract in
schemas/marketplace-openapi.json; the marketplace sandbox plays them in the dev stack).

- `GET /v1/sellers/{seller_id}`: the seller's record (`SellerRecord`); 404 `unknown_seller`
  is a seller the marketplace does not know: no address, no contact. Records, found or not,
  are kept `cache_seconds` (a seller who gives an address is seen within that time) in a cache
  of at most `cache_size` sellers.
- `POST /v1/sellers/{seller_id}/messages` with `Idempotency-Key: <message_id>`: 201 posted, 200
  posted before (the chat keeps its first text).

Failures are classified as `activities.marketplace_http` says, as `SellerServiceUnavailable`
or `SellerServiceRejected`. A chat message refused is not retried (the return's timeline says
so, and the seller's silence reaches operations by its deadline); a directory lookup refused is
retried with backoff, like an unreadable sellers file: every return needs the lookup, and they
all go on once operations fix the configuration the error log names.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from activities.marketplace_http import MarketplaceHttp, error_code
from activities.sellers.chat import ChatPost, ChatPosted
from activities.sellers.directory import SellerRecord, contact_of
from domain.addresses import PostalAddress
from domain.failures import FailureType
from domain.notices import SellerChatMessage, SellerContact


def unavailable(message: str, retry_after: dt.timedelta | None = None) -> ApplicationError:
    """The seller service is down, slow or throttling: retried."""
    return ApplicationError(
        message, type=FailureType.SELLER_SERVICE_UNAVAILABLE, next_retry_delay=retry_after
    )


def rejected(message: str) -> ApplicationError:
    """The seller chat refused a message for good."""
    return ApplicationError(message, type=FailureType.SELLER_SERVICE_REJECTED, non_retryable=True)


def lookup_refused(message: str) -> ApplicationError:
    """The seller directory refused a lookup: retried until operations fix the configuration."""
    return ApplicationError(
        message,
        type=FailureType.SELLER_SERVICE_REJECTED,
        next_retry_delay=dt.timedelta(minutes=5),
    )


def _client(
    base_url: str,
    token: str,
    refused: Callable[[str], ApplicationError],
    timeout_seconds: float,
    ca_file: Path | None,
    transport: httpx.AsyncBaseTransport | None,
) -> MarketplaceHttp:
    return MarketplaceHttp(
        "seller service",
        "RETURNFLOW_SELLER_SERVICE_URL",
        base_url,
        token,
        unavailable=unavailable,
        rejected=refused,
        timeout_seconds=timeout_seconds,
        ca_file=ca_file,
        transport=transport,
    )


def _seller_path(seller_id: str) -> str:
    return f"/v1/sellers/{quote(seller_id, safe='')}"


class HttpSellerDirectory:
    """Sellers' return addresses and contacts, asked of the marketplace and cached a while."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        cache_seconds: float = 300.0,
        cache_size: int = 10_000,
        timeout_seconds: float = 5.0,
        ca_file: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = _client(base_url, token, lookup_refused, timeout_seconds, ca_file, transport)
        self._cache_seconds = cache_seconds
        self._cache_size = cache_size
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, SellerRecord | None]] = OrderedDict()
        self.lookups = 0
        """Calls made to the service (the cache's misses), for tests and benchmarks."""

    async def aclose(self) -> None:
        await self._http.aclose()

    async def return_address(self, seller_id: str) -> PostalAddress | None:
        record = await self.record(seller_id)
        return record.return_address if record else None

    async def contact(self, seller_id: str) -> SellerContact | None:
        return contact_of(await self.record(seller_id))

    async def record(self, seller_id: str) -> SellerRecord | None:
        """The seller's record, from the cache while it is fresh; None for an unknown seller."""
        now = self._clock()
        cached = self._cache.get(seller_id)
        if cached is not None and cached[0] > now:
            self._cache.move_to_end(seller_id)
            return cached[1]
        record = await self._fetch(seller_id)
        self._cache[seller_id] = (now + self._cache_seconds, record)
        self._cache.move_to_end(seller_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return record

    async def _fetch(self, seller_id: str) -> SellerRecord | None:
        self.lookups += 1
        path = _seller_path(seller_id)
        response = await self._http.send("GET", path)
        if response.status_code == 404 and error_code(response) == "unknown_seller":
            return None
        if response.status_code != 200:
            self._http.fail(response)
        try:
            record = SellerRecord.model_validate_json(response.content)
        except ValidationError:
            raise self._http.unreadable(path, response) from None
        if record.seller_id != seller_id:
            raise unavailable(f"seller service answered {path} with another seller's record")
        return record


class HttpSellerChat:
    """Posts in the marketplace's seller chat, each message at most once (its Idempotency-Key)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_seconds: float = 10.0,
        ca_file: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = _client(base_url, token, rejected, timeout_seconds, ca_file, transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post(self, message: SellerChatMessage, text: str) -> bool:
        path = f"{_seller_path(message.seller_id)}/messages"
        response = await self._http.send(
            "POST",
            path,
            json_body=ChatPost.of(message, text).model_dump_json(),
            headers={"Idempotency-Key": message.message_id},
        )
        if response.status_code not in (200, 201):
            self._http.fail(response)
        try:
            posted = ChatPosted.model_validate_json(response.content)
        except ValidationError:
            raise self._http.unreadable(path, response) from None
        return posted.created
