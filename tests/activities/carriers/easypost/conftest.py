"""The EasyPost adapter over a fresh replay and ledger; tests parametrize what they change."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from activities.carriers.easypost import EasyPostCarrier
from tests.activities.carriers.easypost.builders import easypost
from tests.activities.carriers.ledgers import FileLedger
from tests.activities.carriers.replay.easypost import EasyPostReplay


@pytest.fixture
def pdf_labels() -> bool:
    """Whether the carrier honours `label_format: PDF` (a test parametrizes it to say no)."""
    return True


@pytest.fixture
def settings() -> dict[str, Any]:
    """Configuration beyond the credentials (a test parametrizes it to configure more)."""
    return {}


@pytest.fixture
def replay(pdf_labels: bool) -> EasyPostReplay:
    return EasyPostReplay(pdf_labels=pdf_labels)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[FileLedger]:
    ledger = FileLedger(tmp_path)
    yield ledger
    ledger.close()


@pytest.fixture
async def carrier(
    replay: EasyPostReplay, ledger: FileLedger, settings: dict[str, Any]
) -> AsyncIterator[EasyPostCarrier]:
    carrier = easypost(replay, ledger, **settings)
    yield carrier
    await carrier.aclose()
