"""What a return knows about itself, and what it tells the outside (status, notices, details).

Plain deterministic code, kept apart from the workflow's orchestration so that both stay short.
"""

from __future__ import annotations

import datetime as dt

from domain.addresses import PostalAddress
from domain.carriers import (
    CarrierCapability,
    CarrierOffer,
    CounterCode,
    Label,
    Parcel,
    Pickup,
    ReturnMethod,
    TrackingScan,
    TrackingStatus,
)
from domain.events import RetractEvent
from domain.ids import return_id
from domain.notices import NoticeKind, NoticeRequest
from domain.returns import (
    REFUND_PERIOD,
    REMINDABLE_STAGES,
    SHIPPING_PERIOD,
    EligibilityDecision,
    Refund,
    ReturnMethodChoice,
    ReturnStage,
    ReturnStatus,
    ReturnTimings,
    TimelineEntry,
)

IN_CARRIER_HANDS = frozenset(
    {
        TrackingStatus.ACCEPTED,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    }
)
"""A scan with one of these proves the carrier has the parcel, even if `accepted` is late."""

PROBLEM_SCANS = frozenset({TrackingStatus.EXCEPTION, TrackingStatus.RETURNED_TO_SENDER})
"""A scan telling that something went wrong with the parcel: a person has to act."""

MAX_UNMATCHED_SCANS = 20
MAX_SCANS = 200
"""A parcel has a few dozen scans at most; more is a feed gone wrong, not kept in history."""


