"""The visibility queries of the operations guide (docs/operations.md) run as written on a real
server, and find what they say they find."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.calendar import next_pickup_date
from domain.carriers import TrackingStatus
from domain.periods import calendar_for, period_end
from domain.returns import ActionResult, ReturnMethodChoice, ReturnStage
from tests.factories import SELLER_WITHOUT_ADDRESS, retract_event, unique_order_id
from tests.workflows.doubles import Doubles
from tests.workflows.harness import ReturnHandle, return_harness
from tests.workflows.lifecycle_test import DROP_OFF, mailbox_pickup
from workflows.return_workflow import ReturnWorkflow

DAY = dt.timedelta(days=1)

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def guide_queries() -> dict[str, str]:
    """The operations guide's table: what staff need → the query."""
    text = OPERATIONS.read_text(encoding="utf-8")
    section = text[text.index("## The operations guide\n") :]
    section = section[: section.index("\n## ", 1)]
    rows = re.findall(r"^\| ([^|]+?) \| `(.+)` \|$", section, flags=re.MULTILINE)
    return dict(rows)


def test_the_guide_has_the_queries_staff_need() -> None:
    needs = set(guide_queries())
    assert "returns needing attention" in needs
    assert any(need.startswith("unshipped, with ShipBy in the next 2 days") for need in needs)
    assert "stuck waiting for a seller's address" in needs


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Returns:
    """Returns in every state the guide's queries tell apart, started once for all of them."""

    ids: dict[str, str] = field(default_factory=dict)
    """name → workflow ID"""
    order_id: str = ""
    tracking_number: str = ""
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    next_ship_by: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    """The nearest shipping deadline to come, of the returns due soon."""


def withdrawn_for(
    now: dt.datetime, due: Callable[[dt.datetime], bool]
) -> tuple[dt.datetime, dt.datetime]:
    """The latest withdrawal notice at least 12 days ago whose shipping deadline (the end of
    the 14th day after it, moved past weekends and holidays) meets `due`, and that deadline:
    the customer of `retract_event` counts in French days."""
    calendar = calendar_for("FR", now - 40 * DAY, now)
    for days_ago in range(12, 40):
        notice = now - days_ago * DAY
        ship_by = period_end(notice, 14, calendar)
        if due(ship_by):
            return notice, ship_by
    raise AssertionError("no such withdrawal in the last 40 days")


@pytest.fixture(scope="module")
async def returns(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Returns]:
    env = time_skipping_env
    made = Returns()
    now = made.now.replace(microsecond=0)
    order = unique_order_id()
    # The next deadline to come (tomorrow's end, or Monday's on a weekend), and one just past.
    due_soon, made.next_ship_by = withdrawn_for(now, lambda ship_by: ship_by > now)
    overdue, _ = withdrawn_for(now, lambda ship_by: ship_by < now)
    # The carrier does not collect on the day after the first pickup day: the two returns
    # that ask for it need attention.
    first = next_pickup_date(now)
    holiday = next_pickup_date(dt.datetime.combine(first, dt.time(12), tzinfo=dt.UTC))
    doubles = Doubles(refused_pickup_dates={holiday})
    async with return_harness(env.client, doubles) as harness:

        async def start(name: str, stage: ReturnStage, **event_args: Any) -> ReturnHandle:
            handle = await harness.start(retract_event(**event_args))
            await harness.stage_reached(handle, stage)
            made.ids[name] = handle.id
            return handle

        async def choose(handle: ReturnHandle, choice: ReturnMethodChoice) -> ActionResult:
            return await handle.execute_update(ReturnWorkflow.choose_return_method, choice)

        choosing = ReturnStage.AWAITING_CUSTOMER_CHOICE
        flagged = await start("needs attention", choosing)
        with pytest.raises(WorkflowUpdateFailedError, match="Workflow update failed"):
            await choose(flagged, mailbox_pickup(day=holiday))
        ended_flagged = await start("needs attention, terminated", choosing)
        with pytest.raises(WorkflowUpdateFailedError, match="Workflow update failed"):
            await choose(ended_flagged, mailbox_pickup(day=holiday))
        await ended_flagged.terminate("handled by phone")

        await start("choosing, ship by tomorrow", choosing, notice_at=due_soon)
        await start("choosing, ship by in 14 days", choosing, notice_at=now)
        await start("choosing, ship by yesterday", choosing, notice_at=overdue)
        pickup = await start("pickup booked", choosing, order_id=order, line_id="1")
        booked = await choose(pickup, mailbox_pickup())
        assert booked.stage is ReturnStage.AWAITING_PICKUP and booked.tracking_number
        drop_off = await start(
            "drop-off, ship by tomorrow",
            choosing,
            order_id=order,
            line_id="2",
            notice_at=due_soon,
        )
        assert (await choose(drop_off, DROP_OFF)).stage is ReturnStage.AWAITING_DROP_OFF
        await start(
            "waiting for the seller's address",
            ReturnStage.AWAITING_RETURN_ADDRESS,
            seller_id=SELLER_WITHOUT_ADDRESS,
        )
        await start("rejected, in review", ReturnStage.REJECTED, ordered_days_before_notice=45)
        unknown = retract_event()
        unknown = unknown.model_copy(
            update={"order": unknown.order.model_copy(update={"status": "lost_in_warehouse"})}
        )
        handle = await harness.start(unknown)
        await harness.stage_reached(handle, ReturnStage.AWAITING_REVIEW)
        made.ids["awaiting review"] = handle.id
        closed = await start(
            "rejected, review over", ReturnStage.REJECTED, ordered_days_before_notice=45
        )
        await env.fast_forward(closed)
        assert (await closed.result()).stage is ReturnStage.REJECTED

        on_its_way = await start("on its way to the seller", choosing)
        sent = await choose(on_its_way, DROP_OFF)
        assert sent.tracking_number is not None
        await harness.scan(on_its_way, sent.tracking_number)
        await harness.in_transit(on_its_way)
        back = await start("back with the seller", choosing)
        returned = await choose(back, DROP_OFF)
        assert returned.tracking_number is not None
        await harness.scan(back, returned.tracking_number, TrackingStatus.DELIVERED)
        await harness.until_status(back, lambda s: s.inspection is not None)

        made.order_id, made.tracking_number = order, booked.tracking_number
        yield made
        for workflow_id in made.ids.values():
            with contextlib.suppress(RPCError):
                await env.client.get_workflow_handle(workflow_id).terminate("test over")


