"""The seller chat: address requests and reminders, posted once, in the seller's language."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.sellers.activities import SellerActivities
from activities.sellers.chat import FileSellerChat
from activities.sellers.directory import FileSellerDirectory, SellerDirectoryError
from activities.sellers.http import lookup_refused
from domain.base import PERSONAL
from domain.ids import idempotency_key, return_id
from domain.notices import SellerChatKind, SellerChatMessage
from plumbing.settings import Settings
from tests.factories import CUSTOMER_EMAIL, CUSTOMER_NAME, CUSTOMER_STREET, HOME, retract_event

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "sellers.json"
REPLY_BY = dt.datetime(2026, 11, 22, 9, 15, tzinfo=dt.UTC)  # 10:15 in Paris


@pytest.fixture
def sellers_file(tmp_path: Path) -> Path:
    return Path(shutil.copy(EXAMPLES, tmp_path / "sellers.json"))


@pytest.fixture
def chat(tmp_path: Path) -> FileSellerChat:
    return FileSellerChat(tmp_path / "var" / "seller-chat")  # not there yet: created on use


@pytest.fixture
def sellers(sellers_file: Path, chat: FileSellerChat) -> SellerActivities:
    return SellerActivities(FileSellerDirectory(sellers_file), chat)


def chat_message(
    seller_id: str = "SELLER-NEWCOMER",
    kind: SellerChatKind = SellerChatKind.ADDRESS_REQUEST,
    reply_by: dt.datetime | None = REPLY_BY,
    order_id: str = "ORD-7F3A9C21",
) -> SellerChatMessage:
    rid = return_id(order_id, "1")
    return SellerChatMessage(
        message_id=idempotency_key(rid, kind.value),
        kind=kind,
        return_id=rid,
        seller_id=seller_id,
        order_id=order_id,
        line_id="1",
        reply_by=reply_by,
    )


async def post(sellers: SellerActivities, message: SellerChatMessage) -> bool:
    return await ActivityEnvironment().run(sellers.message_seller, message)


async def test_a_message_is_posted_once_however_often_the_activity_runs(
    sellers: SellerActivities, chat: FileSellerChat
) -> None:
    message = chat_message()

    assert await post(sellers, message) is True
    assert await post(sellers, message) is False

    lines = chat.conversation("SELLER-NEWCOMER").read_text().splitlines()
    assert len(lines) == 1
    posted = json.loads(lines[0])
    assert set(posted) == {
        "message_id",
        "kind",
        "return_id",
        "order_id",
        "line_id",
        "reply_by",
        "text",
        "posted_at",
    }
    assert posted["message_id"] == message.message_id
    assert posted["kind"] == "address_request"
    assert (posted["order_id"], posted["line_id"]) == ("ORD-7F3A9C21", "1")
    assert dt.datetime.fromisoformat(posted["reply_by"]) == REPLY_BY


async def test_a_retry_keeps_the_first_text(
    sellers: SellerActivities, chat: FileSellerChat
) -> None:
    first = chat_message()
    await post(sellers, first)

    assert await post(sellers, first.model_copy(update={"reply_by": None})) is False

    [entry] = await chat.messages("SELLER-NEWCOMER")
    assert entry.reply_by == REPLY_BY


async def test_the_request_and_its_reminder_are_two_messages(
    sellers: SellerActivities, chat: FileSellerChat
) -> None:
    await post(sellers, chat_message())
    await post(sellers, chat_message(kind=SellerChatKind.ADDRESS_REMINDER))

    entries = await chat.messages("SELLER-NEWCOMER")
    assert [e.kind for e in entries] == [
        SellerChatKind.ADDRESS_REQUEST,
        SellerChatKind.ADDRESS_REMINDER,
    ]


async def test_each_seller_has_a_conversation_of_their_own(
    sellers: SellerActivities, chat: FileSellerChat
) -> None:
    await post(sellers, chat_message(seller_id="SELLER-NEWCOMER"))
    await post(sellers, chat_message(seller_id="SELLER-TECHREVIVE", order_id="ORD-B"))

    assert sorted(p.name for p in chat.directory.iterdir()) == [
        "SELLER-NEWCOMER.jsonl",
        "SELLER-TECHREVIVE.jsonl",
    ]


async def test_workers_racing_on_the_same_message_post_it_once(
    sellers_file: Path, chat: FileSellerChat
) -> None:
    """Two workers sharing the chat directory, each with its own adapter."""
    message = chat_message()
    workers = [
        SellerActivities(FileSellerDirectory(sellers_file), FileSellerChat(chat.directory))
        for _ in range(4)
    ]

    results = await asyncio.gather(*(post(w, message) for w in workers for _ in range(3)))

    assert sorted(results) == [False] * 11 + [True]
    assert len(await chat.messages("SELLER-NEWCOMER")) == 1


async def test_a_line_torn_by_a_crash_does_not_spoil_the_conversation(
    sellers: SellerActivities, chat: FileSellerChat
) -> None:
    chat.directory.mkdir(parents=True)
    chat.conversation("SELLER-NEWCOMER").write_bytes(b'{"message_id": "return-ORD-X-1:addr')

    assert await post(sellers, chat_message()) is True

    [entry] = await chat.messages("SELLER-NEWCOMER")
    assert entry.kind is SellerChatKind.ADDRESS_REQUEST


async def test_a_french_seller_is_asked_in_french(
    sellers: SellerActivities, chat: FileSellerChat
) -> None:
    await post(sellers, chat_message(seller_id="SELLER-REFURBPRO"))

    [entry] = await chat.messages("SELLER-REFURBPRO")
    assert entry.text.startswith("Bonjour RefurbPro,")
    assert "Un client s'est rétracté de la commande ORD-7F3A9C21 (ligne 1" in entry.text
    assert "adresse de retour" in entry.text
    assert "avant le 22 novembre 2026 à 10 h 15 (heure de Paris)" in entry.text
    assert "le client ne peut pas renvoyer le colis" in entry.text


async def test_an_english_speaking_seller_is_asked_in_english(
    sellers: SellerActivities, chat: FileSellerChat
) -> None:
    await post(sellers, chat_message(seller_id="SELLER-TECHREVIVE"))

    [entry] = await chat.messages("SELLER-TECHREVIVE")
    assert entry.text.startswith("Hello TechRevive,")
    assert "A customer has withdrawn from order ORD-7F3A9C21 (line 1" in entry.text
    assert "by 22 November 2026 at 10:15 (Paris time)" in entry.text
    assert "the customer cannot send the parcel back" in entry.text


async def test_the_reminder_says_the_address_is_still_needed(
    sellers: SellerActivities, chat: FileSellerChat
) -> None:
    await post(sellers, chat_message("SELLER-REFURBPRO", SellerChatKind.ADDRESS_REMINDER))
    await post(sellers, chat_message("SELLER-TECHREVIVE", SellerChatKind.ADDRESS_REMINDER))

    [french] = await chat.messages("SELLER-REFURBPRO")
    [english] = await chat.messages("SELLER-TECHREVIVE")
    assert "Rappel : nous attendons toujours l'adresse de retour" in french.text
    assert "Reminder: we still need the return address" in english.text
    assert "22 November 2026 at 10:15" in english.text


async def test_a_seller_without_a_contact_is_asked_in_french(
    sellers: SellerActivities, chat: FileSellerChat
) -> None:
    await post(sellers, chat_message(seller_id="SELLER-UNKNOWN", reply_by=None))

    [entry] = await chat.messages("SELLER-UNKNOWN")
    assert entry.text.startswith("Bonjour,")
    assert "dès que possible" in entry.text


async def test_a_seller_in_a_language_we_do_not_write_is_asked_in_english(
    sellers_file: Path, sellers: SellerActivities, chat: FileSellerChat
) -> None:
    data = json.loads(sellers_file.read_text())
    data["sellers"][1]["locale"] = "de-DE"
    sellers_file.write_text(json.dumps(data))

    await post(sellers, chat_message(seller_id="SELLER-TECHREVIVE"))

    [entry] = await chat.messages("SELLER-TECHREVIVE")
    assert entry.text.startswith("Hello TechRevive,")


def test_a_chat_message_cannot_carry_personal_data() -> None:
    schema = SellerChatMessage.model_json_schema()
    assert not [k for k, v in schema["properties"].items() if v.get(PERSONAL)]
    assert "customer" not in json.dumps(schema["properties"])


async def test_nothing_about_the_customer_reaches_the_chat_or_the_logs(
    sellers: SellerActivities, chat: FileSellerChat, caplog: pytest.LogCaptureFixture
) -> None:
    order = retract_event(seller_id="SELLER-REFURBPRO").order
    rid = return_id(order.order_id, order.line_id)
    message = SellerChatMessage(
        message_id=idempotency_key(rid, "address_request"),
        kind=SellerChatKind.ADDRESS_REQUEST,
        return_id=rid,
        seller_id=order.seller_id,
        order_id=order.order_id,
        line_id=order.line_id,
        reply_by=REPLY_BY,
    )

    with caplog.at_level(logging.INFO):
        await post(sellers, message)

    written = chat.conversation("SELLER-REFURBPRO").read_text()
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for personal in (CUSTOMER_NAME, CUSTOMER_EMAIL, CUSTOMER_STREET, HOME.postal_code, "CUST-"):
        assert personal not in written
        assert personal not in logged
    [record] = [r for r in caplog.records if r.getMessage().startswith("seller chat message")]
    assert (record.return_id, record.kind, record.message_id) == (  # type: ignore[attr-defined]
        rid,
        SellerChatKind.ADDRESS_REQUEST,
        message.message_id,
    )


async def test_a_broken_sellers_file_is_retried_before_anything_is_posted(
    sellers_file: Path, sellers: SellerActivities, chat: FileSellerChat
) -> None:
    sellers_file.write_text("{")

    with pytest.raises(SellerDirectoryError):
        await post(sellers, chat_message())

    assert not chat.directory.exists()


async def test_the_seller_activities_from_the_settings(
    sellers_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETURNFLOW_SELLERS_FILE", str(sellers_file))
    monkeypatch.setenv("RETURNFLOW_VAR_DIR", str(tmp_path / "var"))
    sellers = SellerActivities.from_settings(Settings(_env_file=None))

    assert await post(sellers, chat_message(seller_id="SELLER-REFURBPRO")) is True

    assert (tmp_path / "var" / "seller-chat" / "SELLER-REFURBPRO.jsonl").exists()
    address = await ActivityEnvironment().run(sellers.get_seller_return_address, "SELLER-REFURBPRO")
    assert address is not None


class RefusingDirectory(FileSellerDirectory):
    """A seller directory that no longer takes our token."""

    async def record(self, seller_id: str) -> None:
        raise lookup_refused("seller directory HTTP 401 bad_token")


async def test_a_directory_refusing_the_lookup_does_not_hold_the_request_back(
    sellers_file: Path, chat: FileSellerChat
) -> None:
    # The contact only chooses the language and greeting: the request goes out in French.
    sellers = SellerActivities(RefusingDirectory(sellers_file), chat)

    posted = await post(sellers, chat_message())

    assert posted is True
    [entry] = await chat.messages("SELLER-NEWCOMER")
    assert entry.text.startswith("Bonjour,")


async def test_a_seller_with_no_email_on_file_is_still_asked_in_their_language_and_name(
    sellers_file: Path, sellers: SellerActivities, chat: FileSellerChat
) -> None:
    # The email is for notices; the chat needs only the seller's language and name.
    data = json.loads(sellers_file.read_text())
    for seller in data["sellers"]:
        if seller["seller_id"] == "SELLER-TECHREVIVE":
            seller["email"] = None
    sellers_file.write_text(json.dumps(data))

    await post(sellers, chat_message(seller_id="SELLER-TECHREVIVE"))

    [entry] = await chat.messages("SELLER-TECHREVIVE")
    assert entry.text.startswith("Hello TechRevive,")
