"""What a call costs is the call: once warm, an HTTP request searches no module on the import
path, and a notice checks no template on disk."""

from __future__ import annotations

import asyncio
import importlib.abc
import importlib.machinery
import os.path
import sys
from collections.abc import Sequence
from types import ModuleType

import httpx
import pytest

from activities.notices import NoticeComposer
from domain.notices import NoticeKind
from plumbing.settings import Settings
from tests.activities.notices.stories import english_return

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class Lookups(importlib.abc.MetaPathFinder):
    """Every module name searched for on the import path while it is installed."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
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


def test_a_second_notice_checks_no_template_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    composer = NoticeComposer(Settings())
    story = english_return()
    composer.compose(story.notice(NoticeKind.RETURN_ADDRESS))
    checked: list[str] = []
    mtime = os.path.getmtime

    def recorded(path: str | os.PathLike[str]) -> float:
        checked.append(os.fspath(path))
        return mtime(path)

    monkeypatch.setattr(os.path, "getmtime", recorded)
    message = composer.compose(story.notice(NoticeKind.RETURN_ADDRESS))
    assert message["To"]
    assert [path for path in checked if "templates" in path] == []