GUIDE_EXAMPLES: dict[str, Callable[[Returns], str]] = {
    "2026-11-24T00:00:00Z": lambda r: iso(r.now),
    # The end of the window: wide enough to hold the next deadline (two days but on weekends).
    "2026-11-26T00:00:00Z": lambda r: iso(
        max(r.now + 2 * DAY, r.next_ship_by + dt.timedelta(hours=1))
    ),
    "ORD-2026-10231": lambda r: r.order_id,
    "SB123456785FR": lambda r: r.tracking_number,
}
"""The guide's example values, and what staff would put in their place for these returns."""

FINDS = {
    "returns needing attention": {"needs attention", "awaiting review"},
    "unshipped, with ShipBy in the next 2 days (replace the dates)": {
        "choosing, ship by tomorrow",
        "drop-off, ship by tomorrow",
    },
    "unshipped past ShipBy (expiring soon)": {"choosing, ship by yesterday"},
    "stuck waiting for a seller's address": {"waiting for the seller's address"},
    "every return of an order": {"pickup booked", "drop-off, ship by tomorrow"},
    "a parcel a caller reads out": {"pickup booked"},
    "one carrier's pickups waiting": {"pickup booked"},
    "rejected, still open for review": {"rejected, in review"},
    "awaiting operations' review (order status unknown)": {"awaiting review"},
    "parcels on their way to the sellers": {"on its way to the seller"},
    "back with the seller, inspection or deduction pending": {"back with the seller"},
}


def test_every_query_of_the_guide_is_checked() -> None:
    assert set(FINDS) == set(guide_queries())


@pytest.mark.parametrize("need", sorted(FINDS))
async def test_each_guide_query_finds_exactly_its_returns(
    time_skipping_env: WorkflowEnvironment, returns: Returns, need: str
) -> None:
    query = guide_queries()[need]
    for example, ours in GUIDE_EXAMPLES.items():
        query = query.replace(example, ours(returns))
    by_id = {workflow_id: name for name, workflow_id in returns.ids.items()}
    found: set[str] = set()
    with contextlib.suppress(TimeoutError):  # visibility catches up within moments
        async with asyncio.timeout(10):
            while found != FINDS[need]:
                listed = time_skipping_env.client.list_workflows(query)
                found = {by_id[w.id] async for w in listed if w.id in by_id}
                await asyncio.sleep(0.1)

    assert found == FINDS[need], query


def test_the_date_placeholders_are_iso_8601() -> None:
    for query in guide_queries().values():
        for stamp in re.findall(r'"(\d{4}-\d\d-\d\dT[^"]+)"', query):
            assert dt.datetime.fromisoformat(stamp).tzinfo is not None
