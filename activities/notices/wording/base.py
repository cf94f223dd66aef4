"""What one language's wording of the notices consists of."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.carriers import ReturnMethod
from domain.events import DeviceCategory
from domain.inspection import InspectionOutcome
from domain.notices import NoticeKind
from domain.returns import AttentionAction, AttentionReason, RejectionReason


@dataclass(frozen=True)
class Wording:
    """Everything data-dependent a notice says, in one language.

    Subjects may use {product}, {order_id}, {line_id}, {return_id}, {carrier} and {attention};
    `reasons` {window_ends}; steps use {carrier}, {deposit_before}, {ship_by}, {pickup_date},
    {confirmation}; `packaging` {box} and {device}; `attention` {argument}.
    """

    subjects: Mapping[NoticeKind, str]
    accepted_return_address_subject: str
    """return_address that is also the acknowledgement of the withdrawal (Art. 11(3))."""
    replacement_label_subject: str
    """return_label of a later revision: the customer chose again."""
    refund_parts: str
    """A refund with its delivery part (Art. 13(1)): {total}, {goods}, {delivery}."""
    refund_less_label: str
    """A refund less the return label the customer pays for (Art. 14(1)): {total}, {owed}
    (what is owed before it, with its parts), {label}."""
    label_costs: Mapping[str, str]
    """The cost of a label the marketplace buys, shown with each way of sending that needs one
    (return_address): `customer` ({price}, withheld from the refund), `seller`, `free` (no
    price quoted, nothing withheld)."""
    own_expense: Mapping[str, str]
    """Who pays for sending the parcel back (return_address): `customer` (a label on offer has
    a price), `seller` (the seller pays for labels), `free` (no label on offer has a price)."""
    acknowledged_expense: Mapping[str, str]
    """Who pays for sending the parcel, as the acknowledgement says it before any label is
    offered: `customer` or `seller` (the policy's `label_paid_by`)."""
    reasons: Mapping[RejectionReason, str]
    devices: Mapping[DeviceCategory, str]
    next_steps: tuple[str, ...]
    """What follows an accepted withdrawal (acknowledgement, return_address that acknowledges)."""
    method_titles: Mapping[ReturnMethod, str]
    method_steps: Mapping[ReturnMethod, tuple[str, ...]]
    """How each way of sending works, before the customer has chosen (return_address)."""
    counter_steps_without_code: tuple[str, ...]
    """The counter option of a carrier whose counters print the label without a code."""
    packaging: tuple[str, ...]
    label_steps: Mapping[ReturnMethod, tuple[str, ...]]
    """What to do with the label, for a booked pickup or a drop-off (return_label)."""
    counter_steps: tuple[str, ...]
    """What to do with the counter code (counter_code)."""
    counter_label_steps: tuple[str, ...]
    """At the counter without a code: what to bring, what to report (counter_instructions)."""
    reminder_steps: Mapping[str, tuple[str, ...]]
    """What to do now, in a shipping_reminder, by `reminder_way`: `choose` (nothing chosen yet),
    a `ReturnMethod` value, `counter_without_code`, `pickup_today` or `pickup_passed`.
    {carrier}, {pickup_date}, {deposit_before} and {code} are filled in."""
    problem_steps: Mapping[str, tuple[str, ...]]
    """What to do after a carrier's problem scan (shipment_problem), by `problem_key`."""
    attention: Mapping[AttentionReason, str]
    """Why a return needs operations, by reason (the code's part before any ':')."""
    unknown_attention: str
    """A reason code this version cannot explain: {code}."""
    attention_actions: Mapping[AttentionAction, str]
    """What each `resolve_attention` action does."""
    inspection_outcomes: Mapping[InspectionOutcome, str]
    """What the seller found, as the customer reads it (deduction_approved)."""
