"""The visibility queries of the README's operations guide run as written on a real server,
and find what they say they find."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.ids import return_id
from domain.returns import ReturnStage
from tests.factories import SELLER_WITHOUT_ADDRESS, retract_event
from tests.workflows.harness import return_harness

README = Path(__file__).resolve().parents[2] / "README.md"


def guide_queries() -> dict[str, str]:
    """The operations guide's table: what staff need → the query."""
    text = README.read_text()
    section = text[text.index("## Operations guide") :]
    section = section[: section.index("\n## ", 1)]
    rows = re.findall(r"^\| ([^|]+?) \| `(.+)` \|$", section, flags=re.MULTILINE)
    return dict(rows)


def test_the_guide_has_the_queries_the_issue_asks_for() -> None:
    needs = set(guide_queries())
    assert "returns needing attention" in needs
    assert any(need.startswith("unshipped, with ShipBy in the next 2 days") for need in needs)
    assert "stuck waiting for a seller's address" in needs


@pytest.mark.parametrize("need", sorted(guide_queries()))
async def test_each_guide_query_runs_on_the_server(
    time_skipping_env: WorkflowEnvironment, need: str
) -> None:
    query = guide_queries()[need]
    counted = await time_skipping_env.client.count_workflows(query)
    assert counted.count >= 0


async def test_the_stuck_seller_query_finds_a_return_waiting_for_its_address(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    query = guide_queries()["stuck waiting for a seller's address"]
    event = retract_event(seller_id=SELLER_WITHOUT_ADDRESS)
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(event)
        await harness.stage_reached(handle, ReturnStage.AWAITING_RETURN_ADDRESS)
        found: list[str] = []
        for _ in range(50):
            found = [w.id async for w in time_skipping_env.client.list_workflows(query)]
            if handle.id in found:
                break
            await asyncio.sleep(0.1)
        await handle.terminate("test over")

    assert return_id(event.order.order_id, "1") in found


def test_the_date_placeholders_are_iso_8601() -> None:
    for query in guide_queries().values():
        for stamp in re.findall(r'"(\d{4}-\d\d-\d\dT[^"]+)"', query):
            assert dt.datetime.fromisoformat(stamp).tzinfo is not None
