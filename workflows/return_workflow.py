"""`ReturnWorkflow`: one returned order line, from the withdrawal notice to the refund.

The run method walks the process of DESIGN.md §1; people act through updates (each with a
validator naming the bad field), machines through signals. Every wait also listens for the
end of the return (the customer cancels, operations close it), so nothing is ever stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, SearchAttributeUpdate, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.carriers.activities import CarrierActivities
    from activities.intake import IntakeActivities
    from activities.notices.activities import NoticeActivities
    from activities.orders import OrderActivities
    from activities.sellers.activities import SellerActivities
    from domain import search_attributes as sa
    from domain.addresses import PostalAddress
    from domain.calendar import pickup_date_problem
    from domain.carriers import (
        Cancellation,
        CarrierOffer,
        CounterCodeRequest,
        LabelRequest,
        PickupRequest,
        ReturnMethod,
        TrackingQuery,
        TrackingScan,
        tracking_number_problem,
    )
    from domain.events import RetractEvent
    from domain.ids import idempotency_key
    from domain.notices import NoticeBatch, NoticeKind, NoticeRequest, SellerChatKind
    from domain.notices import SellerChatMessage as ChatMessage
    from domain.returns import (
        AWAITING_SHIPMENT_STAGE,
        FINAL_STAGES,
        UNSHIPPED_STAGES,
        AttentionAction,
        AttentionResolution,
        CancelRequest,
        RefundReason,
        RefundRequest,
        RefundTrigger,
        RejectionReason,
        ReturnAddressReply,
        ReturnIntake,
        ReturnMethodChoice,
        ReturnStage,
        ReturnStatus,
        ShipmentReport,
        ShippingReminder,
    )
    from workflows import policies
    from workflows.return_state import METHOD_NEEDS_LABEL, ReturnState


# Why a return needs operations (`NeedsAttention`), as listed in its status.
MISSING_ADDRESS = "seller_return_address_missing"
CARRIER_CREDENTIALS = "carrier_credentials_refused"
CARRIER_REJECTED = "carrier_rejected_request"
SHIPMENT_FAILED = "shipment_preparation_failed"
UNDELIVERABLE_NOTICE = "notice_undeliverable"
CARRIER_EXCEPTION = "carrier_exception"
UNKNOWN_ORDER_STATUS = "eligibility_unknown_order_status"
POLLING_FAILED = "carrier_polling_failed"
REFUND_FAILED = "refund_request_failed"
UNDO_FAILED = "carrier_cancellation_failed"

_CHOICE_PROBLEMS = (CARRIER_REJECTED, SHIPMENT_FAILED)

SETTLE_ATTENTION_PATCH = "settle-attention-before-completing"
"""`workflow.patched` IDs, one per change of commands since the baseline histories."""


class _Ended(Exception):
    """The return was cancelled or closed while it waited: wind it down."""


@workflow.defn(
    # A start input that does not fit the event's schema fails the workflow with the field's
    # name at once, instead of failing its first task over and over.
    failure_exception_types=[ValidationError],
)
class ReturnWorkflow:
    @workflow.init
    def __init__(self, event: RetractEvent) -> None:
        self._state = ReturnState(event)
        self._choice_revision = 0
        self._seller_asks = 0
        self._changes = 0
        """Bumped when something the main loop plans around changed (tracking, problems)."""
        self._ending: tuple[ReturnStage, str, str] | None = None
        """(final stage, who, why) once the customer cancels or operations close."""
        self._override: tuple[str, str] | None = None
        self._polling: asyncio.Task[None] | None = None
        self._polled_number: str | None = None
        self._done = False
        self._settling = False
        """The return has ended but operations still have a problem to handle."""
        self._refund_reason: RefundReason | None = None
        """Set once the run has nothing left to wait for: late updates are refused."""

    @workflow.run
    async def run(self, event: RetractEvent) -> ReturnStatus:
        state = self._state
        self._ensure_search_attributes()
        self._record("customer", "withdrawal notice received")
        # One local activity for the four lookups of the start: one billable action.
        intake: ReturnIntake = await self._local(IntakeActivities.take_in, event)
        state.timings = intake.timings
        state.decision = intake.decision
        try:
            if state.decision.cancellation:
                await self._cancel_before_shipment()
            elif state.decision.accepted:
                await self._accepted(intake.return_address, intake.offers)
            elif await self._rejected():
                await self._accepted(*await self._lookups_after_override())
        except _Ended:
            await self._wind_down()
        await self._settle()
        self._done = True
        self._stop_polling()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return state.status()

    # --- The main path -------------------------------------------------------------------

    async def _lookups_after_override(self) -> tuple[PostalAddress | None, list[CarrierOffer]]:
        """What the intake does not read for a rejected return, read once it is accepted."""
        seller_id = self._state.event.order.seller_id
        address = await self._local(SellerActivities.get_seller_return_address, seller_id)
        offers = await self._local(CarrierActivities.list_carrier_offers)
        return address, offers

    async def _accepted(self, address: PostalAddress | None, offers: list[CarrierOffer]) -> None:
        state = self._state
        state.offers = offers
        self._record("system", "accepted as a return")
        if address is not None:
            state.return_address = address
            state.address_on_file = True
            self._record("system", "seller's return address found on file")
        else:
            await self._obtain_return_address()
        await self._hand_over_address()
        await self._until_dispatched()
        await self._after_dispatch()

    async def _obtain_return_address(self) -> None:
        """Ask the seller in the chat, remind them, then escalate to operations."""
        state, timings = self._state, self._state.timings
        state.address_requested_at = workflow.now()
        self._set_stage(ReturnStage.AWAITING_RETURN_ADDRESS)
        self._record("system", "no return address on file: asking the seller in the chat")
        # The acknowledgement cannot wait for the seller (Art. 11(3)).
        await self._notify(NoticeKind.ACKNOWLEDGEMENT)
        reply_by = workflow.now() + timings.seller_reminder_after + timings.escalate_after
        await self._ask_seller(SellerChatKind.ADDRESS_REQUEST, reply_by)
        given = lambda: state.return_address is not None  # noqa: E731
        if await self._wait(given, timings.seller_reminder_after):
            return
        await self._ask_seller(SellerChatKind.ADDRESS_REMINDER, reply_by)
        if await self._wait(given, timings.escalate_after):
            return
        self._record("system", "the seller has not answered: escalated to operations")
        self._attention(MISSING_ADDRESS, True)
        await self._notify(NoticeKind.OPERATIONS_ATTENTION, attention=MISSING_ADDRESS)
        await self._wait(given)

    async def _hand_over_address(self) -> None:
        state = self._state
        state.address_sent_at = workflow.now()
        self._set_stage(ReturnStage.AWAITING_CUSTOMER_CHOICE)
        await self._notify(
            NoticeKind.RETURN_ADDRESS,
            acknowledges=state.address_on_file,
            locator_carrier=state.locator_carrier(),
        )

    async def _until_dispatched(self) -> None:
        """Wait for the carrier to have the parcel: scans, polling when they are late, the
        shipping deadline, problems the carrier reports."""
        state = self._state
        while state.dispatch_scan is None:
            self._check_ending()
            if state.problem_scans:
                await self._tell_problem()
                continue
            now = workflow.now()
            if now >= state.expires_at:
                await self._expire()
                continue
            if self._polled_number not in (None, state.tracking_number):
                self._stop_polling()  # the customer changed their mind: another parcel
            poll_at = state.poll_at()
            deadline = state.expires_at
            if poll_at is not None and self._polled_number is None:
                if now >= poll_at:
                    self._start_polling()
                    continue
                deadline = min(deadline, poll_at)
            await self._wait(
                self._changed_or(lambda: state.dispatch_scan is not None), deadline - now
            )

    async def _after_dispatch(self) -> None:
        state = self._state
        scan = state.dispatch_scan
        assert scan is not None
        self._stop_polling()
        self._record(f"carrier:{scan.carrier}", f"parcel in the carrier's hands ({scan.status})")
        delivered = state.delivery_scan is not None
        self._set_stage(
            ReturnStage.DELIVERED if delivered else ReturnStage.PICKED_UP,
            *self._attention_updates(CARRIER_EXCEPTION, False),
        )
        seller_kind = (
            NoticeKind.SELLER_PARCEL_DELIVERED if delivered else NoticeKind.SELLER_PARCEL_INBOUND
        )
        if delivered or state.timings.refund_trigger is RefundTrigger.DISPATCH_PROOF:
            # Art. 13(3): proof of dispatch is all the trader may wait for.
            await self._request_refund(RefundReason.WITHDRAWAL)
            await self._notify_all(
                [state.notice(NoticeKind.PICKUP_CONFIRMED), state.notice(seller_kind)]
            )
            return
        await self._notify_all(
            [state.notice(NoticeKind.PICKUP_CONFIRMED), state.notice(seller_kind)]
        )
        # Refund on delivery: wait for the goods to be back, but never past the refund deadline.
        while state.delivery_scan is None and workflow.now() < state.refund_due_by:
            if state.problem_scans:
                await self._tell_problem()
                continue
            await self._wait(
                self._changed_or(lambda: state.delivery_scan is not None),
                state.refund_due_by - workflow.now(),
            )
        if state.delivery_scan is not None:
            self._record("system", "parcel delivered to the seller")
            self._set_stage(ReturnStage.DELIVERED)
            await self._request_refund(RefundReason.WITHDRAWAL)
            await self._notify_all(
                [
                    state.notice(NoticeKind.REFUND_REQUESTED),
                    state.notice(NoticeKind.SELLER_PARCEL_DELIVERED),
                ]
            )
        else:
            self._record("system", "refund deadline reached before delivery: refunding")
            await self._request_refund(RefundReason.WITHDRAWAL)
            await self._notify(NoticeKind.REFUND_REQUESTED)

    # --- Branches that end a return early ------------------------------------------------

    async def _cancel_before_shipment(self) -> None:
        self._record("system", "order not shipped yet: cancelled instead of returned")
        self._set_stage(ReturnStage.CANCELLED_BEFORE_SHIPMENT)
        await self._request_refund(RefundReason.CANCELLED_BEFORE_SHIPMENT)
        state = self._state
        # The seller first: the sooner they know, the likelier the parcel never leaves.
        await self._notify_all(
            [
                state.notice(NoticeKind.SELLER_STOP_SHIPMENT),
                state.notice(NoticeKind.CANCELLATION_CONFIRMED),
            ]
        )

    async def _rejected(self) -> bool:
        """Tell the customer why; stay open for operations to override. True if they do."""
        state = self._state
        decision = state.decision
        assert decision is not None and decision.reason is not None
        self._record("system", f"not accepted: {decision.reason}")
        unknown = decision.reason is RejectionReason.UNKNOWN_ORDER_STATUS
        state.rejected_at = workflow.now()
        self._set_stage(
            ReturnStage.REJECTED, *self._attention_updates(UNKNOWN_ORDER_STATUS, unknown)
        )
        notices = [state.notice(NoticeKind.REJECTION)]
        if unknown:
            notices.append(
                state.notice(NoticeKind.OPERATIONS_ATTENTION, attention=UNKNOWN_ORDER_STATUS)
            )
        await self._notify_all(notices)
        try:
            overridden = await self._wait(
                lambda: self._override is not None, state.timings.rejection_review
            )
        except _Ended:
            self._attention(UNKNOWN_ORDER_STATUS, False)
            raise
        if not overridden:
            self._attention(UNKNOWN_ORDER_STATUS, False)
            return False
        assert self._override is not None
        by, _reason = self._override
        state.decision = decision.model_copy(
            update={"accepted": True, "reason": None, "overridden_by": by}
        )
        self._attention(UNKNOWN_ORDER_STATUS, False)
        return True

    async def _expire(self) -> None:
        """The deadline and its grace passed: a last look at the carrier, then end it."""
        state = self._state
        self._stop_polling()
        tracking = state.tracking_number
        if tracking is not None and state.choice is not None:
            self._record("system", "shipping deadline passed: asking the carrier a last time")
            try:
                scans = await self._carrier(
                    CarrierActivities.track_parcel,
                    TrackingQuery(carrier=state.choice.carrier, tracking_number=tracking),
                )
            except ActivityError as err:
                self._record("system", f"last tracking check failed: {_failure_message(err)}")
                scans = []
            self._take_scans(scans)
            if state.dispatch_scan is not None:
                return
        self._record("system", "not shipped by the deadline: the return has expired")
        await self._undo_shipment()
        self._set_stage(ReturnStage.EXPIRED)
        await self._notify_all(
            [
                state.notice(NoticeKind.RETURN_EXPIRED),
                state.notice(NoticeKind.SELLER_RETURN_EXPIRED),
            ]
        )
        raise _Finished

    async def _wind_down(self) -> None:
        """The customer cancelled, or operations closed the return."""
        if self._state.stage in FINAL_STAGES and self._ending is None:
            return  # expired: already wound down
        assert self._ending is not None
        stage, _, _ = self._ending
        state = self._state
        self._stop_polling()
        if state.dispatch_scan is None:
            await self._undo_shipment()
        self._set_stage(stage)
        if stage is ReturnStage.CANCELLED:
            await self._notify_all(
                [
                    state.notice(NoticeKind.RETURN_CANCELLED),
                    state.notice(NoticeKind.SELLER_RETURN_CANCELLED),
                ]
            )

    async def _settle(self) -> None:
        """Never complete with a problem nobody can act on: while a reason for attention
        remains (a refund refused, a notice undelivered, a label not voided), the return
        stays open for operations to retry the step or close it as handled."""
        state = self._state
        # Added after the baseline histories: a return that completed with attention left
        # under the first version replays as it ran (see README, Versioning).
        if not state.attention or not workflow.patched(SETTLE_ATTENTION_PATCH):
            return
        self._settling = True
        self._record("system", "ended with problems left: waiting for operations")
        workflow.set_current_details(state.details())
        await workflow.wait_condition(lambda: not state.attention)

    async def _undo_shipment(self) -> None:
        """Cancel the booked pickup and void the unused label, so nobody pays for them."""
        state = self._state
        if state.pickup is not None:
            await self._undo(CarrierActivities.cancel_pickup, state.pickup, "pickup")
            state.pickup = None
        if state.label is not None:
            await self._undo(CarrierActivities.void_label, state.label, "label")
            state.label = None

    async def _undo(self, activity: Callable[..., Any], thing: Any, what: str) -> None:
        try:
            result: Cancellation = await self._carrier(
                activity,
                thing,
            )
        except ActivityError as err:
            self._record(
                f"carrier:{thing.carrier}", f"{what} not cancelled: {_failure_message(err)}"
            )
            self._attention(UNDO_FAILED, True)
            return
        self._record(f"carrier:{thing.carrier}", f"{what} cancelled ({result.outcome})")

    # --- The customer's choice -----------------------------------------------------------

    @workflow.update
    async def choose_return_method(self, choice: ReturnMethodChoice) -> ReturnStatus:
        """The customer chose how to send the parcel (or changed their mind before sending):
        get the label, pickup or counter code, and undo what the old choice no longer needs."""
        return await self._choose(choice, "customer")

    @choose_return_method.validator
    def _validate_choice(self, choice: ReturnMethodChoice) -> None:
        state = self._state
        if state.stage not in _CHOOSING_STAGES or self._ending or state.dispatch_scan or self._done:
            raise ValueError(f"the return is not waiting for a choice (stage: {state.stage})")
        if choice == state.choice:
            raise ValueError("method: this is already the chosen way of sending the parcel")
        offer = state.offer(choice.carrier)
        if offer is None:
            known = ", ".join(o.code for o in state.offers)
            raise ValueError(f"carrier: unknown carrier {choice.carrier!r} (offered: {known})")
        if choice.method not in offer.methods():
            methods = ", ".join(offer.methods())
            raise ValueError(
                f"method: {offer.code} does not offer {choice.method} (it offers: {methods})"
            )
        if choice.pickup_date is not None:
            problem = pickup_date_problem(choice.pickup_date, workflow.now(), state.ship_by)
            if problem:
                raise ValueError(problem)

    async def _choose(self, choice: ReturnMethodChoice, actor: str) -> ReturnStatus:
        state = self._state
        before = _Shipment(state)
        state.choice = choice
        state.problem = None
        state.reported_tracking_number = None
        state.reported_at = None
        self._choice_revision += 1
        change = "changed to" if before.choice else "chose"
        self._record(actor, f"{change} {choice.method} with {choice.carrier}")
        state.stage = ReturnStage.PREPARING_SHIPMENT
        workflow.set_current_details(state.details())
        try:
            await self._prepare_shipment(choice, before)
        except Exception as err:
            # The return goes back to where it was, so that the customer can choose again
            # once it is fixed; the update fails with the reason.
            await self._forget_new_label(before)
            before.restore(state)
            state.problem = self._refusal(choice, err)
            state.refused_choice = choice
            state.stage = before.stage
            workflow.set_current_details(state.details())
            raise ApplicationError(state.problem, type="ChoiceRefused") from err
        state.refused_choice = None
        await self._undo_previous(before)
        tracking = state.tracking_number
        attention = [
            *self._attention_updates(f"{CARRIER_CREDENTIALS}:{choice.carrier}", False),
            *self._attention_updates(CARRIER_REJECTED, False),
            *self._attention_updates(SHIPMENT_FAILED, False),
            *self._attention_updates(CARRIER_EXCEPTION, False),
        ]
        self._set_stage(
            AWAITING_SHIPMENT_STAGE[choice.method],
            sa.CARRIER.value_set(choice.carrier),
            sa.TRACKING_NUMBER.value_set(tracking)
            if tracking
            else sa.TRACKING_NUMBER.value_unset(),
            *attention,
        )
        for scan in state.replay_unmatched_scans():
            self._record(f"carrier:{scan.carrier}", f"scan {scan.status}")
        self._changes += 1
        return state.status()

    def _refusal(self, choice: ReturnMethodChoice, err: Exception) -> str:
        """What the customer is told, recorded, and raised to operations when it is theirs."""
        carrier = choice.carrier
        cause = err.cause if isinstance(err, ActivityError) else None
        if not isinstance(cause, ApplicationError):
            cause = None
        if cause and cause.type == "CarrierRejected":
            # The carrier refused our data (a date it cannot serve, an address it rejects).
            # The customer may fix it by choosing again; until a choice goes through,
            # operations see the return too, in case the data at fault is ours.
            self._record(f"carrier:{carrier}", f"refused the request: {cause.message}")
            self._attention(CARRIER_REJECTED, True)
            return f"{carrier} refused: {cause.message}"
        if cause and cause.type == "CarrierAuthFailed":
            self._record("system", f"{carrier} refused our credentials")
            self._attention(f"{CARRIER_CREDENTIALS}:{carrier}", True)
            return f"{carrier} cannot take returns just now: try again later or choose another"
        workflow.logger.error(
            "shipment preparation failed", extra={"error_type": type(err).__name__}
        )
        self._record("system", f"shipment preparation failed ({type(err).__name__})")
        self._attention(SHIPMENT_FAILED, True)
        return "the shipment could not be prepared: operations have been told"

    async def _prepare_shipment(self, choice: ReturnMethodChoice, before: _Shipment) -> None:
        state = self._state
        assert state.return_address is not None
        customer = state.event.customer
        state.counter_code = None
        state.pickup = None
        # A label made earlier with the same carrier is still good: reuse it.
        if state.label is not None and state.label.carrier != choice.carrier:
            state.label = None
        if choice.method in METHOD_NEEDS_LABEL and state.label is None:
            state.label = await self._carrier(
                CarrierActivities.create_return_label,
                LabelRequest(
                    idempotency_key=self._key("label"),
                    carrier=choice.carrier,
                    reference=state.return_id,
                    sender=customer.address,
                    recipient=state.return_address,
                    parcel=state.parcel,
                ),
            )
            self._record(f"carrier:{choice.carrier}", "return label created")
        if choice.method is ReturnMethod.MAILBOX_PICKUP:
            assert state.label is not None and choice.pickup_date is not None
            state.pickup = await self._carrier(
                CarrierActivities.book_mailbox_pickup,
                PickupRequest(
                    idempotency_key=self._key("pickup"),
                    carrier=choice.carrier,
                    reference=state.return_id,
                    label_id=state.label.label_id,
                    tracking_number=state.label.tracking_number,
                    pickup_date=choice.pickup_date,
                    address=choice.pickup_address or customer.address,
                ),
            )
            self._record(f"carrier:{choice.carrier}", f"pickup booked for {choice.pickup_date}")
        if choice.method is ReturnMethod.POST_OFFICE_COUNTER:
            offer = state.offer(choice.carrier)
            if offer is not None and offer.has_counter_code:
                state.counter_code = await self._carrier(
                    CarrierActivities.request_counter_code,
                    CounterCodeRequest(
                        idempotency_key=self._key("counter-code"),
                        carrier=choice.carrier,
                        reference=state.return_id,
                        sender=customer.address,
                        recipient=state.return_address,
                        parcel=state.parcel,
                    ),
                )
                self._record(f"carrier:{choice.carrier}", "counter return code issued")
                kind = NoticeKind.COUNTER_CODE
            else:
                kind = NoticeKind.COUNTER_INSTRUCTIONS
        else:
            kind = NoticeKind.RETURN_LABEL
        if kind in state.notice_revisions:
            state.next_revision(kind)  # a new label or code: the email goes out again
        # Counter instructions list the chosen carrier's nearest counters.
        await self._notify(kind, locator_carrier=choice.carrier)

    async def _forget_new_label(self, before: _Shipment) -> None:
        """A choice failed half-way. A change of mind keeps the old label and voids the new
        one; a first try keeps its newest label for the next try (likely the same carrier)."""
        state = self._state
        label = state.label
        if label is None or label == before.label:
            return
        if before.choice is None:
            if before.label is not None:
                await self._undo(CarrierActivities.void_label, before.label, "earlier label")
            return
        await self._undo(CarrierActivities.void_label, label, "label")

    async def _undo_previous(self, before: _Shipment) -> None:
        """Cancel what the old choice booked and the new one does not use."""
        state = self._state
        if before.pickup is not None and before.pickup != state.pickup:
            await self._undo(CarrierActivities.cancel_pickup, before.pickup, "previous pickup")
        if before.label is not None and before.label != state.label:
            await self._undo(CarrierActivities.void_label, before.label, "previous label")

    # --- Other people's messages ---------------------------------------------------------

    @workflow.update
    def provide_return_address(self, reply: ReturnAddressReply) -> ReturnStatus:
        """The seller, or operations on their behalf, gives the return address."""
        self._give_address(reply.address, reply.given_by)
        return self._state.status()

    @provide_return_address.validator
    def _validate_return_address(self, reply: ReturnAddressReply) -> None:
        self._check_waiting_for_address()

    def _check_waiting_for_address(self) -> None:
        # The first address given is the one the customer gets, and the one on the label.
        state = self._state
        if state.stage is not ReturnStage.AWAITING_RETURN_ADDRESS or state.return_address:
            raise ValueError(f"the return is not waiting for an address (stage: {state.stage})")

    def _give_address(self, address: Any, actor: str) -> None:
        self._state.return_address = address
        self._record(actor, "gave the return address")
        self._attention(MISSING_ADDRESS, False)

    @workflow.update
    def report_shipment(self, report: ShipmentReport) -> ReturnStatus:
        """The customer sent the parcel and gives the tracking number on the receipt."""
        state = self._state
        number = report.tracking_number.upper()
        state.reported_at = workflow.now()
        if state.tracking_number is None:
            state.reported_tracking_number = number
            self._set_stage(state.stage, sa.TRACKING_NUMBER.value_set(number))
            for scan in state.replay_unmatched_scans():
                self._record(f"carrier:{scan.carrier}", f"scan {scan.status}")
        self._record("customer", "reported the parcel as sent")
        self._changes += 1
        return state.status()

    @report_shipment.validator
    def _validate_shipment(self, report: ShipmentReport) -> None:
        state = self._state
        sent_at_post_office = (ReturnStage.AWAITING_DROP_OFF, ReturnStage.AWAITING_COUNTER_DROP_OFF)
        if (
            state.stage not in sent_at_post_office
            or self._ending
            or state.dispatch_scan
            or self._done
        ):
            raise ValueError(f"the return is not waiting for a parcel (stage: {state.stage})")
        assert state.choice is not None
        number = report.tracking_number.upper()
        known = state.tracking_number
        if known is not None and number != known:
            raise ValueError(f"tracking_number: this return's parcel is {known}")
        problem = tracking_number_problem(state.choice.carrier, number)
        if problem:
            raise ValueError(f"tracking_number: {problem}")

    @workflow.update
    async def cancel(self, request: CancelRequest) -> ReturnStatus:
        """The customer no longer sends the goods back: undo the label and pickup, end here."""
        self._record("customer", "cancelled the return")
        self._ending = (ReturnStage.CANCELLED, "customer", request.reason or "")
        await workflow.wait_condition(lambda: self._state.stage in FINAL_STAGES)
        return self._state.status()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        state = self._state
        if state.stage not in UNSHIPPED_STAGES or state.dispatch_scan or self._ending or self._done:
            raise ValueError(f"the return can no longer be cancelled (stage: {state.stage})")
        if state.stage is ReturnStage.PREPARING_SHIPMENT:
            raise ValueError("the carrier is preparing the shipment: try again in a moment")

    @workflow.update
    async def resolve_attention(self, resolution: AttentionResolution) -> ReturnStatus:
        """Operations act on the return; every action is recorded with who did it and why."""
        state = self._state
        by = resolution.by
        action = resolution.action
        self._record(by, f"{action}: {resolution.reason}")
        if action is AttentionAction.GIVE_ADDRESS:
            self._give_address(resolution.address, by)
        elif action is AttentionAction.OVERRIDE_ELIGIBILITY:
            self._override = (by, resolution.reason)
            await workflow.wait_condition(lambda: state.stage is not ReturnStage.REJECTED)
        elif action is AttentionAction.CLOSE and self._settling:
            # The return has ended: operations handled what was left outside returnflow.
            state.attention.clear()
            workflow.upsert_search_attributes([sa.NEEDS_ATTENTION.value_set(False)])
            workflow.set_current_details(state.details())
        elif action is AttentionAction.CLOSE:
            self._ending = (ReturnStage.CLOSED, by, resolution.reason)
            await workflow.wait_condition(lambda: state.stage in FINAL_STAGES)
        else:
            await self._retry(by)
        return state.status()

    @resolve_attention.validator
    def _validate_resolution(self, resolution: AttentionResolution) -> None:
        state = self._state
        action = resolution.action
        if self._ending or self._done:
            raise ValueError(f"action: the return has ended (stage: {state.stage})")
        if self._settling:
            if action is AttentionAction.CLOSE or (
                action is AttentionAction.RETRY and self._retryable()
            ):
                return
            raise ValueError("action: the return has ended: retry the failed step or close it")
        if action is AttentionAction.GIVE_ADDRESS:
            self._check_waiting_for_address()
        elif action is AttentionAction.OVERRIDE_ELIGIBILITY:
            if state.stage is not ReturnStage.REJECTED or self._override:
                raise ValueError(f"action: only a rejected return can be accepted ({state.stage})")
        elif action is AttentionAction.CLOSE:
            if state.stage is ReturnStage.PREPARING_SHIPMENT:
                raise ValueError("action: the carrier is preparing the shipment, try again")
        elif not self._retryable():
            needs = ", ".join(state.attention) or "nothing"
            raise ValueError(f"action: nothing to retry (needs attention: {needs})")

    def _retryable(self) -> bool:
        state = self._state
        if state.failed_notices or REFUND_FAILED in state.attention:
            return True
        if MISSING_ADDRESS in state.attention and state.return_address is None:
            return True
        choice_failed = any(a in state.attention for a in _CHOICE_PROBLEMS) or any(
            a.startswith(CARRIER_CREDENTIALS) for a in state.attention
        )
        return (
            choice_failed and state.refused_choice is not None and state.stage in _CHOOSING_STAGES
        )

    async def _retry(self, by: str) -> None:
        state = self._state
        if REFUND_FAILED in state.attention and self._refund_reason is not None:
            await self._request_refund(self._refund_reason)
            if REFUND_FAILED in state.attention:
                raise ApplicationError(state.problem or "refund refused again", type="RetryFailed")
        elif state.failed_notices:
            failed, state.failed_notices = state.failed_notices, []
            for notice in failed:
                self._attention(f"{UNDELIVERABLE_NOTICE}:{notice.kind}", False)
            await self._notify_all(failed)
            if state.failed_notices:
                raise ApplicationError(state.problem or "still not delivered", type="RetryFailed")
        elif state.return_address is None:
            await self._ask_seller(SellerChatKind.ADDRESS_REQUEST, None)
        else:
            assert state.refused_choice is not None
            await self._choose(state.refused_choice, by)

    # --- The carrier's feed --------------------------------------------------------------

    @workflow.signal
    def carrier_scan(self, scan: TrackingScan) -> None:
        """A tracking scan of the parcel. Repeats and other parcels' scans change nothing."""
        self._take_scans([scan])

    @workflow.query
    def status(self) -> ReturnStatus:
        return self._state.status()

    # --- The reminder sweep --------------------------------------------------------------

    @workflow.signal
    async def remind_to_ship(self, reminder: ShippingReminder) -> None:
        """Remind the customer to send the parcel: at most one email a day, none where the
        customer cannot act. Sent or skipped, it is recorded with who asked."""
        state = self._state
        asked = f"for {reminder.day}, asked by {reminder.origin}"
        if self._ending or self._done:
            refusal: str | None = f"the return has ended (stage: {state.stage})"
        else:
            refusal = state.reminder_refusal(reminder.day, workflow.now())
        if refusal:
            self._record("system", f"shipping reminder skipped ({asked}): {refusal}")
            return
        notice = state.take_reminder(reminder.day)
        self._record("system", f"shipping reminder {notice.revision} {asked}")
        try:
            await workflow.execute_activity_method(
                NoticeActivities.send_notices,
                NoticeBatch(notices=[notice]),
                start_to_close_timeout=policies.NOTICE.start_to_close_timeout,
                retry_policy=policies.NOTICE.retry_policy,
            )
        except ActivityError as err:
            # A courtesy, not a step of the return: no attention raised, nothing for
            # operations to retry; the next day's sweep sends the next one.
            why = _failure_message(err)
            self._record("system", f"shipping reminder {notice.revision} not delivered: {why}")
            return
        state.reminders_sent += 1
        state.last_reminder_at = workflow.now()
        self._record("system", f"shipping reminder {notice.revision} sent")
        workflow.set_current_details(state.details())

    def _take_scans(self, scans: Sequence[TrackingScan]) -> None:
        taken = False
        for scan in scans:
            if self._state.take_scan(scan):
                self._record(f"carrier:{scan.carrier}", f"scan {scan.status}")
                taken = True
        if taken and (self._state.problem_scans or self._state.delivery_scan):
            self._changes += 1

    async def _tell_problem(self) -> None:
        """The carrier reported a problem: tell the customer what to do, and operations."""
        state = self._state
        scan = state.problem_scans.pop(0)
        self._attention(CARRIER_EXCEPTION, True)
        await self._notify_all(
            [
                state.notice(NoticeKind.SHIPMENT_PROBLEM, detail=scan.description),
                state.notice(NoticeKind.OPERATIONS_ATTENTION, attention=CARRIER_EXCEPTION),
            ]
        )

    def _start_polling(self) -> None:
        state = self._state
        assert state.choice is not None and state.tracking_number is not None
        query = TrackingQuery(
            carrier=state.choice.carrier,
            tracking_number=state.tracking_number,
            known_scan_ids=[s.scan_id for s in state.scans],
        )
        self._polled_number = query.tracking_number
        self._record("system", "no scan yet: polling the carrier")
        self._polling = asyncio.create_task(self._poll(query))

    async def _poll(self, query: TrackingQuery) -> None:
        try:
            scans = await workflow.execute_activity_method(
                CarrierActivities.poll_parcel_scans,
                query,
                start_to_close_timeout=policies.POLLING.start_to_close_timeout,
                retry_policy=policies.polling(self._state.timings.poll_interval),
            )
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):
                return
            # Kept as polled: no new poll of this parcel until operations or a scan step in.
            self._record("system", f"polling failed: {_failure_message(err)}")
            self._attention(POLLING_FAILED, True)
            return
        self._polling = None
        self._polled_number = None  # polled again, for newer scans, on the next turn
        self._take_scans(scans)
        self._changes += 1

    def _stop_polling(self) -> None:
        if self._polling is not None and not self._polling.done():
            self._polling.cancel()
        self._polling = None
        self._polled_number = None

    # --- Steps shared by several paths ---------------------------------------------------

    async def _ask_seller(self, kind: SellerChatKind, reply_by: dt.datetime | None) -> None:
        state = self._state
        self._seller_asks += 1
        order = state.event.order
        message = ChatMessage(
            message_id=idempotency_key(state.return_id, f"chat-{kind}", self._seller_asks),
            kind=kind,
            return_id=state.return_id,
            seller_id=order.seller_id,
            order_id=order.order_id,
            line_id=order.line_id,
            reply_by=reply_by,
        )
        try:
            await workflow.execute_activity_method(
                SellerActivities.message_seller,
                message,
                start_to_close_timeout=policies.SELLER_CHAT.start_to_close_timeout,
                retry_policy=policies.SELLER_CHAT.retry_policy,
            )
        except ActivityError as err:
            self._record("system", f"seller chat failed: {_failure_message(err)}")
            return
        self._record("system", f"seller chat: {kind}")

    async def _request_refund(self, reason: RefundReason) -> None:
        state = self._state
        self._refund_reason = reason
        order = state.event.order
        try:
            state.refund = await workflow.execute_activity_method(
                OrderActivities.request_refund,
                RefundRequest(
                    idempotency_key=idempotency_key(state.return_id, "refund"),
                    return_id=state.return_id,
                    order_id=order.order_id,
                    line_id=order.line_id,
                    amount=order.product.price,
                    reason=reason,
                    due_by=state.refund_due_by,
                ),
                start_to_close_timeout=policies.ORDER_SERVICE.start_to_close_timeout,
                retry_policy=policies.ORDER_SERVICE.retry_policy,
            )
        except ActivityError as err:
            state.problem = f"refund not requested: {_failure_message(err)}"
            self._record("system", "refund request refused by the order service")
            self._attention(REFUND_FAILED, True)
            return
        self._attention(REFUND_FAILED, False)
        self._record("system", f"refund requested ({state.refund.refund_id})")

    async def _notify(self, kind: NoticeKind, **facts: Any) -> None:
        await self._notify_all([self._state.notice(kind, **facts)])

    async def _notify_all(self, notices: list[NoticeRequest]) -> None:
        """Send notices in one activity; one that cannot be delivered is recorded, never fatal."""
        state = self._state
        try:
            await workflow.execute_activity_method(
                NoticeActivities.send_notices,
                NoticeBatch(notices=notices),
                start_to_close_timeout=policies.NOTICE.start_to_close_timeout,
                retry_policy=policies.NOTICE.retry_policy,
            )
        except ActivityError as err:
            failed = _failed_kinds(err, notices)
            state.problem = f"notice not delivered: {_failure_message(err)}"
            for notice in notices:
                if notice.kind in failed:
                    state.failed_notices.append(notice)
                    self._record("system", f"{notice.kind} notice could not be delivered")
                    self._attention(f"{UNDELIVERABLE_NOTICE}:{notice.kind}", True)
                else:
                    state.notice_revisions.setdefault(notice.kind, notice.revision)
                    self._record("system", f"{notice.kind} notice sent")
            return
        for notice in notices:
            state.notice_revisions.setdefault(notice.kind, notice.revision)
            self._record("system", f"{notice.kind} notice sent")

    async def _carrier(self, activity: Callable[..., Any], request: Any) -> Any:
        """One carrier call under the carrier policy (4xx final, the rest retried)."""
        return await workflow.execute_activity_method(
            activity,
            request,
            start_to_close_timeout=policies.CARRIER.start_to_close_timeout,
            retry_policy=policies.CARRIER.retry_policy,
        )

    async def _local(self, activity: Callable[..., Any], *args: Any) -> Any:
        """A quick lookup on the worker itself (configuration, a file, a rule)."""
        return await workflow.execute_local_activity_method(
            activity,
            args=list(args),
            start_to_close_timeout=policies.LOOKUP.start_to_close_timeout,
            retry_policy=policies.LOOKUP.retry_policy,
        )

    async def _wait(
        self, condition: Callable[[], bool], within: dt.timedelta | None = None
    ) -> bool:
        """Wait for `condition` or the timeout (False); the return ending interrupts it."""
        if within is not None and within <= dt.timedelta(0):
            self._check_ending()
            return condition()
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: condition() or self._ending is not None, timeout=within
            )
        self._check_ending()
        return condition()

    def _changed_or(self, condition: Callable[[], bool]) -> Callable[[], bool]:
        """`condition`, or anything the main loop plans around changed from now on."""
        seen = self._changes
        return lambda: self._changes != seen or condition()

    def _check_ending(self) -> None:
        if self._ending is not None:
            raise _Ended

    def _key(self, step: str) -> str:
        return idempotency_key(self._state.return_id, step, self._choice_revision)

    def _record(self, actor: str, event: str) -> None:
        self._state.record(workflow.now(), actor, event)

    def _set_stage(self, stage: ReturnStage, *also: SearchAttributeUpdate[Any]) -> None:
        """Change the stage, with any other attribute that changes with it (one upsert)."""
        workflow.logger.info(
            "return stage changed",
            extra={"stage": stage.value, "previous_stage": self._state.stage.value},
        )
        self._state.stage = stage
        workflow.upsert_search_attributes([sa.RETURN_STAGE.value_set(stage.value), *also])
        workflow.set_current_details(self._state.details())

    def _attention_updates(self, reason: str, needed: bool) -> list[SearchAttributeUpdate[Any]]:
        """Raise or clear one reason operations are needed; the `NeedsAttention` update to
        send with the next upsert, if it changes."""
        reasons = self._state.attention
        before = bool(reasons)
        if needed and reason not in reasons:
            reasons.append(reason)
        if not needed and reason in reasons:
            reasons.remove(reason)
        if bool(reasons) == before:
            return []
        return [sa.NEEDS_ATTENTION.value_set(bool(reasons))]

    def _attention(self, reason: str, needed: bool) -> None:
        """Raise or clear one reason operations are needed, upserting `NeedsAttention`."""
        updates = self._attention_updates(reason, needed)
        if updates:
            workflow.upsert_search_attributes(updates)
        workflow.set_current_details(self._state.details())

    def _ensure_search_attributes(self) -> None:
        """Set the attributes a starter did not (a start from the CLI or another client)."""
        present = workflow.info().typed_search_attributes
        order = self._state.event.order
        wanted = TypedSearchAttributes(
            [
                SearchAttributePair(sa.RETURN_STAGE, self._state.stage.value),
                SearchAttributePair(sa.ORDER_ID, order.order_id),
                SearchAttributePair(sa.SELLER_ID, order.seller_id),
                SearchAttributePair(sa.SHIP_BY, self._state.ship_by),
                SearchAttributePair(sa.NEEDS_ATTENTION, False),
            ]
        )
        missing = [p.key.value_set(p.value) for p in wanted if present.get(p.key) is None]
        if missing:
            workflow.upsert_search_attributes(missing)
        workflow.set_current_details(self._state.details())


