"""One contract for every seller adapter: the sellers file and the chat outbox, and the
marketplace's seller directory and chat over HTTP (the marketplace sandbox on a real socket).
A lookup answers the same from both, a message is posted at most once under retry, and over
HTTP every documented error is classified as documented (docs/marketplace.md)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.sellers.chat import FileSellerChat, SellerChat
from activities.sellers.directory import FileSellerDirectory, SellerDirectory
from activities.sellers.http import HttpSellerChat, HttpSellerDirectory
from domain.failures import FailureType
from domain.notices import SellerChatKind, SellerChatMessage
from tests.marketplace import TOKEN, Sandbox, marketplace_sandbox
from tests.trickle import trickling

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "sellers.json"


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with marketplace_sandbox(tmp_path / "marketplace", sellers_file=EXAMPLES) as running:
        yield running


@pytest.fixture(params=["file", "http"])
async def directory(
    request: pytest.FixtureRequest, sandbox: Sandbox
) -> AsyncIterator[SellerDirectory]:
    if request.param == "file":
        yield FileSellerDirectory(EXAMPLES)
        return
    http = HttpSellerDirectory(sandbox.url, TOKEN, timeout_seconds=5)
    try:
        yield http
    finally:
        await http.aclose()


@pytest.fixture(params=["file", "http"])
async def chat(
    request: pytest.FixtureRequest, tmp_path: Path, sandbox: Sandbox
) -> AsyncIterator[SellerChat]:
    if request.param == "file":
        yield FileSellerChat(tmp_path / "seller-chat")
        return
    http = HttpSellerChat(sandbox.url, TOKEN, timeout_seconds=5)
    try:
        yield http
    finally:
        await http.aclose()


def address_request(seller_id: str = "SELLER-NEWCOMER", ask: int = 1) -> SellerChatMessage:
    return SellerChatMessage(
        message_id=f"ret-0001-chat-address_request-{ask}",
        kind=SellerChatKind.ADDRESS_REQUEST,
        return_id="ret-0001",
        seller_id=seller_id,
        order_id="ORD-1001",
        line_id="L1",
        reply_by=dt.datetime(2026, 11, 22, 9, 15, tzinfo=dt.UTC),
    )


async def test_a_seller_with_an_address_on_file_gives_it_and_a_contact(
    directory: SellerDirectory,
) -> None:
    address = await directory.return_address("SELLER-REFURBPRO")
    contact = await directory.contact("SELLER-REFURBPRO")

    assert address is not None and address.country_code == "FR"
    assert contact is not None and contact.email == "returns@refurbpro.example"


async def test_a_seller_without_an_address_and_an_unknown_one_give_none(
    directory: SellerDirectory,
) -> None:
    assert await directory.return_address("SELLER-NEWCOMER") is None
    assert await directory.contact("SELLER-NEWCOMER") is not None
    assert await directory.return_address("SELLER-NOBODY") is None
    assert await directory.contact("SELLER-NOBODY") is None


async def test_a_message_is_posted_once_however_often_it_is_sent(chat: SellerChat) -> None:
    first = await chat.post(address_request(), "Bonjour, quelle est votre adresse de retour ?")
    again = await chat.post(address_request(), "Bonjour, quelle est votre adresse de retour ?")
    other = await chat.post(address_request(ask=2), "Rappel : votre adresse de retour ?")

    assert (first, again, other) == (True, False, True)


async def test_a_message_whose_answer_was_lost_is_found_posted_on_the_retry(
    sandbox: Sandbox,
) -> None:
    chat = HttpSellerChat(sandbox.url, TOKEN, timeout_seconds=5)
    await sandbox.faults(error_rate=1.0, error_when="after")
    with pytest.raises(ApplicationError) as lost:
        await chat.post(address_request(), "Bonjour")
    await sandbox.faults()

    retried = await chat.post(address_request(), "Bonjour")
    await chat.aclose()

    assert lost.value.type == FailureType.SELLER_SERVICE_UNAVAILABLE
    assert not lost.value.non_retryable
    assert retried is False  # posted by the first call, whose answer was lost
    posted = await sandbox.recorded("sellers/SELLER-NEWCOMER/messages")
    assert [m["text"] for m in posted] == ["Bonjour"]


async def test_a_seller_record_is_asked_once_while_fresh_and_again_once_stale(
    sandbox: Sandbox,
) -> None:
    now = [1000.0]
    directory = HttpSellerDirectory(
        sandbox.url, TOKEN, cache_seconds=300, clock=lambda: now[0], timeout_seconds=5
    )
    await directory.return_address("SELLER-REFURBPRO")
    await directory.contact("SELLER-REFURBPRO")
    await directory.return_address("SELLER-NOBODY")
    await directory.return_address("SELLER-NOBODY")
    asked_while_fresh = directory.lookups
    now[0] += 301
    await directory.contact("SELLER-REFURBPRO")
    await directory.aclose()

    assert asked_while_fresh == 2  # one per seller, an unknown one included
    assert directory.lookups == 3


async def test_the_cache_holds_a_bounded_number_of_sellers(sandbox: Sandbox) -> None:
    directory = HttpSellerDirectory(sandbox.url, TOKEN, cache_size=2, timeout_seconds=5)
    for seller in ("SELLER-REFURBPRO", "SELLER-TECHREVIVE", "SELLER-NEWCOMER"):
        await directory.contact(seller)
    await directory.contact("SELLER-NEWCOMER")  # kept
    await directory.contact("SELLER-REFURBPRO")  # the oldest: dropped, asked again
    await directory.aclose()

    assert directory.lookups == 4


@pytest.mark.parametrize(
    ("plan", "delay"),
    [
        ({"error_rate": 1.0, "error_when": "before", "error_status": 503}, 1),
        ({"rate_limit_rate": 1.0, "retry_after_seconds": 7}, 7),
    ],
)
async def test_throttling_and_server_errors_are_retried_after_retry_after(
    sandbox: Sandbox, plan: dict[str, Any], delay: int
) -> None:
    directory = HttpSellerDirectory(sandbox.url, TOKEN, timeout_seconds=5)
    chat = HttpSellerChat(sandbox.url, TOKEN, timeout_seconds=5)
    await sandbox.faults(**plan)

    with pytest.raises(ApplicationError) as lookup:
        await directory.return_address("SELLER-REFURBPRO")
    with pytest.raises(ApplicationError) as post:
        await chat.post(address_request(), "Bonjour")
    await directory.aclose()
    await chat.aclose()

    for failed in (lookup.value, post.value):
        assert failed.type == FailureType.SELLER_SERVICE_UNAVAILABLE
        assert not failed.non_retryable
        assert failed.next_retry_delay == dt.timedelta(seconds=delay)
    assert await sandbox.recorded("sellers/SELLER-NEWCOMER/messages") == []


async def test_a_slow_directory_is_a_timeout_retried(sandbox: Sandbox) -> None:
    directory = HttpSellerDirectory(sandbox.url, TOKEN, timeout_seconds=0.5)
    await sandbox.faults(slow_rate=1.0, slow_seconds=2)

    with pytest.raises(ApplicationError) as failed:
        await directory.return_address("SELLER-REFURBPRO")
    await directory.aclose()

    assert failed.value.type == FailureType.SELLER_SERVICE_UNAVAILABLE
    assert "timed out" in failed.value.message


async def test_a_refused_message_is_not_retried_and_a_refused_lookup_waits_for_operations(
    sandbox: Sandbox,
) -> None:
    wrong_lookup = HttpSellerDirectory(sandbox.url, "not-the-token", timeout_seconds=5)
    wrong_chat = HttpSellerChat(sandbox.url, "not-the-token", timeout_seconds=5)
    chat = HttpSellerChat(sandbox.url, TOKEN, timeout_seconds=5)
    with pytest.raises(ApplicationError) as lookup:
        await wrong_lookup.contact("SELLER-REFURBPRO")
    with pytest.raises(ApplicationError) as post:
        await wrong_chat.post(address_request(), "Bonjour")
    with pytest.raises(ApplicationError) as unknown:
        await chat.post(address_request(seller_id="SELLER-NOBODY"), "Bonjour")
    for adapter in (wrong_lookup, wrong_chat, chat):
        await adapter.aclose()
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        message = address_request()
        body = {"message_id": message.message_id, "kind": "wave", "text": ""}
        invalid = await http.post(
            "/v1/sellers/SELLER-NEWCOMER/messages",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": message.message_id},
        )

    assert lookup.value.type == FailureType.SELLER_SERVICE_REJECTED
    assert not lookup.value.non_retryable  # every return waits on it: retried, slowly
    assert lookup.value.next_retry_delay == dt.timedelta(minutes=5)
    assert "HTTP 401 bad_token" in post.value.message and post.value.non_retryable
    assert "HTTP 404 unknown_seller" in unknown.value.message and unknown.value.non_retryable
    assert invalid.status_code == 422
    problems = invalid.json()["error"]["problems"]
    assert {p.split(":")[0] for p in problems} >= {"kind", "text", "return_id"}
    assert await sandbox.recorded("sellers/SELLER-NEWCOMER/messages") == []


def answering(status: int, body: object = None, **headers: str) -> HttpSellerDirectory:
    """The directory before a service that always answers `status` (an in-process transport)."""

    def handler(_request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return HttpSellerDirectory(
        "https://sellers.example", TOKEN, transport=httpx.MockTransport(handler)
    )


@pytest.mark.parametrize(
    ("status", "body", "headers", "failure"),
    [
        (308, b"", {"location": "https://sellers.example/v2/"},
         FailureType.SELLER_SERVICE_REJECTED),
        (403, {"error": {"code": "forbidden"}}, {}, FailureType.SELLER_SERVICE_REJECTED),
        (408, b"", {}, FailureType.SELLER_SERVICE_UNAVAILABLE),
        (200, b"<html>ok</html>", {}, FailureType.SELLER_SERVICE_UNAVAILABLE),
        (200, {"seller_id": "SELLER-OTHER", "display_name": "Other"}, {},
         FailureType.SELLER_SERVICE_UNAVAILABLE),
        (502, b"", {}, FailureType.SELLER_SERVICE_UNAVAILABLE),
    ],
)  # fmt: skip
async def test_every_directory_answer_is_classified_as_documented(
    status: int, body: object, headers: dict[str, str], failure: str
) -> None:
    directory = answering(status, body, **headers)

    with pytest.raises(ApplicationError) as failed:
        await directory.return_address("SELLER-REFURBPRO")
    await directory.aclose()

    assert failed.value.type == failure
    assert not failed.value.non_retryable
    if status == 308:
        assert "RETURNFLOW_SELLER_SERVICE_URL" in failed.value.message


async def test_a_404_that_is_not_unknown_seller_is_a_lookup_refused_not_a_seller_without_address(
    sandbox: Sandbox,
) -> None:
    """A wrong base path (or a proxy's own 404) must not read as "no address on file": every
    return would ask its seller in the chat."""
    directory = HttpSellerDirectory(f"{sandbox.url}/not-the-api", TOKEN, timeout_seconds=5)

    with pytest.raises(ApplicationError) as lookup:
        await directory.return_address("SELLER-REFURBPRO")
    await directory.aclose()

    assert lookup.value.type == FailureType.SELLER_SERVICE_REJECTED
    assert "HTTP 404" in lookup.value.message
    assert not lookup.value.non_retryable  # retried, slowly, until the setting is fixed


async def test_a_directory_answering_a_byte_at_a_time_is_cut_off_and_retried() -> None:
    """Each byte comes within the timeout, so no step of httpx's times out: the whole answer
    must still come within twice the timeout, or the lookup is retried."""
    started = time.monotonic()
    body = b'{"seller_id": "SELLER-REFURBPRO", "return_address": null}'
    async with trickling(body) as url:
        directory = HttpSellerDirectory(url, TOKEN, timeout_seconds=0.5)
        try:
            with pytest.raises(ApplicationError) as lookup:
                await directory.return_address("SELLER-REFURBPRO")
        finally:
            await directory.aclose()

    assert lookup.value.type == FailureType.SELLER_SERVICE_UNAVAILABLE
    assert "no whole answer within 1s" in lookup.value.message
    assert time.monotonic() - started < 3


async def test_a_sellers_file_broken_while_the_sandbox_runs_is_a_503_in_the_error_shape(
    tmp_path: Path,
) -> None:
    sellers = tmp_path / "sellers.json"
    sellers.write_bytes(EXAMPLES.read_bytes())
    async with marketplace_sandbox(tmp_path / "marketplace", sellers_file=sellers) as running:
        asked = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=running.url, headers=asked) as http:
            before = await http.get("/v1/sellers/SELLER-REFURBPRO")
            sellers.write_text('{"sellers": [{"seller_id": 7}]}')
            broken = await http.get("/v1/sellers/SELLER-REFURBPRO")

    assert before.status_code == 200
    assert broken.status_code == 503
    assert broken.json()["error"]["code"] == "directory_unavailable"


@pytest.mark.parametrize("content", [None, "not json", '{"sellers": [{"seller_id": 7}]}'])
def test_a_sellers_file_it_cannot_read_stops_the_sandbox_before_it_starts(
    tmp_path: Path, content: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    from marketplace_sandbox.__main__ import parse_args

    sellers = tmp_path / "sellers.json"
    if content is not None:
        sellers.write_text(content)

    with pytest.raises(SystemExit) as stopped:
        parse_args(["--sellers", str(sellers), "--dir", str(tmp_path / "m"), "--token", "t0ken"])

    assert stopped.value.code == 2
    assert f"argument --sellers: sellers file {sellers}" in capsys.readouterr().err