class ReturnState:
    """The facts of one return. Holds personal data (customer, addresses): never log it."""

    def __init__(self, event: RetractEvent) -> None:
        self.event = event
        self.return_id = return_id(event.order.order_id, event.order.line_id)
        self.stage = ReturnStage.CHECKING_ELIGIBILITY
        self.decision: EligibilityDecision | None = None
        self.timings = ReturnTimings()
        """Replaced by the worker's settings when the return starts."""
        self.address_on_file = False
        self.address_requested_at: dt.datetime | None = None
        """When the seller was asked for the address (the seller chat's clocks run from it)."""
        self.address_sent_at: dt.datetime | None = None
        self.rejected_at: dt.datetime | None = None
        """When the return was rejected (its review period runs from it)."""
        self.reminded_on: dt.date | None = None
        """The day of the last shipping reminder taken (sent, or tried): one a day."""
        self.reminders_sent = 0
        self.last_reminder_at: dt.datetime | None = None
        self.reported_tracking_number: str | None = None
        self.reported_at: dt.datetime | None = None
        self.refund: Refund | None = None
        self.problem_scans: list[TrackingScan] = []
        """Problem scans not yet told to the customer."""
        self.notice_revisions: dict[NoticeKind, int] = {}
        self.failed_notices: list[NoticeRequest] = []
        """Notices the relay refused for good: operations may retry them."""
        self.refused_choice: ReturnMethodChoice | None = None
        """The last choice that could not be prepared: operations may retry it."""
        self.return_address: PostalAddress | None = None
        self.offers: list[CarrierOffer] = []
        self.choice: ReturnMethodChoice | None = None
        self.label: Label | None = None
        self.pickup: Pickup | None = None
        self.counter_code: CounterCode | None = None
        self.scans: list[TrackingScan] = []
        self.unmatched_scans: list[TrackingScan] = []
        self.problem: str | None = None
        self.attention: list[str] = []
        """Why operations are needed; a list, not a set, so its order is deterministic."""
        self.timeline: list[TimelineEntry] = []

    @property
    def ship_by(self) -> dt.datetime:
        return self.event.occurred_at + SHIPPING_PERIOD

    @property
    def refund_due_by(self) -> dt.datetime:
        return self.event.occurred_at + REFUND_PERIOD

    @property
    def expires_at(self) -> dt.datetime:
        """When an unshipped return ends: ShipBy plus the grace, and never less than the full
        shipping period after the seller's address reached the customer."""
        sent = self.address_sent_at or self.event.occurred_at
        return max(self.ship_by, sent + SHIPPING_PERIOD) + self.timings.expiry_grace

    @property
    def tracking_number(self) -> str | None:
        """The parcel of the current choice: a label made for an earlier try is not it."""
        if self.choice is None:
            return None
        if self.choice.method is ReturnMethod.POST_OFFICE_COUNTER:
            if self.counter_code:
                return self.counter_code.tracking_number
            return self.reported_tracking_number
        return self.label.tracking_number if self.label else None

    def poll_at(self) -> dt.datetime | None:
        """When the carrier is asked, if no scan has come by then; None when nothing to ask."""
        if self.tracking_number is None or self.choice is None:
            return None
        overdue = self.timings.scan_overdue_after
        if self.pickup is not None and self.choice.method is ReturnMethod.MAILBOX_PICKUP:
            deposit = dt.datetime.combine(
                self.pickup.pickup_date, self.pickup.deposit_before, tzinfo=dt.UTC
            )
            return deposit + overdue
        if self.reported_at is not None:
            return self.reported_at + overdue
        return None

    @property
    def parcel(self) -> Parcel:
        product = self.event.order.product
        return Parcel(weight_grams=product.weight_grams, description=product.category.value)

    def offer(self, carrier: str) -> CarrierOffer | None:
        return next((o for o in self.offers if o.code == carrier), None)

    def record(self, at: dt.datetime, actor: str, event: str) -> None:
        """Add to the timeline. `event` must not contain personal data."""
        self.timeline.append(TimelineEntry(at=at, actor=actor, event=event))

    def take_scan(self, scan: TrackingScan) -> bool:
        """Keep a scan of this return's parcel; False when it is a repeat or not ours (yet)."""
        if any(s.scan_id == scan.scan_id for s in self.scans) or len(self.scans) >= MAX_SCANS:
            return False
        if self.tracking_number is None or scan.tracking_number != self.tracking_number:
            # The scan may race the label's result: hold it until the tracking number is known.
            if self.tracking_number is None and len(self.unmatched_scans) < MAX_UNMATCHED_SCANS:
                self.unmatched_scans.append(scan)
            return False
        self.scans.append(scan)
        self.scans.sort(key=lambda s: s.occurred_at)
        if scan.status in PROBLEM_SCANS:
            self.problem_scans.append(scan)
        return True

    def replay_unmatched_scans(self) -> list[TrackingScan]:
        """Once the tracking number is known, take the scans that arrived before it."""
        held, self.unmatched_scans = self.unmatched_scans, []
        return [s for s in held if self.take_scan(s)]

    @property
    def dispatch_scan(self) -> TrackingScan | None:
        """The earliest scan proving the carrier has the parcel: the proof of dispatch."""
        return next((s for s in self.scans if s.status in IN_CARRIER_HANDS), None)

    @property
    def delivery_scan(self) -> TrackingScan | None:
        return next((s for s in self.scans if s.status is TrackingStatus.DELIVERED), None)

    def locator_carrier(self) -> str | None:
        """Whose post offices the address email lists: the customer's preferred carrier when
        offered with a locator, else the first offered with one."""
        with_locator = [
            o.code for o in self.offers if CarrierCapability.POST_OFFICE_LOCATOR in o.capabilities
        ]
        preferred = self.event.customer.preferred_carrier
        if preferred in with_locator:
            return preferred
        return with_locator[0] if with_locator else None

    def next_revision(self, kind: NoticeKind) -> int:
        """The revision of a notice going out again for new facts (a new label)."""
        self.notice_revisions[kind] = self.notice_revisions.get(kind, 1) + 1
        return self.notice_revisions[kind]

    def notice(self, kind: NoticeKind, **facts: object) -> NoticeRequest:
        """A notice with every fact this return has so far (`facts` add the moment's own)."""
        return NoticeRequest(
            kind=kind,
            return_id=self.return_id,
            customer=self.event.customer,
            order=self.event.order,
            ship_by=self.ship_by,
            decision=self.decision,
            return_address=self.return_address,
            carriers=self.offers,
            method=self.choice.method if self.choice else None,
            label=self.label,
            pickup=self.pickup,
            counter_code=self.counter_code,
            scan=self.dispatch_scan,
            expires_at=self.expires_at if self.address_sent_at else None,
            refund=self.refund,
            refund_due_by=self.refund_due_by,
            revision=self.notice_revisions.get(kind, 1),
            **facts,  # type: ignore[arg-type]
        )

    def reminder_refusal(self, day: dt.date, now: dt.datetime) -> str | None:
        """Why a shipping reminder for `day` is not sent now; None when it is to be sent.

        One a day: `day` is the reminder's calendar day in the reminder time zone, worked out
        by the sweep (outside the workflow, where the time zone database is). The workflow
        does not read zone files; it only checks that `day` is a real day for now — every
        zone's today is within a day of UTC's — and that it comes after the last reminder's.
        """
        if self.stage not in REMINDABLE_STAGES:
            return CANNOT_ACT.get(self.stage, f"the return has ended ({self.stage})")
        if self.dispatch_scan is not None:
            return "the carrier has the parcel"
        if self.reported_at is not None:
            return "the customer reported the parcel as sent"
        if abs((day - now.date()).days) > 1:
            return f"{day} is not today"
        if self.reminded_on is not None and day <= self.reminded_on:
            return f"already reminded on {self.reminded_on}"
        return None

    def take_reminder(self, day: dt.date) -> NoticeRequest:
        """The reminder of `day`, taken at once (a second signal for the day finds it taken);
        each reminder is a revision of its kind, so it has a Message-ID of its own."""
        kind = NoticeKind.SHIPPING_REMINDER
        self.reminded_on = day
        self.notice_revisions[kind] = self.notice_revisions.get(kind, 0) + 1
        return self.notice(
            kind, chosen_carrier=self.choice.carrier if self.choice else None, reminder_day=day
        )

    def status(self) -> ReturnStatus:
        order = self.event.order
        return ReturnStatus(
            return_id=self.return_id,
            order_id=order.order_id,
            line_id=order.line_id,
            seller_id=order.seller_id,
            product_category=order.product.category,
            stage=self.stage,
            notice_at=self.event.occurred_at,
            ship_by=self.ship_by,
            refund_due_by=self.refund_due_by,
            expires_at=self.expires_at if self.address_sent_at else None,
            refund=self.refund,
            eligibility=self.decision,
            carriers_offered=self.offers,
            method=self.choice.method if self.choice else None,
            carrier=self.choice.carrier if self.choice else None,
            label=self.label,
            pickup=self.pickup,
            counter_code=self.counter_code,
            tracking_number=self.tracking_number,
            scans=self.scans,
            problem=self.problem,
            attention=self.attention,
            timeline=self.timeline,
        )

    def summary(self) -> str:
        """The static summary shown in the Web UI's list: no personal data."""
        order = self.event.order
        return (
            f"Return of order {order.order_id} line {order.line_id} "
            f"({order.product.category.value}), seller {order.seller_id}"
        )

    def details(self) -> str:
        """Markdown for the Web UI: what the return waits for, and until when. No personal
        data: stages, times, IDs."""
        rows = [f"**Stage:** `{self.stage.value}` — {WAITING_FOR[self.stage]}"]
        until = self._until()
        if until:
            rows.append(f"**Until when:** {until}")
        rows.append(f"**Ship by:** {_at(self.ship_by)}")
        rows.append(f"**Refund due by:** {_at(self.refund_due_by)}")
        if self.refund:
            rows.append(f"**Refund:** `{self.refund.refund_id}` requested")
        if self.choice:
            rows.append(f"**Method:** {self.choice.method.value} with `{self.choice.carrier}`")
        if self.pickup:
            rows.append(f"**Pickup:** {self.pickup.pickup_date.isoformat()} before 08:00")
        if self.tracking_number:
            rows.append(f"**Tracking:** `{self.tracking_number}`")
        if self.problem:
            rows.append(f"**Problem:** {self.problem}")
        if self.reminders_sent and self.last_reminder_at:
            rows.append(
                f"**Last reminder:** {_at(self.last_reminder_at)} ({self.reminders_sent} sent)"
            )
        if self.attention:
            rows.append(f"**Needs attention:** {', '.join(self.attention)}")
        return "\n\n".join(rows)

    def _until(self) -> str | None:
        """Until when the stage waits, and what happens then."""
        timings = self.timings
        expiry = f"the return expires {_at(self.expires_at)} if the parcel is not sent by then"
        match self.stage:
            case ReturnStage.REJECTED if self.rejected_at:
                ends = self.rejected_at + timings.rejection_review
                return f"open for operations to override until {_at(ends)}, then it ends"
            case ReturnStage.AWAITING_RETURN_ADDRESS if self.address_requested_at:
                reminded = self.address_requested_at + timings.seller_reminder_after
                escalated = reminded + timings.escalate_after
                return (
                    f"as long as it takes: the seller is reminded {_at(reminded)}, operations "
                    f"are called in {_at(escalated)}; no shipping deadline runs before the "
                    "customer has the address"
                )
            case ReturnStage.AWAITING_CUSTOMER_CHOICE:
                return expiry
            case ReturnStage.AWAITING_PICKUP if self.pickup:
                day = self.pickup.pickup_date.isoformat()
                return f"pickup on {day} before 08:00{self._polled_from()}; {expiry}"
            case ReturnStage.AWAITING_DROP_OFF | ReturnStage.AWAITING_COUNTER_DROP_OFF:
                reported = f"reported sent{self._polled_from()}; " if self.reported_at else ""
                return reported + expiry
            case ReturnStage.PICKED_UP if self.refund is None:
                return (
                    f"the delivery to the seller, at the latest until {_at(self.refund_due_by)}: "
                    "the refund is requested then"
                )
        return None

    def _polled_from(self) -> str:
        poll_at = self.poll_at()
        return f"; the carrier is polled from {_at(poll_at)} if no scan comes" if poll_at else ""