_CHOOSING_STAGES = frozenset(
    {
        ReturnStage.AWAITING_CUSTOMER_CHOICE,
        ReturnStage.AWAITING_PICKUP,
        ReturnStage.AWAITING_DROP_OFF,
        ReturnStage.AWAITING_COUNTER_DROP_OFF,
    }
)
"""Where the customer may choose, or change their mind: the parcel has not left yet."""


class _Finished(_Ended):
    """The return ended on its own (expired): nothing left to wind down."""


class _Shipment:
    """What a choice had prepared, to restore it if a change of mind fails."""

    def __init__(self, state: ReturnState) -> None:
        self.stage = state.stage
        self.choice = state.choice
        self.label = state.label
        self.pickup = state.pickup
        self.counter_code = state.counter_code
        self.reported = (state.reported_tracking_number, state.reported_at)

    def restore(self, state: ReturnState) -> None:
        state.choice = self.choice
        state.pickup = self.pickup
        state.counter_code = self.counter_code
        state.reported_tracking_number, state.reported_at = self.reported
        if self.choice is not None or state.label is None:
            state.label = self.label


def _failure_message(err: ActivityError) -> str:
    """The activity's own words (the carrier's, the relay's), not the wrapper's."""
    cause = err.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or err)


def _failed_kinds(err: ActivityError, notices: list[NoticeRequest]) -> set[NoticeKind]:
    """Which notices of a batch were not delivered: the error's details name them."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details:
        named = cause.details[0]
        if isinstance(named, list):
            kinds = {NoticeKind(k) for k in named if k in NoticeKind._value2member_map_}
            if kinds:
                return kinds
    return {n.kind for n in notices}
