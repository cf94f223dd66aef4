"""What a call costs is the call: once warm, an HTTP request searches no module on the import
path, and a notice or a customer's page checks no template on disk."""

from __future__ import annotations

import asyncio
import importlib.abc
import importlib.machinery
import os.path
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any, cast

import httpx
import pytest
from pydantic import SecretStr

from activities.notices import NoticeComposer
from customer_page.routes import Pages
from domain.notices import NoticeKind
from plumbing.settings import Settings
from tests.activities.notices.stories import english_return
from tests.keys import PAGE_KEYS

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class Lookups(importlib.abc.MetaPathFinder):
    """Every module name this thread searches for on the import path while it is installed
    (another thread's imports are its own business)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.thread = threading.get_ident()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if threading.get_ident() == self.thread:
            self.names.append(fullname)
        return None


async def answer_each_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def test_an_http_request_on_a_kept_connection_searches_no_module() -> None:
    server = await asyncio.start_server(answer_each_request, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    lookups = Lookups()
    async with server, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        assert (await client.get("/events")).status_code == 200
        sys.meta_path.insert(0, lookups)
        try:
            for _ in range(20):
                assert (await client.get("/events")).status_code == 200
        finally:
            sys.meta_path.remove(lookups)
    # httpcore asks which event loop runs at each step of its pool: an import each time, one
    # that searched every entry of sys.path when it failed.
    assert lookups.names == []


def templates_checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The template files looked at on disk from now on."""
    checked: list[str] = []
    mtime = os.path.getmtime

    def recorded(path: str | os.PathLike[str]) -> float:
        if "templates" in os.fspath(path):
            checked.append(os.fspath(path))
        return mtime(path)

    monkeypatch.setattr(os.path, "getmtime", recorded)
    return checked


def test_a_second_notice_checks_no_template_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    composer = NoticeComposer(Settings())
    story = english_return()
    composer.compose(story.notice(NoticeKind.RETURN_ADDRESS))
    checked = templates_checked(monkeypatch)
    message = composer.compose(story.notice(NoticeKind.RETURN_ADDRESS))
    assert message["To"]
    assert checked == []


def test_a_second_page_checks_no_template_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rendering a template needs neither Temporal nor the carriers.
    settings = Settings(customer_page_keys=SecretStr(PAGE_KEYS))
    pages = Pages(cast(Any, None), settings, cast(Any, None))
    pages.templates.get_template("withdraw.html")
    checked = templates_checked(monkeypatch)
    assert pages.templates.get_template("withdraw.html").name == "withdraw.html"
    assert checked == []
