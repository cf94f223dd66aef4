"""Headless Debian chromium, driven by Playwright, against the dev stack's Temporal Web UI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from devstack.stack import DevStack
from tests.chromium import fresh_folder, launched_chromium, require_chromium
from tests.e2e.conftest import ROOT, stack_config

ARTEFACTS = ROOT / "var" / "artefacts" / "webui"
"""Screenshots of every page the test sees, kept by CI (`var/` is not versioned)."""


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevStack]:
    config = stack_config(tmp_path_factory.mktemp("var"))
    async with DevStack(config) as running:
        yield running


@pytest.fixture(scope="session", autouse=True)
def chromium() -> Path:
    """Debian's chromium, or a failure saying how to install it, before any stack is started."""
    return require_chromium("the Web UI browser test")


@pytest.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with launched_chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def artefacts() -> Path:
    return fresh_folder(ARTEFACTS)


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
