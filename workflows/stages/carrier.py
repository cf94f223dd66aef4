"""What a return undoes at the carrier (a pickup, a label), and the polling of its parcel: the
run loop's one activity in the background, whose answer is a fact the loop takes in turn."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.carriers.activities import CarrierActivities
    from domain.carriers import TrackingQuery, TrackingScan
    from domain.returns import AttentionReason
    from workflows import failures, policies
    from workflows.context import ReturnContext
    from workflows.return_state import ReturnState


UNDO_TIME_LIMITED = "carrier-undo-time-limited"
"""Patch: cancelling a pickup or voiding a label is tried for `UNDO_WITHIN` at most, then left
to operations; before, a carrier's outage held the return (its refund, its notices, its
expiry) for as long as it lasted."""

UNDO_WITHIN = dt.timedelta(hours=1)
"""How long a cancellation at the carrier is tried, retries included."""


async def undo(ctx: ReturnContext, activity: Callable[..., Any], thing: Any, what: str) -> None:
    """Cancel a pickup or void a label; one that cannot be undone, or not within `UNDO_WITHIN`,
    is for operations."""
    by = ctx.now() + UNDO_WITHIN if workflow.patched(UNDO_TIME_LIMITED) else None
    try:
        result = await ctx.carrier(activity, thing, by=by)
    except ActivityError as err:
        ctx.record(f"carrier:{thing.carrier}", f"{what} not cancelled: {failures.message(err)}")
        ctx.attention(AttentionReason.CARRIER_CANCELLATION_FAILED, True)
        return
    ctx.record(f"carrier:{thing.carrier}", f"{what} cancelled ({result.outcome})")


async def undo_shipment(ctx: ReturnContext) -> None:
    """Cancel the booked pickup and void every unused label, so nobody pays for them."""
    state = ctx.state
    if state.pickup is not None:
        pickup, state.pickup = state.pickup, None
        await undo(ctx, CarrierActivities.cancel_pickup, pickup, "pickup")
    if state.label is not None:
        label, state.label = state.label, None
        await undo(ctx, CarrierActivities.void_label, label, "label")
    await void_spare_label(ctx)


async def void_spare_label(ctx: ReturnContext) -> None:
    state = ctx.state
    if state.spare_label is not None:
        label, state.spare_label = state.spare_label, None
        await undo(ctx, CarrierActivities.void_label, label, "unused label")


def start_polling(ctx: ReturnContext, query: TrackingQuery) -> None:
    """Poll the carrier in the background; its answer is a fact the loop takes later."""
    ctx.polled_number = query.tracking_number
    ctx.poll_outcome = None
    ctx.record("system", "no scan yet: polling the carrier")
    ctx.polling = asyncio.create_task(_poll(ctx, query))


async def _poll(ctx: ReturnContext, query: TrackingQuery) -> None:
    try:
        scans = await workflow.execute_activity_method(
            CarrierActivities.poll_parcel_scans,
            query,
            **policies.POLLING.options(
                retry_policy=policies.polling(ctx.state.timings.poll_interval)
            ),
        )
    except ActivityError as err:
        if failures.cancelled(err):
            return
        ctx.poll_outcome = failures.message(err)
    else:
        ctx.poll_outcome = list(scans)
    ctx.polling = None
    ctx.wake()


def take_poll(ctx: ReturnContext) -> None:
    """The polling's answer: its new scans, or why it failed for good."""
    outcome, ctx.poll_outcome = ctx.poll_outcome, None
    if isinstance(outcome, str):
        # Kept as polled: this parcel is not polled again until a scan or operations step in.
        ctx.record("system", f"polling failed: {outcome}")
        ctx.attention(AttentionReason.CARRIER_POLLING_FAILED, True)
        return
    polled, ctx.polled_number = ctx.polled_number, None  # polled again on a later turn
    assert outcome is not None
    for scan in outcome:
        assert isinstance(scan, TrackingScan)
        if ctx.state.take_scan(scan, hold=False):
            ctx.record(f"carrier:{scan.carrier}", f"scan {scan.status}")
        elif polled is not None and scan.scan_id not in ctx.polled_past.get(polled, []):
            ctx.polled_past.setdefault(polled, []).append(scan.scan_id)


def tracking_query(
    state: ReturnState, polled_past: Mapping[str, Sequence[str]] | None = None
) -> TrackingQuery:
    """Ask the carrier for the scans of the return's parcel it has not told yet: neither those
    the return keeps nor those an earlier poll of it brought and it did not keep."""
    assert state.choice is not None and state.tracking_number is not None
    known = [s.scan_id for s in state.scans]
    past = (polled_past or {}).get(state.tracking_number, [])
    return TrackingQuery(
        carrier=state.choice.carrier,
        tracking_number=state.tracking_number,
        known_scan_ids=known + [scan_id for scan_id in past if scan_id not in known],
    )


def stop_polling(ctx: ReturnContext) -> None:
    if ctx.polling is not None and not ctx.polling.done():
        ctx.polling.cancel()
    ctx.polling = None
    ctx.polled_number = None
    ctx.poll_outcome = None
