"""The return's own arithmetic, without a server: its ship-by and when its parcel is overdue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.base import Money
from domain.carriers import Label, Pickup, ReturnMethod, TrackingScan, TrackingStatus
from domain.eligibility import return_calendar
from domain.events import RetractEvent
from domain.money import refund_breakdown
from domain.returns import ReturnMethodChoice
from domain.timings import ReturnTimings
from tests.factories import HOME, retract_event
from tests.workflows.doubles import SANDBOX_OFFER
from workflows.return_state import ReturnState

UTC = dt.UTC
NOTICE = dt.datetime(2026, 11, 24, 10, 15, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def picked_on(day: dt.date, country: str = "FR") -> ReturnState:
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.timings = ReturnTimings(scan_overdue_after=dt.timedelta(hours=12))
    address = HOME.model_copy(update={"country_code": country})
    state.choice = ReturnMethodChoice(
        method=ReturnMethod.MAILBOX_PICKUP,
        carrier="sandbox",
        pickup_date=day,
        pickup_address=address if country != "FR" else None,
    )
    state.label = Label(
        carrier="sandbox", label_id="LBL-1", tracking_number="SB000000001FR", created_at=NOTICE
    )
    state.pickup = Pickup(
        carrier="sandbox",
        pickup_id="PU-1",
        pickup_date=day,
        deposit_before=dt.time(8),
        confirmation="CONF-1",
    )
    return state


def test_the_mailbox_deadline_is_08_00_where_the_mailbox_is() -> None:
    winter = picked_on(dt.date(2026, 12, 1))
    summer = picked_on(dt.date(2027, 6, 1))
    dublin = picked_on(dt.date(2026, 12, 1), country="IE")

    # Paris is UTC+1 in winter, UTC+2 in summer; Dublin is UTC in winter.
    assert winter.poll_at() == dt.datetime(2026, 12, 1, 7, tzinfo=UTC) + dt.timedelta(hours=12)
    assert summer.poll_at() == dt.datetime(2027, 6, 1, 6, tzinfo=UTC) + dt.timedelta(hours=12)
    assert dublin.poll_at() == dt.datetime(2026, 12, 1, 8, tzinfo=UTC) + dt.timedelta(hours=12)


def counting_in_days(event: RetractEvent) -> ReturnState:
    """A return with its customer's calendar, as its intake gives it."""
    state = ReturnState(event)
    state.calendar = return_calendar(event)
    return state


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.max, tzinfo=PARIS)


def test_the_ship_by_is_the_withdrawals_unless_the_address_came_late() -> None:
    """Withdrawn Tuesday 24 November: the 14 days run to the end of Tuesday 8 December."""
    on_file = counting_in_days(retract_event(notice_at=NOTICE))
    on_file.address_on_file = on_file.address_at_intake = True
    on_file.address_sent_at = NOTICE + dt.timedelta(seconds=3)
    asked = counting_in_days(retract_event(notice_at=NOTICE))
    asked.address_sent_at = NOTICE + dt.timedelta(days=15)  # Wednesday 9 December
    overridden = counting_in_days(retract_event(notice_at=NOTICE))
    overridden.address_on_file = True  # on file, but sent only once operations accepted it
    overridden.address_sent_at = NOTICE + dt.timedelta(days=13)  # Monday 7 December
    not_yet = counting_in_days(retract_event(notice_at=NOTICE))

    assert on_file.ship_by == end_of(dt.date(2026, 12, 8))
    assert not_yet.ship_by == end_of(dt.date(2026, 12, 8))
    assert asked.ship_by == end_of(dt.date(2026, 12, 23))
    assert overridden.ship_by == end_of(dt.date(2026, 12, 21))
    assert asked.expires_at == asked.ship_by + asked.timings.expiry_grace
    assert on_file.refund_due_by == end_of(dt.date(2026, 12, 8))


