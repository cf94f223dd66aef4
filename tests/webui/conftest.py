"""Headless Debian chromium, driven by Playwright, against the dev stack's Temporal Web UI."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Generator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from devstack.stack import DevStack
from tests.e2e.conftest import ROOT, stack_config

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
ARTEFACTS = ROOT / "var" / "artefacts" / "webui"
"""Screenshots of every page the test sees, kept by CI (`var/` is not versioned)."""


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevStack]:
    config = stack_config(tmp_path_factory.mktemp("var"))
    async with DevStack(config) as running:
        yield running


@pytest.fixture(scope="session", autouse=True)
def chromium() -> Path:
    """Debian's chromium, or a failure (not a skip) saying how to install it, before any
    stack is started."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the Web UI browser test needs Debian's chromium. "
            "Run `make chromium` (as root), or `apt-get install --no-install-recommends chromium`.",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """Debian's chromium; Playwright never downloads a browser of its own."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_FLAGS, headless=True, timeout=60_000
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """The screenshot folder, emptied once per run so it shows this run only."""
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)
    return ARTEFACTS


@pytest.fixture
async def page(
    browser: Browser, artefacts: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """A page in a fresh profile (no cookies, no saved views); a screenshot if the test fails."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(60_000)
    opened = await context.new_page()
    try:
        yield opened
        reports = request.node.stash.get(REPORTS, {})
        if "call" in reports and reports["call"].failed and opened.url != "about:blank":
            await opened.screenshot(path=artefacts / f"failed-{request.node.name}.png")
    finally:
        await context.close()


REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Each phase's report on the test item, for the page fixture to see a failed test."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report
