"""What a marketplace is told between two looks at a return: each change once, in the order
it happens in a return, numbered on from the last event; personal fields only in the events
that carry them."""

from __future__ import annotations

import datetime as dt

from domain.carriers import Label, ReturnMethod
from domain.feed import FeedEventType, webhook_body
from domain.returns import ReturnMethodChoice, ReturnStage
from tests.factories import retract_event
from workflows.feed_changes import changes, events, snapshot
from workflows.return_state import ReturnState

T = FeedEventType
NOTICE = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)


def told(state: ReturnState, before: object) -> list[FeedEventType]:
    found = changes(state, before, snapshot(state))  # type: ignore[arg-type]
    return [e.data.type for e in events(state, found, 1, NOTICE)]


def test_the_first_look_tells_that_the_return_started_with_its_customer() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))

    [started] = events(state, changes(state, None, snapshot(state)), 1, NOTICE)

    assert started.data.type is T.STARTED and started.sequence == 1
    assert started.event_id == f"{state.return_id}:1"
    personal = webhook_body(started, personal_data=True).data
    anonymous = webhook_body(started, personal_data=False).data
    assert personal["customer"]["email"] == state.event.customer.email
    assert "customer" not in anonymous and anonymous["order_id"] == state.event.order.order_id


def test_nothing_changed_nothing_told() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))

    assert told(state, snapshot(state)) == []


def test_a_drop_off_chosen_and_dispatched_in_one_step_is_told_in_order() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.stage = ReturnStage.AWAITING_CUSTOMER_CHOICE
    before = snapshot(state)
    state.choice = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")
    state.label = Label(
        carrier="sandbox", label_id="LBL-1", tracking_number="SB000000001FR", created_at=NOTICE
    )
    state.stage = ReturnStage.DELIVERED  # picked up and delivered in one batch of scans

    assert told(state, before) == [T.METHOD_CHOSEN, T.LABEL_CREATED, T.PICKED_UP, T.DELIVERED]


def test_attention_is_told_when_it_is_needed_and_when_it_is_resolved() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.stage = ReturnStage.AWAITING_CUSTOMER_CHOICE
    quiet = snapshot(state)
    state.attention.append("seller_unreachable")
    needing = snapshot(state)
    asked = told(state, quiet)
    state.attention.clear()

    assert asked == [T.NEEDS_ATTENTION]
    assert told(state, needing) == [T.ATTENTION_RESOLVED]


def test_events_are_numbered_on_from_the_last_one() -> None:
    state = ReturnState(retract_event(notice_at=NOTICE))
    state.stage = ReturnStage.EXPIRED
    found = changes(state, snapshot(ReturnState(retract_event(notice_at=NOTICE))), snapshot(state))

    [expired] = events(state, found, 7, NOTICE)

    assert expired.data.type is T.EXPIRED and expired.sequence == 7
    assert expired.event_id.endswith(":7") and expired.data.stage is ReturnStage.EXPIRED
