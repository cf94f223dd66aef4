"""The carrier does its rounds on the sandbox clock: mailboxes are emptied at 08:00 on the
pickup day, and parcels move on along their journey without anyone asking."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from carrier_sandbox.rounds import next_step
from carrier_sandbox.server import SandboxServer
from domain.carriers import TrackingStatus
from tests.carrier_sandbox.builders import (
    MONDAY,
    SANDBOX,
    book_pickup,
    cancel_pickup,
    create_label,
    error_of,
    move_clock,
    scan,
    statuses,
    void_label,
)
from tests.carrier_sandbox.conftest import FAST_TICK, SettableClock

PARIS = dt.timezone(dt.timedelta(hours=2))  # summer time, as in June


def paris(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


@pytest.fixture
async def on_rounds(db_path: Path, clock: SettableClock) -> AsyncIterator[httpx.AsyncClient]:
    """A sandbox whose carriers do their rounds, ticking fast."""
    async with (
        SandboxServer(db_path, clock=clock, tick_seconds=FAST_TICK) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key}) as http,
    ):
        yield http


async def booked(client: httpx.AsyncClient, day: dt.date = MONDAY) -> dict[str, str]:
    label = await create_label(client, "return-O1001-1:label:1")
    pickup = await book_pickup(client, "return-O1001-1:pickup:1", label["label_id"], day)
    assert pickup.status_code == 201
    return {**label, "pickup_id": pickup.json()["pickup_id"]}


async def eventually(check: list[str], client: httpx.AsyncClient, number: str) -> list[str]:
    """The parcel's statuses once they equal `check` (a list), waiting for a few ticks."""
    seen: list[str] = []
    for _ in range(100):
        seen = await statuses(client, number)
        if seen == check:
            break
        await asyncio.sleep(FAST_TICK)
    return seen


async def test_the_clock_starts_at_the_base_clock_and_only_moves_forward(
    client: httpx.AsyncClient,
) -> None:
    start = (await client.get("/sandbox/clock")).json()
    moved = await move_clock(client, advance_seconds=3600)
    back = await client.post("/sandbox/clock", json={"now": "2025-06-14T09:00:00+02:00"})
    both = await client.post("/sandbox/clock", json={"advance_seconds": 1, "now": moved["now"]})
    naive = await client.post("/sandbox/clock", json={"now": "2025-06-20T09:00:00"})
    year_one = await client.post("/sandbox/clock", json={"now": "0001-01-01T00:30:00+01:00"})

    assert start == {"now": "2025-06-14T10:00:00+02:00", "offset_seconds": 0.0}
    assert moved == {"now": "2025-06-14T11:00:00+02:00", "offset_seconds": 3600.0, "scans": []}
    assert back.status_code == 422 and error_of(back)["field"] == "now"
    assert both.status_code == 422
    assert naive.status_code == 422 and error_of(naive)["field"] == "now"
    assert year_one.status_code == 422
    assert "only moves forward" in error_of(year_one)["message"]


async def test_the_clock_moves_to_a_time_and_stays_there_after_a_restart(
    db_path: Path, clock: SettableClock
) -> None:
    async with (
        SandboxServer(db_path, clock=clock, rounds=False) as first,
        httpx.AsyncClient(base_url=first.url) as http,
    ):
        await move_clock(http, now=paris(MONDAY, 9))

    async with (
        SandboxServer(db_path, clock=clock, rounds=False) as second,
        httpx.AsyncClient(base_url=second.url) as http,
    ):
        after = (await http.get("/sandbox/clock")).json()

    assert after["now"] == "2025-06-16T09:00:00+02:00"


async def test_a_scan_on_command_is_dated_by_the_sandbox_clock(client: httpx.AsyncClient) -> None:
    label = await create_label(client, "return-O1001-1:label:1")
    await move_clock(client, advance_seconds=2 * 86400)

    accepted = (await scan(client, label["tracking_number"])).json()

    assert accepted["occurred_at"] == "2025-06-16T10:00:00+02:00"


