"""The customer's pages in Debian's chromium (Playwright), against a dev stack of their own."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from devstack.stack import DevStack
from tests.e2e.conftest import ROOT, stack_config
from tests.webui.conftest import CHROMIUM, CHROMIUM_FLAGS

ARTEFACTS = ROOT / "var" / "artefacts" / "customer-page"
"""A screenshot of every step the browser tests take, kept by CI (`var/` is not versioned)."""


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevStack]:
    config = stack_config(tmp_path_factory.mktemp("var"))
    async with DevStack(config) as running:
        yield running


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (as root).", pytrace=False)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True, timeout=60_000
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)
    return ARTEFACTS
