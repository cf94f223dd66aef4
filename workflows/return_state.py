"""What a return knows about itself: the facts its run loop keeps, its clocks and its timeline;
the notices they make are `workflows.return_notices`.

Plain deterministic code. Only the run loop writes these facts, except for the ones a signal
records as it arrives (the carrier's scans, a reminder asked for), which the loop then acts on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.addresses import PostalAddress
from domain.base import Money
from domain.calendar import deposit_deadline
from domain.carriers import (
    CarrierCapability,
    CarrierOffer,
    CounterCode,
    Label,
    LabelCostBearer,
    Parcel,
    Pickup,
    PickupRequest,
    ReturnMethod,
)
from domain.events import RetractEvent
from domain.ids import return_id
from domain.inspection import Claim, InspectionReport
from domain.money import RefundBreakdown, refund_breakdown
from domain.notices import NoticeKind, NoticeRequest
from domain.periods import LegalCalendar, period_end
from domain.returns import (
    REFUND_DAYS,
    REFUND_PERIOD,
    SHIPPING_DAYS,
    SHIPPING_PERIOD,
    AttentionReason,
    EligibilityDecision,
    Refund,
    RefundReason,
    ReturnMethodChoice,
    ReturnStage,
    ShippingReminder,
    TimelineEntry,
)
from domain.timings import ReturnTimings
from workflows.parcel_scans import ParcelScans
from workflows.return_notices import notice_request

MAX_PENDING_REMINDERS = 3
"""Reminder requests waiting for the loop: one a day is sent, the rest are noise."""

CHOICE_PROBLEMS = frozenset(
    {
        AttentionReason.CARRIER_REJECTED_REQUEST,
        AttentionReason.SHIPMENT_PREPARATION_FAILED,
        AttentionReason.CARRIER_CREDENTIALS_REFUSED,
        AttentionReason.CARRIER_NOT_ANSWERING,
        AttentionReason.CHOICE_CHANGES_EXHAUSTED,
    }
)
"""Reasons about the customer's choice: a retry of the refused choice answers them, a choice
that goes through clears them, and they are moot once the parcel has left or the return ended."""

SHIPMENT_NOTICES = (
    NoticeKind.RETURN_LABEL,
    NoticeKind.COUNTER_CODE,
    NoticeKind.COUNTER_INSTRUCTIONS,
)
"""The emails that tell how to send the parcel: a new choice, or the end, makes earlier ones
moot."""

METHOD_NEEDS_LABEL = frozenset({ReturnMethod.MAILBOX_PICKUP, ReturnMethod.POST_OFFICE_DROP_OFF})


@dataclass(frozen=True)
class UnansweredCall:
    """A carrier call of a choice that went unanswered within the bound: what it asked may
    exist at the carrier, under this idempotency key."""

    step: str
    carrier: str
    key: str
    pickup: PickupRequest | None = None
    """For a pickup: what was asked, to ask it again under its key and learn what it booked."""


class ReturnState(ParcelScans):
    """The facts of one return. Holds personal data (customer, addresses): never log it."""

    def __init__(self, event: RetractEvent) -> None:
        self.event = event
        self.return_id = return_id(event.order.order_id, event.order.line_id)
        self.stage = ReturnStage.CHECKING_ELIGIBILITY
        self.decision: EligibilityDecision | None = None
        self.timings = ReturnTimings()
        """Replaced by the worker's settings when the return starts."""
        self.calendar: LegalCalendar | None = None
        """The customer's working days, from the intake: the legal periods are counted in them
        (a return whose intake had none counts them as instants, as its history recorded)."""
        self.offers: list[CarrierOffer] = []

        # The seller's address.
        self.return_address: PostalAddress | None = None
        self.address_on_file = False
        self.address_at_intake = False
        """The address email went out as the return was accepted, with the withdrawal."""
        self.address_requested_at: dt.datetime | None = None
        self.seller_reminded = False
        self.escalated = False
        self.seller_asks = 0
        self.address_sent_at: dt.datetime | None = None
        self.rejected_at: dt.datetime | None = None
        self.intake_patched = False
        """The return took the patch `review-refund-deadline-silent-carriers` as it started (a
        return started on a build without it keeps the rules its history recorded): the refund
        deadline runs whatever the seller does (operations decide before it on a return still
        without the seller's address; it is requested at the deadline when no parcel could
        leave, or when the marketplace's collection is still to come); a parcel on a carrier
        without tracking webhooks is polled even if nobody reports it sent, and no carrier is
        polled that cannot be; an unknown order status awaits operations' review."""
        self.label_prices_patched = False
        """The return took the patch `label-prices` as it started: the carriers quote their
        label's price once the seller's address is known, the address email shows it, and the
        customer's refund is less the label they chose when they pay for it."""
        self.refund_ahead_patched = False
        """The return took the patch `refund-requested-ahead-of-deadline` as it started: a
        refund the deadline calls for is requested `timings.refund_request_ahead` before it,
        not at its last moment, when the order service could no longer pay it in time."""
        self.refund_decision_asked = False
        self.reviews_asked = 0
        """Emails to operations about a return awaiting their review (the first, then one per
        review period)."""

        # The customer's choice: what is committed, and what is left over.
        self.choice: ReturnMethodChoice | None = None
        self.label: Label | None = None
        self.pickup: Pickup | None = None
        self.counter_code: CounterCode | None = None
        self.spare_label: Label | None = None
        """A label made for a choice that did not go through: reused by the next choice with
        the same carrier, voided once a choice goes through without it or the return ends."""
        self.choice_revision = 0
        self.choice_changes = 0
        """Changes of mind after a first choice went through (capped)."""
        self.unanswered_choices = 0
        """Choices in a row the carrier did not answer within the bound."""
        self.unanswered: list[UnansweredCall] = []
        self.refused_choice: ReturnMethodChoice | None = None
        """The last choice that could not be prepared: operations may retry it."""
        self.shipment_ready_at: dt.datetime | None = None
        """When the label, pickup or code of the committed choice was handed over."""
        self.shipment_email_held: tuple[NoticeKind, str] | None = None
        """The committed choice's email (its kind and carrier) not sent because a cancel or a
        close was queued behind it: sent if that ending is refused in its turn."""
        self.reported_tracking_number: str | None = None
        self.reported_at: dt.datetime | None = None

        # The carrier's feed (`ParcelScans`), and a parcel sent late.
        ParcelScans.__init__(self)
        self.late_parcel: str | None = None
        """The tracking number an expired return listens for, until `late_watch_ends`."""
        self.late_watch_ends: dt.datetime | None = None

        # After the proof of dispatch: the parcel to the seller, and what came back.
        self.following = False
        """The return follows its parcel to the seller and its inspection (a return started on
        a build without this ends at the refund, as its history recorded)."""
        self.dispatched_at: dt.datetime | None = None
        self.delivered_at: dt.datetime | None = None
        self.inspection_due_by: dt.datetime | None = None
        self.inspection_report: InspectionReport | None = None
        self.deduction_decision: str | None = None
        self.deduction_decided_by: str | None = None
        self.claim: Claim | None = None

        # Money, notices, reminders.
        self.refund: Refund | None = None
        self.refund_reason: RefundReason | None = None
        self.refund_asked: RefundBreakdown | None = None
        """The refund as requested, part by part: what is owed from then on, whatever the
        choice becomes."""
        self.notice_counts: dict[NoticeKind, int] = {}
        self.failed_notices: list[NoticeRequest] = []
        """Notices the relay refused for good: operations may retry them."""
        self.reminder_requests: list[tuple[ShippingReminder, bool]] = []
        """The shipping reminders asked for, each with whether it came while the shipment was
        being prepared."""
        self.reminders_not_taken: list[ShippingReminder] = []
        """Requests that came while `MAX_PENDING_REMINDERS` waited: recorded by the loop, not
        acted on (as many as could wait, kept)."""
        self.reminded_on: dt.date | None = None
        self.reminders_sent = 0
        self.last_reminder_at: dt.datetime | None = None

        # How it stands.
        self.expiring = False
        self.finished = False
        """The return has reached its end; it completes once no reason for attention is left."""
        self.problem: str | None = None
        self.attention: list[str] = []
        """Why operations are needed; a list, not a set, so its order is deterministic."""
        self.timeline: list[TimelineEntry] = []

    # --- Deadlines -----------------------------------------------------------------------

    @property
    def notice_at(self) -> dt.datetime:
        return self.event.occurred_at

    def days_after(self, event_at: dt.datetime, days: int, instants: dt.timedelta) -> dt.datetime:
        """The end of a period of `days` days started at `event_at`, in the customer's days
        (Regulation 1182/71); as `event_at + instants` for a return without a calendar."""
        if self.calendar is None:
            return event_at + instants
        return period_end(event_at, days, self.calendar)

    @property
    def ship_by(self) -> dt.datetime:
        """The effective shipping deadline: the end of the 14 days after the withdrawal
        (Art. 14(1)), and never before the end of the 14 days after a return address that
        reached the customer late (one not on file, asked of the seller). The emails, the
        pickup rule, the `ShipBy` search attribute, the reminder sweep and the expiry all use
        this one. A return accepted only once operations overrode its rejection gets its 14
        days from the address email too."""
        legal = self.days_after(self.notice_at, SHIPPING_DAYS, SHIPPING_PERIOD)
        if self.address_at_intake or self.address_sent_at is None:
            return legal
        late = self.days_after(self.address_sent_at, SHIPPING_DAYS, SHIPPING_PERIOD)
        return max(legal, late)

    @property
    def refund_due_by(self) -> dt.datetime:
        """Art. 13(1): the end of the 14 days after the withdrawal notice."""
        return self.days_after(self.notice_at, REFUND_DAYS, REFUND_PERIOD)

    @property
    def refund_request_at(self) -> dt.datetime:
        """When a refund the deadline calls for is requested: ahead of the deadline, for the
        order service to pay it within it."""
        if not self.refund_ahead_patched:
            return self.refund_due_by
        return self.refund_due_by - self.timings.refund_request_ahead

    @property
    def refund_decision_at(self) -> dt.datetime:
        """When operations are asked to decide on a return still without the seller's
        address: some days before the refund deadline."""
        return self.refund_due_by - self.timings.refund_decision_before

    @property
    def delivery_overdue_at(self) -> dt.datetime | None:
        """When a parcel on its way to the seller, not delivered yet, is taken as lost."""
        if not self.following or self.dispatched_at is None or self.delivered_at is not None:
            return None
        return self.dispatched_at + self.timings.delivery_overdue

    def delivery_poll_at(self) -> dt.datetime | None:
        """When the carrier is asked for the delivery of a parcel on its way to the seller, on
        a carrier that sends no tracking webhooks (and can be polled)."""
        if not self.following or not self.intake_patched or self.dispatched_at is None:
            return None
        if self.delivered_at is not None:
            return None
        capabilities = self.carrier_capabilities()
        silent = CarrierCapability.TRACKING_WEBHOOK not in capabilities
        if not silent or CarrierCapability.TRACKING_POLLING not in capabilities:
            return None
        return self.dispatched_at + self.timings.scan_overdue_after

    @property
    def refund_owed(self) -> Money:
        """What the customer is refunded (Art. 13(1)): the price and the standard delivery,
        less the label they pay for."""
        if self.refund_asked is not None:
            return self.refund_asked.total
        return refund_breakdown(self.event.order, self.label_withheld).total

    @property
    def label_withheld(self) -> Money | None:
        """The price of the label (or counter code) the marketplace bought for the customer's
        choice, as quoted before they chose (Art. 14(1)): none when the seller pays for labels,
        none was bought, or no price was shown; once the refund is requested, what it
        withheld."""
        if self.refund_asked is not None:
            return self.refund_asked.label
        if self.timings.label_paid_by is not LabelCostBearer.CUSTOMER or self.choice is None:
            return None
        if self.label is None and self.counter_code is None:
            return None
        offer = self.offer(self.choice.carrier)
        return offer.label_price if offer is not None else None

    @property
    def expires_at(self) -> dt.datetime:
        """When an unshipped return ends: the ship-by plus the grace."""
        return self.ship_by + self.timings.expiry_grace

    @property
    def rejection_review_ends(self) -> dt.datetime | None:
        return self.rejected_at + self.timings.rejection_review if self.rejected_at else None

    @property
    def review_reminder_at(self) -> dt.datetime | None:
        """When operations are next reminded of a return awaiting their review."""
        if self.rejected_at is None or self.reviews_asked == 0:
            return None
        return self.rejected_at + self.reviews_asked * self.timings.rejection_review

    @property
    def seller_reminder_at(self) -> dt.datetime | None:
        asked = self.address_requested_at
        return asked + self.timings.seller_reminder_after if asked else None

    @property
    def escalation_at(self) -> dt.datetime | None:
        reminder = self.seller_reminder_at
        return reminder + self.timings.escalate_after if reminder else None

    # --- The parcel ----------------------------------------------------------------------

    @property
    def tracking_number(self) -> str | None:
        """The parcel of the committed choice: a label made for another try is not it."""
        if self.choice is None:
            return None
        if self.late_parcel is not None:
            return self.late_parcel  # expired, its label voided: a parcel sent late may carry it
        if self.choice.method is ReturnMethod.POST_OFFICE_COUNTER:
            if self.counter_code:
                return self.counter_code.tracking_number
            return self.reported_tracking_number
        return self.label.tracking_number if self.label else None

    def poll_at(self) -> dt.datetime | None:
        """When the carrier is asked, if no scan has come by then; None when nothing to ask.

        From the pickup's deposit time, or from the customer's report; on a carrier that sends
        no tracking webhooks, from when the label or code was handed over (a drop-off nobody
        reports is found all the same). Never on a carrier that cannot be polled."""
        if self.tracking_number is None or self.choice is None:
            return None
        capabilities = self.carrier_capabilities()
        if self.intake_patched and CarrierCapability.TRACKING_POLLING not in capabilities:
            return None
        overdue = self.timings.scan_overdue_after
        if self.pickup is not None and self.choice.method is ReturnMethod.MAILBOX_PICKUP:
            where = self.choice.pickup_address or self.event.customer.address
            return deposit_deadline(self.pickup, where.country_code) + overdue
        if self.reported_at is not None:
            return self.reported_at + overdue
        silent = CarrierCapability.TRACKING_WEBHOOK not in capabilities
        if self.intake_patched and silent and self.shipment_ready_at is not None:
            return self.shipment_ready_at + overdue
        return None

    @property
    def parcel(self) -> Parcel:
        product = self.event.order.product
        return Parcel(weight_grams=product.weight_grams, description=product.category.value)

    def offer(self, carrier: str) -> CarrierOffer | None:
        return next((o for o in self.offers if o.code == carrier), None)

    def carrier_capabilities(self) -> frozenset[CarrierCapability]:
        """What the carrier of the committed choice can do (nothing before a choice)."""
        offer = self.offer(self.choice.carrier) if self.choice is not None else None
        return offer.capabilities if offer is not None else frozenset()

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

    # --- Notices and the timeline --------------------------------------------------------

    def record(self, at: dt.datetime, actor: str, event: str, update_id: str | None = None) -> None:
        """Add to the timeline. `event` must not contain personal data."""
        self.timeline.append(TimelineEntry(at=at, actor=actor, event=event, update_id=update_id))

    def notice(self, kind: NoticeKind, **facts: object) -> NoticeRequest:
        """The next notice of `kind`, with every fact so far (`workflows.return_notices`)."""
        return notice_request(self, kind, **facts)
