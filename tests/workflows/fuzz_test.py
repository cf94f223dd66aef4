"""Random sequences of messages and time jumps against `ReturnWorkflow`, checked at every step.

Each sequence starts a return (an ordinary one, one whose seller has no address on file, one
outside the window, one not shipped yet) and plays a seeded random mix of what its people,
carriers and clocks do: choices valid and not, changes of mind, reports, cancellations,
operations' actions, the carrier's scans of this parcel and of others, problem scans,
reminders, and time jumps of minutes to weeks. The carrier and the mail relay fail now and
then, decided from the seed and the request, so a sequence replays identically.

After every step, once the return is idle:

- no workflow task has failed (one that fails is retried: the return never comes to rest and
  the step names the failure; the history is read at the end of each sequence too);
- the stage agrees with the facts: a parcel the carrier has is never `expired`, `cancelled`
  nor `closed`; every stage change is one the transition table allows;
- a return that has ended without a parcel on its way has no live label or pickup, and a
  dispatched one none but the parcel's own, unless `NeedsAttention` says why (or operations
  closed its problems as handled outside returnflow);
- every update the return accepted has its entry in the timeline (its update ID);
- the `ShipBy` search attribute equals the status's `ship_by`.

    make test                                # FUZZ_SEQUENCES=300 (about a minute)
    make fuzz-workflow SEQUENCES=5000 [SEED=n]
    FUZZ_SEED=n FUZZ_ONLY=i pytest tests/workflows/fuzz_test.py -s   # replay one sequence
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import uuid
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from temporalio.client import (
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.failures import carrier_auth_failed, carrier_rejected
from domain import search_attributes as sa
from domain.calendar import next_pickup_date
from domain.carriers import ReturnMethod, TrackingStatus
from domain.events import OrderStatus
from domain.notices import NoticeRequest
from domain.returns import (
    ENDED_STAGES,
    AttentionAction,
    AttentionResolution,
    CancelRequest,
    ReturnAddressReply,
    ReturnMethodChoice,
    ReturnStage,
    ReturnStatus,
    ShipmentReport,
    ShippingReminder,
)
from domain.timings import ReturnTimings
from tests.factories import SELLER_ADDRESS, SELLER_WITHOUT_ADDRESS, retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, SANDBOX_OFFER, Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, failed_tasks, return_harness
from workflows.return_workflow import ReturnWorkflow
from workflows.transitions import successors

SEQUENCES = int(os.environ.get("FUZZ_SEQUENCES", "300"))
SEED = int(os.environ.get("FUZZ_SEED", "20261204"))
ONLY = os.environ.get("FUZZ_ONLY")
IN_FLIGHT = int(os.environ.get("FUZZ_IN_FLIGHT", "8"))
"""Sequences played at once, each on its own return."""
STEPS = (4, 12)
"""Steps per sequence, at least and at most."""

LOOP_REFUSALS = {"NotAccepted", "ChoiceRefused", "RetryFailed"}
"""Failure types of an update the return accepted and then refused when its turn came."""
DISPATCHED = {TrackingStatus.ACCEPTED, TrackingStatus.IN_TRANSIT, TrackingStatus.DELIVERED}


def _roll(*parts: str) -> int:
    """A number from the seed and the request, the same on every run."""
    return zlib.crc32(":".join((str(SEED), *parts)).encode())


def _carrier_faults(activity_name: str, key: str) -> ApplicationError | None:
    roll = _roll(activity_name, key) % 100
    if activity_name == "create_return_label" and roll < 8:
        return carrier_auth_failed("credentials refused (401)")
    if activity_name == "book_mailbox_pickup" and roll < 15:
        return carrier_rejected("no collection that day", "pickup_date")
    if activity_name in ("void_label", "cancel_pickup") and roll < 6:
        return carrier_rejected("already used")
    return None


def _undeliverable(notice: NoticeRequest) -> bool:
    return _roll("notice", notice.return_id, notice.kind, str(notice.revision)) % 100 < 4


@dataclass
class Played:
    """One sequence: its return, what it did, and what the return accepted."""

    index: int
    handle: ReturnHandle
    rng: random.Random
    offset: dt.timedelta = dt.timedelta(0)
    """How far the return's clock was moved ahead of the real one."""
    accepted: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    seen: Counter[str] = field(default_factory=Counter)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


