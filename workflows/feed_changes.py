"""What a marketplace is told of a return: the events between two looks at its state.

Plain deterministic code. The run loop looks at the return after each step (`snapshot`); what
changed since the last look becomes events (`changes`), in the order they happen in a return,
so a step that does several things (accept and send the address; see the parcel picked up and
delivered in one batch of scans) tells each, in order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain.carriers import ReturnMethod
from domain.feed import (
    Accepted,
    AddressSent,
    AttentionResolved,
    Cancelled,
    Closed,
    CustomerContact,
    Delivered,
    EventData,
    Expired,
    FeedEvent,
    LabelCreated,
    MethodChosen,
    NeedsAttention,
    PickedUp,
    PickupBooked,
    RefundRequested,
    Rejected,
    Started,
    event_id,
)
from domain.returns import ReturnStage
from workflows.return_state import ReturnState

BEFORE_PICKUP = frozenset(
    {
        ReturnStage.CHECKING_ELIGIBILITY,
        ReturnStage.AWAITING_RETURN_ADDRESS,
        ReturnStage.AWAITING_CUSTOMER_CHOICE,
        ReturnStage.PREPARING_SHIPMENT,
        ReturnStage.AWAITING_PICKUP,
        ReturnStage.AWAITING_DROP_OFF,
        ReturnStage.AWAITING_COUNTER_DROP_OFF,
        ReturnStage.EXPIRED,
    }
)
"""Stages a parcel has not left from (an expired return's late parcel may still come)."""


@dataclass(frozen=True)
class Snapshot:
    """What the feed compares between two looks at a return."""

    stage: ReturnStage
    accepted: bool
    address_sent_at: dt.datetime | None
    choice: tuple[ReturnMethod, str, object] | None
    label_id: str | None
    pickup_id: str | None
    refund_id: str | None
    attention: tuple[str, ...]


def snapshot(state: ReturnState) -> Snapshot:
    decision = state.decision
    choice = state.choice
    return Snapshot(
        stage=state.stage,
        accepted=decision is not None and decision.accepted and not decision.cancellation,
        address_sent_at=state.address_sent_at,
        choice=(choice.method, choice.carrier, choice.pickup_date) if choice else None,
        label_id=state.label.label_id if state.label else None,
        pickup_id=state.pickup.pickup_id if state.pickup else None,
        refund_id=state.refund.refund_id if state.refund else None,
        attention=tuple(state.attention),
    )


Change = tuple[type[EventData], dict[str, Any]]


def changes(state: ReturnState, before: Snapshot | None, after: Snapshot) -> list[Change]:
    """The events between `before` (None: the return has just started) and `after`."""
    found: list[Change] = []
    if before is None:
        found.append((Started, _started(state)))
        before = Snapshot(ReturnStage.CHECKING_ELIGIBILITY, False, None, None, None, None, None, ())
    decision = state.decision
    if after.accepted and not before.accepted and decision is not None:
        clocks = {"ship_by": state.ship_by, "refund_due_by": state.refund_due_by}
        found.append((Accepted, clocks | {"overridden_by": decision.overridden_by}))
    stage_changed = after.stage != before.stage
    if stage_changed and after.stage is ReturnStage.REJECTED:
        why = decision.reason if decision is not None else None
        found.append((Rejected, {"reason": why.value if why is not None else None}))
    if after.address_sent_at is not None and after.address_sent_at != before.address_sent_at:
        found.append((AddressSent, {"expires_at": state.expires_at, "ship_by": state.ship_by}))
    choice, label, pickup, refund = state.choice, state.label, state.pickup, state.refund
    if choice is not None and after.choice != before.choice:
        found.append((MethodChosen, {"method": choice.method, "carrier": choice.carrier}))
    if label is not None and after.label_id != before.label_id:
        made = {"carrier": label.carrier, "label_id": label.label_id}
        found.append((LabelCreated, made | {"tracking_number": label.tracking_number}))
    if pickup is not None and after.pickup_id != before.pickup_id:
        where = (choice.pickup_address if choice else None) or state.event.customer.address
        booked: dict[str, Any] = {"carrier": pickup.carrier, "pickup_id": pickup.pickup_id}
        booked |= {"pickup_date": pickup.pickup_date, "pickup_address": where}
        found.append((PickupBooked, booked))
    if stage_changed:
        found.extend(_stage_events(state, before.stage, after.stage))
    if refund is not None and after.refund_id != before.refund_id:
        requested = {"refund_id": refund.refund_id, "amount": refund.amount}
        found.append((RefundRequested, requested | {"due_by": state.refund_due_by}))
    for reason in before.attention:
        if reason not in after.attention:
            found.append((AttentionResolved, {"reason": reason}))
    for reason in after.attention:
        if reason not in before.attention:
            found.append((NeedsAttention, {"reason": reason}))
    return found


def _started(state: ReturnState) -> dict[str, Any]:
    customer = state.event.customer
    return {
        "product_category": state.event.order.product.category,
        "notice_at": state.notice_at,
        "customer": CustomerContact(
            customer_id=customer.customer_id,
            name=customer.name,
            email=customer.email,
            locale=customer.locale,
        ),
    }


def _stage_events(state: ReturnState, before: ReturnStage, after: ReturnStage) -> list[Change]:
    choice = state.choice
    parcel = {
        "carrier": choice.carrier if choice else None,
        "tracking_number": state.tracking_number,
    }
    if after is ReturnStage.PICKED_UP:
        return [(PickedUp, parcel)]
    if after is ReturnStage.DELIVERED:
        # Picked up and delivered in one batch of scans: both are told.
        told: list[Change] = [(Delivered, parcel)]
        return [(PickedUp, parcel), *told] if before in BEFORE_PICKUP else told
    if after is ReturnStage.EXPIRED:
        return [(Expired, {})]
    if after in (ReturnStage.CANCELLED, ReturnStage.CANCELLED_BEFORE_SHIPMENT):
        return [(Cancelled, {"before_shipment": after is ReturnStage.CANCELLED_BEFORE_SHIPMENT})]
    if after is ReturnStage.CLOSED:
        return [(Closed, {})]
    return []


def events(
    state: ReturnState, found: list[Change], first_sequence: int, at: dt.datetime
) -> list[FeedEvent]:
    """The changes as events numbered from `first_sequence`, all at `at`."""
    order = state.event.order
    made = []
    for offset, (model, fields) in enumerate(found):
        sequence = first_sequence + offset
        stage = ReturnStage.CHECKING_ELIGIBILITY if model is Started else state.stage
        data = model(
            event_id=event_id(state.return_id, sequence),
            sequence=sequence,
            return_id=state.return_id,
            order_id=order.order_id,
            line_id=order.line_id,
            seller_id=order.seller_id,
            stage=stage,
            occurred_at=at,
            **fields,
        )
        made.append(FeedEvent(data=data))  # type: ignore[arg-type]
    return made
