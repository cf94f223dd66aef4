"""The carrier's scans as a return keeps them: its own parcel's, once each, in time order;
others' held until the parcel's number is known; the proof of dispatch and the delivery read
from them; the polling of a parcel whose scan is late."""

from __future__ import annotations

import asyncio
import datetime as dt

from domain.carriers import CounterCode, Label, ReturnMethod, TrackingScan, TrackingStatus
from domain.returns import ReturnMethodChoice, ReturnStage
from domain.timings import ReturnTimings
from tests.factories import retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, DROP_OFF_ONLY, SANDBOX_OFFER
from tests.workflows.still_context import StillContext
from workflows.parcel_scans import MAX_SCANS, MAX_UNMATCHED_SCANS
from workflows.return_state import ReturnState
from workflows.stages import carrier, shipping

UTC = dt.UTC
NOTICE = dt.datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
NUMBER = "SB000000001FR"
HOUR = dt.timedelta(hours=1)


def dropping_off() -> ReturnState:
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.stage = ReturnStage.AWAITING_DROP_OFF
    state.timings = ReturnTimings(scan_overdue_after=dt.timedelta(hours=12))
    state.choice = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")
    state.label = Label(
        carrier="sandbox", label_id="LBL-1", tracking_number=NUMBER, created_at=NOTICE
    )
    return state


def at_the_counter() -> ReturnState:
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.stage = ReturnStage.AWAITING_COUNTER_DROP_OFF
    state.timings = ReturnTimings(scan_overdue_after=dt.timedelta(hours=12))
    state.choice = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="sandbox")
    return state


def scan(
    n: int,
    status: TrackingStatus = TrackingStatus.IN_TRANSIT,
    *,
    number: str = NUMBER,
    hours: int = 1,
) -> TrackingScan:
    return TrackingScan(
        carrier="sandbox",
        tracking_number=number,
        scan_id=f"SC-{n}",
        status=status,
        occurred_at=NOTICE + hours * HOUR,
    )


def test_the_parcels_scans_are_kept_once_each_in_the_order_they_happened() -> None:
    state = dropping_off()

    assert state.take_scan(scan(1, hours=5), hold=False)
    assert state.take_scan(scan(2, TrackingStatus.ACCEPTED, hours=2), hold=False)
    assert not state.take_scan(scan(1, hours=5), hold=False)

    assert [s.scan_id for s in state.scans] == ["SC-2", "SC-1"]
    assert state.dispatch_scan == scan(2, TrackingStatus.ACCEPTED, hours=2)
    assert state.delivery_scan is None


def test_a_scan_in_transit_proves_dispatch_when_the_acceptance_scan_is_missing() -> None:
    state = dropping_off()
    state.take_scan(scan(1, TrackingStatus.PRE_TRANSIT, hours=1), hold=False)
    assert state.dispatch_scan is None

    state.take_scan(scan(2, TrackingStatus.IN_TRANSIT, hours=3), hold=False)
    state.take_scan(scan(3, TrackingStatus.DELIVERED, hours=9), hold=False)

    assert state.dispatch_scan is not None and state.dispatch_scan.scan_id == "SC-2"
    assert state.delivery_scan is not None and state.delivery_scan.scan_id == "SC-3"


def test_a_problem_scan_is_kept_to_be_told() -> None:
    state = dropping_off()
    state.take_scan(scan(1, TrackingStatus.EXCEPTION), hold=False)
    state.take_scan(scan(2, TrackingStatus.RETURNED_TO_SENDER), hold=False)
    state.take_scan(scan(3, TrackingStatus.IN_TRANSIT), hold=False)

    assert [s.scan_id for s in state.problem_scans] == ["SC-1", "SC-2"]


def test_a_feed_gone_wrong_fills_no_history() -> None:
    state = dropping_off()
    for n in range(MAX_SCANS + 5):
        state.take_scan(scan(n), hold=False)

    assert len(state.scans) == MAX_SCANS


def test_another_parcels_scan_is_held_only_while_the_number_may_still_be_it() -> None:
    state = at_the_counter()

    assert not state.take_scan(scan(1, number="SB999999999FR"), hold=False)
    assert state.unmatched_scans == []
    assert not state.take_scan(scan(2, number="SB999999999FR"), hold=True)
    assert not state.take_scan(scan(2, number="SB999999999FR"), hold=True)
    assert [s.scan_id for s in state.unmatched_scans] == ["SC-2"]
    for n in range(3, MAX_UNMATCHED_SCANS + 10):
        state.take_scan(scan(n, number="SB999999999FR"), hold=True)
    assert len(state.unmatched_scans) == MAX_UNMATCHED_SCANS


def test_held_scans_are_taken_once_the_customer_reports_the_number() -> None:
    state = at_the_counter()
    state.take_scan(scan(1, TrackingStatus.ACCEPTED, number="SB555555555FR"), hold=True)
    state.take_scan(scan(2, number="SB777777777FR"), hold=True)

    state.reported_tracking_number = "SB555555555FR"
    taken = state.replay_unmatched_scans()

    assert [s.scan_id for s in taken] == ["SC-1"]
    assert [s.scan_id for s in state.scans] == ["SC-1"]
    assert state.unmatched_scans == []


def test_the_counter_codes_number_is_the_parcels_before_any_reported_one() -> None:
    state = at_the_counter()
    assert state.tracking_number is None
    state.reported_tracking_number = "SB555555555FR"
    assert state.tracking_number == "SB555555555FR"
    state.counter_code = CounterCode(
        carrier="sandbox",
        code="RC-1",
        tracking_number="SB444444444FR",
        expires_at=NOTICE + dt.timedelta(days=14),
    )
    assert state.tracking_number == "SB444444444FR"