def test_a_deadline_on_a_weekend_or_holiday_moves_to_the_next_working_day() -> None:
    """Withdrawn Friday 11 December: the 14th day is Christmas Day, a Friday; the deadlines
    move past it and the weekend to the end of Monday 28 December."""
    notice = dt.datetime(2026, 12, 11, 15, 0, tzinfo=UTC)
    in_france = counting_in_days(retract_event(notice_at=notice))
    assert in_france.ship_by == end_of(dt.date(2026, 12, 28))
    assert in_france.refund_due_by == end_of(dt.date(2026, 12, 28))


def test_a_return_without_a_calendar_counts_in_instants_as_its_history_did() -> None:
    """A return whose intake held no calendar keeps the deadlines its history recorded."""
    recorded = ReturnState(retract_event(notice_at=NOTICE))
    recorded.address_sent_at = NOTICE + dt.timedelta(days=15)

    assert recorded.calendar is None
    assert recorded.refund_due_by == NOTICE + dt.timedelta(days=14)
    assert recorded.ship_by == NOTICE + dt.timedelta(days=29)


def scan_of(number: str, n: int) -> TrackingScan:
    return TrackingScan(
        carrier="sandbox",
        tracking_number=number,
        scan_id=f"SC-{n}",
        status=TrackingStatus.IN_TRANSIT,
        occurred_at=NOTICE + dt.timedelta(minutes=n),
        location="Lyon sorting centre",
    )


def test_a_return_keeps_200_scans_of_its_parcel_at_most_each_once() -> None:
    state = picked_on(dt.date(2026, 12, 1))
    taken = [state.take_scan(scan_of("SB000000001FR", n), hold=False) for n in range(210)]
    again = state.take_scan(scan_of("SB000000001FR", 3), hold=False)

    assert taken == [True] * 200 + [False] * 10
    assert len(state.scans) == 200 and again is False


def test_scans_before_the_number_is_known_are_held_20_at_most_then_taken() -> None:
    state = picked_on(dt.date(2026, 12, 1))
    state.choice, state.label = None, None  # nothing chosen yet: no parcel number
    held = [state.take_scan(scan_of("SB000000001FR", n), hold=True) for n in range(25)]
    state.take_scan(scan_of("SB000000001FR", 0), hold=True)  # a repeat is held once
    chosen = picked_on(dt.date(2026, 12, 1))  # then the customer chooses: the number is known
    state.choice, state.label = chosen.choice, chosen.label

    replayed = state.replay_unmatched_scans()

    assert held == [False] * 25, "held, not taken as the return's"
    assert [s.scan_id for s in replayed] == [f"SC-{n}" for n in range(20)]
    assert len(state.scans) == 20 and state.unmatched_scans == []


def test_the_label_withheld_is_the_one_the_refund_asked_for_whatever_the_choice_becomes() -> None:
    price = Money(amount=Decimal("6.25"), currency="EUR")
    state = ReturnState(retract_event())
    state.offers = [SANDBOX_OFFER.model_copy(update={"label_price": price})]
    state.choice = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")
    state.label = Label(
        carrier="sandbox",
        label_id="LBL-1",
        tracking_number="SB000000001FR",
        created_at=dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
    )
    owed_with_label = state.refund_owed
    state.refund_asked = refund_breakdown(state.event.order, state.label_withheld)
    state.label = None  # voided after the refund was asked for: nothing changes any more
    state.choice = None

    assert state.label_withheld == price
    assert state.refund_owed == owed_with_label == state.refund_asked.total
    unasked = ReturnState(retract_event())
    unasked.refund_asked = refund_breakdown(unasked.event.order)  # refunded before any label
    unasked.offers = state.offers
    unasked.choice = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")
    unasked.label = Label(
        carrier="sandbox",
        label_id="LBL-2",
        tracking_number="SB000000002FR",
        created_at=dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
    )
    assert unasked.label_withheld is None