async def test_a_mailbox_pickup_is_collected_at_eight_on_its_day(
    on_rounds: httpx.AsyncClient,
) -> None:
    parcel = await booked(on_rounds)

    before = await move_clock(on_rounds, now=paris(MONDAY, 7, 59))
    at_eight = await move_clock(on_rounds, now=paris(MONDAY, 8, 0))

    assert before["scans"] == []
    assert [(s["status"], s["occurred_at"]) for s in at_eight["scans"]] == [
        ("accepted", "2025-06-16T08:00:00+02:00")
    ]
    tracked = (await on_rounds.get(f"{SANDBOX}/tracking/{parcel['tracking_number']}")).json()
    assert tracked["events"][0]["location"] == "Sandbox Post — mailbox round"


async def test_the_parcel_moves_on_along_its_journey_on_the_simulated_clock(
    on_rounds: httpx.AsyncClient,
) -> None:
    parcel = await booked(on_rounds)

    week_later = await move_clock(on_rounds, advance_seconds=7 * 86400)

    assert [(s["status"], s["occurred_at"]) for s in week_later["scans"]] == [
        ("accepted", "2025-06-16T08:00:00+02:00"),
        ("in_transit", "2025-06-16T14:00:00+02:00"),
        ("out_for_delivery", "2025-06-17T07:00:00+02:00"),
        ("delivered", "2025-06-17T11:00:00+02:00"),
    ]
    assert {s["tracking_number"] for s in week_later["scans"]} == {parcel["tracking_number"]}


async def test_the_rounds_run_on_their_own_as_time_passes(
    on_rounds: httpx.AsyncClient, clock: SettableClock
) -> None:
    parcel = await booked(on_rounds)

    clock.now = paris(MONDAY, 8, 5)  # the base clock moves: no one calls the sandbox

    assert await eventually(["accepted"], on_rounds, parcel["tracking_number"]) == ["accepted"]


async def test_a_parcel_dropped_off_moves_on_from_its_first_scan(
    on_rounds: httpx.AsyncClient,
) -> None:
    label = await create_label(on_rounds, "return-O1001-1:label:1")
    await scan(on_rounds, label["tracking_number"])  # at the post office counter, 10:00

    moved = await move_clock(on_rounds, advance_seconds=6 * 3600)

    assert [(s["status"], s["occurred_at"]) for s in moved["scans"]] == [
        ("in_transit", "2025-06-14T16:00:00+02:00")
    ]


async def test_the_round_passes_a_cancelled_pickup_and_a_voided_label_by(
    on_rounds: httpx.AsyncClient,
) -> None:
    cancelled = await booked(on_rounds)
    await cancel_pickup(on_rounds, cancelled["pickup_id"])
    voided = await create_label(on_rounds, "return-O1002-1:label:1")
    await book_pickup(on_rounds, "return-O1002-1:pickup:1", voided["label_id"], MONDAY)
    await void_label(on_rounds, voided["label_id"])

    moved = await move_clock(on_rounds, now=paris(MONDAY, 9))

    assert moved["scans"] == []


async def test_a_parcel_held_by_an_exception_waits_for_a_scan_on_command(
    on_rounds: httpx.AsyncClient,
) -> None:
    label = await create_label(on_rounds, "return-O1001-1:label:1")
    await scan(on_rounds, label["tracking_number"])
    await scan(on_rounds, label["tracking_number"], status="exception")

    moved = await move_clock(on_rounds, advance_seconds=3 * 86400)

    assert moved["scans"] == []


async def test_with_rounds_off_nothing_moves_on_its_own(client: httpx.AsyncClient) -> None:
    parcel = await booked(client)

    moved = await move_clock(client, advance_seconds=7 * 86400)

    assert moved["scans"] == []
    assert await statuses(client, parcel["tracking_number"]) == []


