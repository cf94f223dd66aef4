"""Debian's chromium, driven by Playwright, for the browser tests (tests/webui/,
tests/customer_page/): Playwright never downloads a browser of its own here."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine's network is closed: no update checks, no sync, no component downloads.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium(what: str) -> Path:
    """Debian's chromium, or a failure (not a skip) saying how to install it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: {what} needs Debian's chromium. Run `make chromium` "
            "(as root), or `apt-get install --no-install-recommends chromium`.",
            pytrace=False,
        )
    return CHROMIUM


@asynccontextmanager
async def launched_chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True, timeout=60_000
        )
        try:
            yield launched
        finally:
            await launched.close()


def fresh_folder(folder: Path) -> Path:
    """A screenshot folder, emptied once per run so it shows this run only."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