def test_scans_after_the_end_are_kept_apart_once_and_a_few_at_most() -> None:
    state = dropping_off()

    assert state.take_late_scan(scan(1))
    assert not state.take_late_scan(scan(1))
    for n in range(2, MAX_UNMATCHED_SCANS + 10):
        state.take_late_scan(scan(n))

    assert len(state.late_scans) == MAX_UNMATCHED_SCANS
    assert not state.take_late_scan(scan(999))
    assert state.scans == []


def test_a_reported_parcel_is_polled_when_its_scan_is_overdue() -> None:
    state = at_the_counter()
    state.reported_tracking_number = "SB555555555FR"
    assert state.poll_at() is None  # reported without a time: nothing to count from

    state.reported_at = NOTICE
    assert state.poll_at() == NOTICE + dt.timedelta(hours=12)


def test_a_labelled_parcel_not_reported_nor_picked_up_is_never_polled() -> None:
    state = dropping_off()
    assert state.poll_at() is None

    state.choice = None
    state.reported_at = NOTICE
    assert state.poll_at() is None


def test_the_return_wakes_for_the_poll_or_the_expiry_whichever_is_first() -> None:
    state = at_the_counter()
    state.reported_tracking_number = "SB555555555FR"
    state.reported_at = NOTICE
    ctx = StillContext(state, NOTICE)

    assert shipping.wakes_at(ctx) == NOTICE + dt.timedelta(hours=12)
    ctx.polled_number = "SB555555555FR"  # being polled: only the expiry is left
    assert shipping.wakes_at(ctx) == state.expires_at
    state.reported_at = state.expires_at + HOUR
    ctx.polled_number = None
    assert shipping.wakes_at(ctx) == state.expires_at


def test_the_pollings_scans_are_taken_and_it_may_poll_again() -> None:
    state = dropping_off()
    ctx = StillContext(state, NOTICE)
    ctx.polled_number = NUMBER
    ctx.poll_outcome = [scan(1, TrackingStatus.ACCEPTED), scan(1, TrackingStatus.ACCEPTED)]

    carrier.take_poll(ctx)

    assert [s.scan_id for s in state.scans] == ["SC-1"]
    assert [(e.actor, e.event) for e in state.timeline] == [("carrier:sandbox", "scan accepted")]
    assert ctx.polled_number is None and ctx.poll_outcome is None


def test_a_polling_refused_for_good_raises_attention_and_is_not_repeated() -> None:
    state = dropping_off()
    ctx = StillContext(state, NOTICE)
    ctx.polled_number = NUMBER
    ctx.poll_outcome = "401 from the carrier"

    carrier.take_poll(ctx)

    assert state.attention == ["carrier_polling_failed"]
    assert [(e.actor, e.event) for e in state.timeline] == [
        ("system", "polling failed: 401 from the carrier")
    ]
    assert ctx.polled_number == NUMBER and ctx.poll_outcome is None


def test_the_polling_keeps_no_other_parcels_scan() -> None:
    state = dropping_off()
    ctx = StillContext(state, NOTICE)
    ctx.poll_outcome = [scan(1, number="SB999999999FR")]

    carrier.take_poll(ctx)

    assert state.scans == [] and state.unmatched_scans == [] and state.timeline == []


async def test_stopping_the_polling_cancels_it_and_forgets_what_it_asked() -> None:
    ctx = StillContext(dropping_off(), NOTICE)
    polling = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
    ctx.polling = polling
    ctx.polled_number = NUMBER
    ctx.poll_outcome = "late"

    try:
        carrier.stop_polling(ctx)
        await asyncio.sleep(0)  # the cancellation takes effect at the task's next step
        assert polling.cancelled()
    finally:
        polling.cancel()
    assert ctx.polling is None and ctx.polled_number is None and ctx.poll_outcome is None


def test_stopping_a_polling_that_is_not_running_only_forgets_what_it_asked() -> None:
    ctx = StillContext(dropping_off(), NOTICE)
    ctx.polled_number = NUMBER

    carrier.stop_polling(ctx)

    assert ctx.polling is None and ctx.polled_number is None


def test_an_unreported_parcel_on_a_carrier_without_webhooks_is_polled_from_its_label() -> None:
    state = dropping_off()
    state.intake_patched = True
    state.offers = [COUNTER_LABEL_POST]  # polled, sends no webhooks
    state.choice = ReturnMethodChoice(
        method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier=COUNTER_LABEL_POST.code
    )
    state.shipment_ready_at = NOTICE + HOUR

    assert state.poll_at() == NOTICE + HOUR + dt.timedelta(hours=12)


def test_a_carrier_with_webhooks_is_not_polled_for_an_unreported_parcel() -> None:
    state = dropping_off()
    state.intake_patched = True
    state.offers = [SANDBOX_OFFER]
    state.shipment_ready_at = NOTICE

    assert state.poll_at() is None
    state.reported_at = NOTICE + HOUR  # reported: polled from the report, as before
    assert state.poll_at() == NOTICE + HOUR + dt.timedelta(hours=12)


def test_a_carrier_that_cannot_be_polled_never_is() -> None:
    state = dropping_off()
    state.intake_patched = True
    state.offers = [DROP_OFF_ONLY]
    state.choice = ReturnMethodChoice(
        method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier=DROP_OFF_ONLY.code
    )
    state.shipment_ready_at = NOTICE
    state.reported_at = NOTICE

    assert state.poll_at() is None