WAITING_FOR: dict[ReturnStage, str] = {
    ReturnStage.CHECKING_ELIGIBILITY: "checking the return window.",
    ReturnStage.REJECTED: "not accepted as a return; open for operations to review.",
    ReturnStage.AWAITING_RETURN_ADDRESS: "waiting for the seller's return address.",
    ReturnStage.AWAITING_CUSTOMER_CHOICE: "waiting for the customer to choose how to ship.",
    ReturnStage.PREPARING_SHIPMENT: "asking the carrier for the label or code.",
    ReturnStage.AWAITING_PICKUP: "waiting for the carrier to collect from the mailbox.",
    ReturnStage.AWAITING_DROP_OFF: "waiting for the customer to drop the parcel off.",
    ReturnStage.AWAITING_COUNTER_DROP_OFF: "waiting for the customer to go to the counter.",
    ReturnStage.PICKED_UP: "the carrier has the parcel (proof of dispatch).",
    ReturnStage.DELIVERED: "the parcel is back with the seller.",
    ReturnStage.CANCELLED_BEFORE_SHIPMENT: "done: the order was cancelled before it shipped.",
    ReturnStage.CANCELLED: "done: the customer cancelled the return.",
    ReturnStage.EXPIRED: "done: the parcel was not sent in time.",
    ReturnStage.CLOSED: "done: closed by operations.",
}

CANNOT_ACT: dict[ReturnStage, str] = {
    ReturnStage.CHECKING_ELIGIBILITY: "the withdrawal is being checked",
    ReturnStage.REJECTED: "the withdrawal was not accepted",
    ReturnStage.AWAITING_RETURN_ADDRESS: "the customer has no return address yet",
    ReturnStage.PREPARING_SHIPMENT: "the carrier is preparing the shipment",
    ReturnStage.PICKED_UP: "the carrier has the parcel",
    ReturnStage.DELIVERED: "the parcel is back with the seller",
}
"""Why a shipping reminder is not sent in a stage where the customer cannot act (the others
have ended)."""


def _at(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


METHOD_NEEDS_LABEL = frozenset({ReturnMethod.MAILBOX_PICKUP, ReturnMethod.POST_OFFICE_DROP_OFF})