# 300 sequences take about a minute: a second each is ample, and grows with the number.
@pytest.mark.timeout(120 + SEQUENCES)
async def test_random_sequences_keep_every_invariant(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(
        offers=[SANDBOX_OFFER, COUNTER_LABEL_POST],
        # A poll a day, not every 6 h: a jump of days with the parcel polled costs one real
        # round trip per poll (the server's clock waits for each attempt), and the polling's
        # paths are the same.
        timings=ReturnTimings(max_choice_changes=3, poll_interval=dt.timedelta(days=1)),
        faults=_carrier_faults,
        undeliverable_when=_undeliverable,
    )
    indices = [int(ONLY)] if ONLY is not None else list(range(SEQUENCES))
    outcomes: Counter[str] = Counter()
    async with return_harness(time_skipping_env.client, doubles) as harness:
        slots = asyncio.Semaphore(IN_FLIGHT)

        async def one(index: int) -> None:
            async with slots:
                played = await _play(harness, time_skipping_env, index)
                outcomes.update(played.seen)

        await asyncio.gather(*(one(i) for i in indices))

    # The sequences reached every kind of end, and both kinds of refusal: the test exercised
    # what it claims to check.
    if ONLY is None and SEQUENCES >= 300:
        for reached in ("stage:expired", "stage:cancelled", "stage:closed", "stage:picked_up"):
            assert outcomes[reached] > 0, (reached, outcomes)
        assert outcomes["refused:validator"] > 0 and outcomes["refused:loop"] > 0, outcomes
        assert outcomes["accepted"] > 0, outcomes


async def _play(harness: ReturnHarness, env: WorkflowEnvironment, index: int) -> Played:
    rng = random.Random(SEED * 100_003 + index)
    handle = await harness.start(_event(rng, f"ORD-FZ{SEED}-{index}"))
    played = Played(index, handle, rng)
    try:
        described = await _idle(handle)
        await _check(harness, played, described)
        for _ in range(rng.randint(*STEPS)):
            if described.status is not WorkflowExecutionStatus.RUNNING:
                break
            step = rng.choices(list(ACTIONS), weights=[w for w, _ in ACTIONS.values()])[0]
            played.log.append(step)
            await ACTIONS[step][1](harness, env, played)
            described = await _idle(handle)
            await _check(harness, played, described)
        assert await failed_tasks(handle) == []
    except BaseException as err:
        raise AssertionError(
            f"sequence {index} (FUZZ_SEED={SEED} FUZZ_ONLY={index}) after {played.log}: {err}"
        ) from err
    status = await handle.query(ReturnWorkflow.status)
    played.seen[f"stage:{status.stage}"] += 1
    return played


def _event(rng: random.Random, order_id: str) -> Any:
    """The sequence's withdrawal; its order ID comes from the seed too, so the carrier's and
    the relay's failures (decided from the return's keys) are the same on every run."""
    kind = rng.choices(["usual", "no_address", "late", "not_shipped"], weights=[70, 15, 10, 5])[0]
    if kind == "no_address":
        return retract_event(order_id=order_id, seller_id=SELLER_WITHOUT_ADDRESS)
    if kind == "late":
        return retract_event(order_id=order_id, ordered_days_before_notice=45)
    if kind == "not_shipped":
        return retract_event(order_id=order_id, status=OrderStatus.AWAITING_SHIPMENT)
    return retract_event(order_id=order_id)


# --- What the people, the carrier and the clocks do ----------------------------------------

Action = Callable[[ReturnHarness, WorkflowEnvironment, Played], Awaitable[None]]


async def _update(played: Played, update: Any, argument: Any) -> None:
    update_id = f"fuzz-{uuid.uuid4().hex[:12]}"
    try:
        await played.handle.execute_update(update, argument, id=update_id)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in LOOP_REFUSALS:
            played.accepted.append(update_id)
            played.seen["refused:loop"] += 1
        else:
            played.seen["refused:validator"] += 1
        return
    played.accepted.append(update_id)
    played.seen["accepted"] += 1


async def choose(_h: ReturnHarness, _e: WorkflowEnvironment, played: Played) -> None:
    rng = played.rng
    method = rng.choice(list(ReturnMethod))
    carrier = rng.choice(["sandbox", "colissimo", "pigeon-post"])
    pickup_date = None
    if method is ReturnMethod.MAILBOX_PICKUP:
        first = next_pickup_date(played.now())
        pickup_date = rng.choice([first, first + dt.timedelta(days=rng.randint(1, 20))])
    try:
        choice = ReturnMethodChoice(method=method, carrier=carrier, pickup_date=pickup_date)
    except ValueError:
        return
    await _update(played, ReturnWorkflow.choose_return_method, choice)


async def report(_h: ReturnHarness, _e: WorkflowEnvironment, played: Played) -> None:
    status = await played.handle.query(ReturnWorkflow.status)
    number = status.tracking_number or played.rng.choice(["6A12345678901", "SB000000001FR"])
    if played.rng.random() < 0.2:
        number = "6A99999999999"
    await _update(played, ReturnWorkflow.report_shipment, ShipmentReport(tracking_number=number))


async def cancel(_h: ReturnHarness, _e: WorkflowEnvironment, played: Played) -> None:
    await _update(played, ReturnWorkflow.cancel, CancelRequest(reason="changed my mind"))


async def operations(_h: ReturnHarness, _e: WorkflowEnvironment, played: Played) -> None:
    action = played.rng.choice(list(AttentionAction))
    address = SELLER_ADDRESS if action is AttentionAction.GIVE_ADDRESS else None
    resolution = AttentionResolution(
        action=action, by="operations:fuzz", reason="as the fuzz decides", address=address
    )
    await _update(played, ReturnWorkflow.resolve_attention, resolution)


async def give_address(_h: ReturnHarness, _e: WorkflowEnvironment, played: Played) -> None:
    reply = ReturnAddressReply(address=SELLER_ADDRESS, given_by="seller")
    await _update(played, ReturnWorkflow.provide_return_address, reply)


async def scan(harness: ReturnHarness, _e: WorkflowEnvironment, played: Played) -> None:
    status = await played.handle.query(ReturnWorkflow.status)
    rng = played.rng
    number = status.tracking_number
    if number is None or rng.random() < 0.15:
        number = rng.choice(["SB000000001FR", "SB000000002FR", "6A12345678901"])
    kind = rng.choices(
        [
            TrackingStatus.ACCEPTED,
            TrackingStatus.IN_TRANSIT,
            TrackingStatus.DELIVERED,
            TrackingStatus.EXCEPTION,
            TrackingStatus.PRE_TRANSIT,
        ],
        weights=[40, 15, 15, 15, 15],
    )[0]
    await harness.scan(played.handle, number, kind, at=played.now())


async def scanned_quietly(harness: ReturnHarness, _e: WorkflowEnvironment, played: Played) -> None:
    """The carrier scans the parcel but its webhook never comes: polling or the last look
    finds it."""
    status = await played.handle.query(ReturnWorkflow.status)
    if status.tracking_number is not None:
        harness.doubles.carrier_scanned(status.tracking_number)


async def remind(_h: ReturnHarness, _e: WorkflowEnvironment, played: Played) -> None:
    reminder = ShippingReminder(day=played.now().date(), origin="fuzz/sweep")
    await played.handle.signal(ReturnWorkflow.remind_to_ship, reminder)


async def wait(_h: ReturnHarness, env: WorkflowEnvironment, played: Played) -> None:
    hours = played.rng.choice([0.1, 2, 13, 24, 72, 7 * 24, 15 * 24])
    jump = dt.timedelta(hours=hours)
    played.offset += jump
    await env.fast_forward(played.handle, jump)


ACTIONS: dict[str, tuple[int, Action]] = {
    "choose": (30, choose),
    "report": (6, report),
    "cancel": (6, cancel),
    "operations": (10, operations),
    "give_address": (4, give_address),
    "scan": (17, scan),
    "scanned_quietly": (5, scanned_quietly),
    "remind": (5, remind),
    "wait": (17, wait),
}
"""Each step, with its weight in the draw."""


# --- The checks ------------------------------------------------------------------------------


async def _idle(handle: ReturnHandle, within: float = 20) -> WorkflowExecutionDescription:
    """Until the return has nothing in hand but a poll waiting for its next try."""
    async with asyncio.timeout(within):
        while True:
            described = await handle.describe()
            if described.raw_description.pending_workflow_task.attempt > 1:
                assert await failed_tasks(handle) == []  # names the failure
            raw = described.raw_description
            busy = described.status is WorkflowExecutionStatus.RUNNING and (
                raw.HasField("pending_workflow_task")
                or any(a.activity_type.name != "poll_parcel_scans" for a in raw.pending_activities)
            )
            if not busy:
                return described
            await asyncio.sleep(0.02)


async def _check(
    harness: ReturnHarness, played: Played, described: WorkflowExecutionDescription
) -> None:
    handle = played.handle
    # A workflow task that fails is retried: the return never comes to rest, `_idle` times out
    # at that step, and `failed_tasks` names the failure (the sequence's history is read
    # once at its end, which also catches a task that failed once and then went through).
    pending = described.raw_description.pending_workflow_task
    assert not described.raw_description.HasField("pending_workflow_task"), pending
    status: ReturnStatus = await handle.query(ReturnWorkflow.status)

    in_hands = [s for s in status.scans if s.status in DISPATCHED]
    if in_hands:
        assert status.stage not in ENDED_STAGES, f"dispatched yet {status.stage}"

    _check_transitions(status)

    labels, pickups = harness.doubles.live_for(handle.id)
    # Operations may close a return's problems as handled outside returnflow (a label voided
    # by phone): from then on, what the carrier double still holds is theirs.
    handled = any("problems left are handled" in e.event for e in status.timeline)
    if status.stage in ENDED_STAGES and not status.attention and not handled:
        assert (labels, pickups) == ([], []), f"{status.stage} with live {labels} {pickups}"
    if (
        in_hands
        and not status.attention
        and not handled
        and status.stage is not ReturnStage.PREPARING_SHIPMENT
    ):
        parcel = status.tracking_number
        assert all(label.tracking_number == parcel for label in labels), labels
        assert all(pickup == status.pickup for pickup in pickups), pickups

    recorded = {entry.update_id for entry in status.timeline if entry.update_id}
    missing = [u for u in played.accepted if u not in recorded]
    assert missing == [], f"accepted updates not in the timeline: {missing}"

    ship_by = described.typed_search_attributes.get(sa.SHIP_BY)
    assert ship_by == status.ship_by, (ship_by, status.ship_by)


def _check_transitions(status: ReturnStatus) -> None:
    for entry in status.timeline:
        before, arrow, after = entry.event.partition(" → ")
        if not arrow or entry.actor != "system":
            continue
        allowed = {str(s) for s in successors(_phase(before))}
        assert after in allowed, f"{before} → {after} is not in the transition table"


def _phase(name: str) -> Any:
    from workflows.transitions import TABLE

    return next(p for p in TABLE if str(p) == name)
