"""Waiting for the parcel to leave: the customer's choice, the carrier's scans, polling when
they are late, problems the carrier reports, the shipping deadline."""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.exceptions import ActivityError

REPORTED_NUMBER_HELD_ONCE = "reported-number-held-once"
"""Patch: a reported tracking number another running return holds is refused."""
REPORTED_NUMBER_DESTINATION = "reported-number-destination"
"""Patch: a reported tracking number the carrier's data shows going elsewhere than the seller's
return address is refused."""

with workflow.unsafe.imports_passed_through():
    from activities.carriers.activities import CarrierActivities
    from activities.parcels import ParcelActivities
    from domain import search_attributes as sa
    from domain.carriers import ReturnMethod, TrackingQuery
    from domain.failures import FailureType
    from domain.notices import NoticeKind
    from domain.returns import RefundReason, ShipmentReport
    from workflows import admission, failures
    from workflows.context import Intent, ReturnContext
    from workflows.return_state import ReturnState
    from workflows.stages import carrier, dispatched, expiry, problems, refund


async def act(ctx: ReturnContext) -> bool:
    """In precedence order: the proof of dispatch, a problem to tell, the polling's answer,
    the expiry, the polling to start."""
    state = ctx.state
    if state.dispatch_scan is not None:
        await dispatched.enter(ctx)
        return True
    if state.problem_scans:
        await problems.tell(ctx)
        return True
    if ctx.poll_outcome is not None:
        carrier.take_poll(ctx)
        return True
    now = ctx.now()
    if now >= state.expires_at:
        await expiry.expire(ctx)
        return True
    collection = _collection_refund_at(state)
    if collection is not None and now >= collection:
        # Art. 13(3): the marketplace offered to collect the goods, so it may not withhold the
        # refund until they leave.
        ctx.record("system", "refund deadline reached before the booked collection: refunding")
        await refund.request(ctx, RefundReason.WITHDRAWAL)
        await ctx.notify(NoticeKind.REFUND_BEFORE_RETURN)
        return True
    poll_at = state.poll_at()
    if poll_at is not None and ctx.polled_number is None and now >= poll_at:
        assert state.choice is not None and state.tracking_number is not None
        carrier.start_polling(ctx, carrier.tracking_query(state, ctx.polled_past))
        return True
    return False


def wakes_at(ctx: ReturnContext) -> dt.datetime:
    state = ctx.state
    clocks = [state.expires_at, _collection_refund_at(state)]
    poll_at = state.poll_at()
    if poll_at is not None and ctx.polled_number is None:
        clocks.append(poll_at)
    return min(c for c in clocks if c is not None)


def _collection_refund_at(state: ReturnState) -> dt.datetime | None:
    """When the refund of a return whose collection the marketplace booked (a mailbox pickup)
    is requested, ahead of its deadline, while it is not requested yet."""
    booked = state.pickup is not None and state.choice is not None
    if not booked or not state.intake_patched or state.refund_reason is not None:
        return None
    assert state.choice is not None
    return state.refund_request_at if state.choice.method is ReturnMethod.MAILBOX_PICKUP else None


async def report(ctx: ReturnContext, intent: Intent) -> None:
    """The customer sent the parcel and gives the number on the receipt. The same number again
    is refused by the update's validator; it reaches the loop only in the histories of returns
    started before that (taken, it changes nothing)."""
    state = ctx.state
    report: ShipmentReport = intent.argument
    number = report.tracking_number.upper()
    if admission.reported_already(state, report):
        ctx.record("customer", "reported the parcel as sent again: nothing changes", intent)
        ctx.answer(intent, "already reported")
        return
    if state.tracking_number is None:
        held_once = workflow.patched(REPORTED_NUMBER_HELD_ONCE)
        # Taken before the local activity below (a replay may resolve it early).
        routed = workflow.patched(REPORTED_NUMBER_DESTINATION)
        if held_once:
            holders = await ctx.local(ParcelActivities.running_holders, number)
            if [h for h in holders if h != state.return_id]:
                # Its scans would prove another return's dispatch: it cannot prove this one's.
                refusal = f"tracking_number: {number} is another running return's parcel"
                ctx.refuse(intent, refusal)
                return
        if routed and not await _goes_to_the_seller(ctx, intent, number):
            return
    state.reported_at = ctx.now()
    ctx.record("customer", "reported the parcel as sent", intent)
    if state.tracking_number is None:
        state.reported_tracking_number = number
        ctx.set_stage(state.stage, sa.TRACKING_NUMBER.value_set(number))
        for scan in state.replay_unmatched_scans():
            ctx.record(f"carrier:{scan.carrier}", f"scan {scan.status}")
    ctx.refresh()
    ctx.answer(intent)


async def _goes_to_the_seller(ctx: ReturnContext, intent: Intent, number: str) -> bool:
    """Whether the reported parcel may prove this return's dispatch: not when the carrier's
    data shows it going elsewhere than the seller's return address. A carrier that does not
    show the parcel (yet), shows no destination, or does not answer in time leaves the number
    accepted unchecked (its scans still have to come)."""
    state = ctx.state
    assert state.choice is not None and state.return_address is not None
    code = state.choice.carrier
    query = TrackingQuery(carrier=code, tracking_number=number)
    by = ctx.now() + state.timings.carrier_answer_within
    try:
        destination = await ctx.carrier(CarrierActivities.parcel_destination, query, by=by)
    except ActivityError as err:
        # A number the carrier does not show yet (a counter receipt often appears hours
        # later) is kept: its scans, polled from now, still have to prove the dispatch.
        unknown = failures.failure_type(err) is FailureType.CARRIER_REJECTED
        why = f"{code} does not show the parcel yet" if unknown else failures.message(err)
        ctx.record("system", f"destination not checked: {why}")
        return True
    if destination is None:
        ctx.record("system", f"destination not checked: {code} does not show it")
        return True
    if not destination.reaches(state.return_address):
        ctx.refuse(
            intent,
            f"tracking_number: {code} shows the parcel {number} going elsewhere than the "
            "seller's return address",
        )
        return False
    ctx.record("system", "destination checked: the seller's return address")
    return True
