"""The customer's pages in Debian's chromium (Playwright), against a dev stack of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from devstack.stack import DevStack
from tests.chromium import fresh_folder, launched_chromium, require_chromium
from tests.e2e.conftest import ROOT, stack_config

ARTEFACTS = ROOT / "var" / "artefacts" / "customer-page"
"""A screenshot of every step the browser tests take, kept by CI (`var/` is not versioned)."""


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevStack]:
    config = stack_config(tmp_path_factory.mktemp("var"))
    async with DevStack(config) as running:
        yield running


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    require_chromium("the customer pages' browser test")
    async with launched_chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def artefacts() -> Path:
    return fresh_folder(ARTEFACTS)
