"""Fixtures of the mail tests: two customers' returns, a real SMTP sink, the notice activities."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from activities.notices import NoticeActivities, NoticeComposer, SmtpNotifier
from mail_sink import MailSink
from returnflow.settings import Settings

from .labels import PrintedLabels
from .stories import ReturnStory, english_return, french_return


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
def notice_activities(
    settings: Settings, composer: NoticeComposer, labels: PrintedLabels
) -> NoticeActivities:
    return NoticeActivities(SmtpNotifier(settings), composer, labels)
