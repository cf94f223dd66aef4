"""Fixtures of the mail tests: two customers' returns, a real SMTP sink, the notice activities
with a real sellers file and the real carrier sandbox's post-office locator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from activities.carriers.registry import CarrierRegistry
from activities.carriers.sandbox import SandboxCarrier
from activities.notices import CarrierPostOffices, NoticeActivities, NoticeComposer, SmtpNotifier
from activities.notices.protocol import Notifier
from activities.notices.sent import SentNotices
from activities.sellers.directory import FileSellerDirectory
from carrier_sandbox.server import SandboxServer
from mail_sink import MailSink
from plumbing.settings import Settings
from store import open_store

from .labels import PrintedLabels
from .stories import ReturnStory, english_return, french_return, sellers_file


@pytest.fixture(name="french_return")
def french_return_fixture() -> ReturnStory:
    return french_return()


@pytest.fixture(name="english_return")
def english_return_fixture() -> ReturnStory:
    return english_return()


@pytest.fixture
def stories(french_return: ReturnStory, english_return: ReturnStory) -> dict[str, ReturnStory]:
    return {"fr": french_return, "en": english_return}


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[MailSink]:
    async with MailSink(tmp_path / "mail") as running:
        yield running


@pytest.fixture
def settings(sink: MailSink) -> Settings:
    return Settings(smtp_host=sink.host, smtp_port=sink.port, smtp_timeout_seconds=5.0)


@pytest.fixture
def composer() -> NoticeComposer:
    # Composing needs no SMTP server: the defaults' From, domain and portal URL will do.
    return NoticeComposer(Settings())


@pytest.fixture
def labels() -> PrintedLabels:
    return PrintedLabels()


@pytest.fixture
async def carriers(tmp_path: Path) -> AsyncIterator[CarrierRegistry]:
    """The carrier sandbox over HTTP: its locator serves France and Belgium, not Ireland."""
    async with SandboxServer(tmp_path / "sandbox.sqlite") as sandbox:
        registry = CarrierRegistry([SandboxCarrier(sandbox.url, "sandbox", sandbox.api_key)])
        yield registry
        await registry.aclose()


@pytest.fixture
def post_offices(carriers: CarrierRegistry) -> CarrierPostOffices:
    return CarrierPostOffices(carriers)


@pytest.fixture
def sellers_path(tmp_path: Path, stories: dict[str, ReturnStory]) -> Path:
    path = tmp_path / "sellers.json"
    path.write_text(sellers_file(stories.values()), encoding="utf-8")
    return path


@pytest.fixture
def sellers(sellers_path: Path) -> FileSellerDirectory:
    return FileSellerDirectory(sellers_path)


@pytest.fixture
def notices_through(
    composer: NoticeComposer,
    labels: PrintedLabels,
    sellers: FileSellerDirectory,
    post_offices: CarrierPostOffices,
    sent_notices: SentNotices,
) -> Callable[..., NoticeActivities]:
    """The notice activities sending through a relay of the test's (with their options)."""

    def make(relay: Notifier, **options: float) -> NoticeActivities:
        return NoticeActivities(
            relay, composer, labels, sellers, post_offices, sent_notices, **options
        )

    return make


@pytest.fixture
def notice_activities(
    settings: Settings, notices_through: Callable[..., NoticeActivities]
) -> NoticeActivities:
    return notices_through(SmtpNotifier(settings))


@pytest.fixture
def sent_notices(tmp_path: Path) -> Iterator[SentNotices]:
    """The sent-notices ledger, in the embedded store of the test's own directory."""
    store = open_store(Settings(var_dir=tmp_path))
    yield SentNotices(store)
    store.close()