async def test_a_failing_round_does_not_stop_the_rounds(
    on_rounds: httpx.AsyncClient,
    db_path: Path,
    clock: SettableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    parcel = await booked(on_rounds)
    with sqlite3.connect(db_path) as db:  # a corrupt row: every round fails on it
        db.execute("UPDATE pickups SET pickup_date = '2025-02-30'")
    caplog.set_level(logging.ERROR, logger="carrier_sandbox.rounds")
    clock.now = paris(MONDAY, 9)
    async with asyncio.timeout(5):
        while not any(r.getMessage() == "carrier round failed" for r in caplog.records):
            await asyncio.sleep(FAST_TICK)

    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE pickups SET pickup_date = ?", (MONDAY.isoformat(),))

    assert await eventually(["accepted"], on_rounds, parcel["tracking_number"]) == ["accepted"]


@pytest.mark.parametrize(
    ("status", "at", "then", "due"),
    [
        ("accepted", "2025-06-16T08:00", "in_transit", "2025-06-16T14:00"),
        ("accepted", "2025-06-16T22:00", "in_transit", "2025-06-17T04:00"),
        ("in_transit", "2025-06-16T14:00", "out_for_delivery", "2025-06-17T07:00"),
        # Saturday 12 July 2025: no round on Sunday, nor on Bastille Day (Monday).
        ("in_transit", "2025-07-12T14:00", "out_for_delivery", "2025-07-15T07:00"),
        ("out_for_delivery", "2025-06-17T07:00", "delivered", "2025-06-17T11:00"),
    ],
)
def test_each_step_of_the_journey_is_due_at_its_time(
    status: str, at: str, then: str, due: str
) -> None:
    step = next_step(TrackingStatus(status), dt.datetime.fromisoformat(f"{at}:00+02:00"))

    assert step is not None
    assert (step[0].value, step[1].isoformat(timespec="minutes")) == (then, f"{due}+02:00")


@pytest.mark.parametrize("status", ["delivered", "exception", "returned_to_sender"])
def test_a_parcel_at_rest_has_no_next_step(status: str) -> None:
    assert next_step(TrackingStatus(status), dt.datetime.now(dt.UTC)) is None


async def test_the_clock_moved_across_the_end_of_summer_time_is_at_the_time_asked(
    db_path: Path,
) -> None:
    """Paris leaves summer time on 26 October 2025: a move to 08:30 on the 27th must land at
    08:30, after the 08:00 mailbox round, not at 07:30."""
    clock = SettableClock(dt.datetime(2025, 10, 24, 10, 0, tzinfo=dt.UTC))
    async with (
        SandboxServer(db_path, clock=clock, rounds=False) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url) as http,
    ):
        moved = await move_clock(http, now="2025-10-27T08:30:00+01:00")
        earlier = await http.post("/sandbox/clock", json={"now": "2025-10-27T08:00:00+01:00"})

    assert moved["now"] == "2025-10-27T08:30:00+01:00"
    assert earlier.status_code == 422 and error_of(earlier)["field"] == "now"


@pytest.mark.parametrize(
    "move",
    [
        {"now": "9999-12-31T20:00:00+00:00"},
        {"now": "9999-12-31T23:30:00-05:00"},
        {"advance_seconds": 10 * 366 * 86400},
    ],
    ids=["to-9999", "past-9999-in-utc", "ten-years-at-a-time"],
)
async def test_the_clock_goes_no_further_than_the_years_the_product_counts_in(
    db_path: Path, clock: SettableClock, move: dict[str, object]
) -> None:
    async with (
        SandboxServer(db_path, clock=clock, rounds=False) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key}) as http,
    ):
        for _ in range(8):  # ten years at a time reaches the limit in eight moves
            answer = await http.post("/sandbox/clock", json=move)
            if answer.status_code != 200:
                break
        dates = await http.get(
            f"{SANDBOX}/pickup-dates",
            params={"postal_code": "75011", "country_code": "FR"},
        )

    assert answer.status_code == 422 and error_of(answer)["field"] == "now"
    assert "no further than 2097-01-01" in error_of(answer)["message"]
    assert dates.status_code == 200, "the carrier still answers at the furthest time"
