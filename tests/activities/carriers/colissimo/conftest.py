"""The Colissimo adapter over the replay, opened and closed for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.activities.carriers.colissimo.builders import Colissimo, open_colissimo


@pytest.fixture
async def colissimo(tmp_path: Path) -> AsyncIterator[Colissimo]:
    opened = await open_colissimo(tmp_path)
    yield opened
    await opened.carrier.aclose()
    opened.ledger.close()
