"""`ReturnWorkflow`: one returned order line, from the withdrawal to the carrier's first scan."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, SearchAttributeUpdate, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.carriers.activities import CarrierActivities
    from activities.notices.activities import NoticeActivities
    from activities.orders import OrderActivities
    from activities.sellers.activities import SellerActivities
    from domain import search_attributes as sa
    from domain.calendar import pickup_date_problem
    from domain.carriers import (
        CounterCodeRequest,
        LabelRequest,
        PickupRequest,
        ReturnMethod,
        TrackingScan,
    )
    from domain.events import RetractEvent
    from domain.ids import idempotency_key
    from domain.notices import NoticeKind
    from domain.returns import (
        AWAITING_SHIPMENT_STAGE,
        ReturnAddressReply,
        ReturnMethodChoice,
        ReturnStage,
        ReturnStatus,
    )
    from workflows import policies
    from workflows.return_state import METHOD_NEEDS_LABEL, ReturnState


# Why a return needs operations (`NeedsAttention`), as listed in its status.
MISSING_ADDRESS = "seller_return_address_missing"
CARRIER_CREDENTIALS = "carrier_credentials_refused"
CARRIER_REJECTED = "carrier_rejected_request"
SHIPMENT_FAILED = "shipment_preparation_failed"
UNDELIVERABLE_NOTICE = "notice_undeliverable"


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

    @workflow.run
    async def run(self, event: RetractEvent) -> ReturnStatus:
        state = self._state
        self._ensure_search_attributes()
        self._record("customer", "withdrawal notice received")

        state.decision = await workflow.execute_activity_method(
            OrderActivities.check_eligibility,
            event,
            start_to_close_timeout=policies.ELIGIBILITY.start_to_close_timeout,
            retry_policy=policies.ELIGIBILITY.retry_policy,
        )
        if not state.decision.accepted:
            self._record("system", f"not accepted: {state.decision.reason}")
            self._set_stage(ReturnStage.REJECTED)
            await self._notify(NoticeKind.REJECTION)
            return state.status()

        self._record("system", "accepted as a return")
        await self._notify(NoticeKind.ACKNOWLEDGEMENT)

        state.return_address = await workflow.execute_activity_method(
            SellerActivities.get_seller_return_address,
            event.order.seller_id,
            start_to_close_timeout=policies.SELLER_DIRECTORY.start_to_close_timeout,
            retry_policy=policies.SELLER_DIRECTORY.retry_policy,
        )
        if state.return_address is None:
            self._set_stage(ReturnStage.AWAITING_RETURN_ADDRESS)
            self._record("system", "no return address on file for the seller")
            self._attention(MISSING_ADDRESS, True)
            await workflow.wait_condition(lambda: state.return_address is not None)
        else:
            self._record("system", "seller's return address found on file")

        state.offers = await workflow.execute_activity_method(
            CarrierActivities.list_carrier_offers,
            start_to_close_timeout=policies.CARRIER_CATALOGUE.start_to_close_timeout,
            retry_policy=policies.CARRIER_CATALOGUE.retry_policy,
        )
        await self._notify(NoticeKind.RETURN_ADDRESS)
        self._set_stage(ReturnStage.AWAITING_CUSTOMER_CHOICE)

        # The choice update prepares the shipment (label, pickup or counter code) itself, so
        # that the customer's app gets the carrier's answer in the update's result.
        await workflow.wait_condition(lambda: state.stage in AWAITING_SHIPMENT_STAGE.values())
        await workflow.wait_condition(lambda: state.dispatch_scan is not None)
        scan = state.dispatch_scan
        assert scan is not None
        self._record(f"carrier:{scan.carrier}", f"parcel in the carrier's hands ({scan.status})")
        self._set_stage(ReturnStage.PICKED_UP)
        await self._notify(NoticeKind.PICKUP_CONFIRMED)

        await workflow.wait_condition(workflow.all_handlers_finished)
        return state.status()

    # --- The customer's choice -----------------------------------------------------------

    @workflow.update
    async def choose_return_method(self, choice: ReturnMethodChoice) -> ReturnStatus:
        """The customer chose how to send the parcel: get the label, pickup or counter code."""
        state = self._state
        state.choice = choice
        state.problem = None
        self._choice_revision += 1
        self._record("customer", f"chose {choice.method} with {choice.carrier}")
        self._set_stage(ReturnStage.PREPARING_SHIPMENT, sa.CARRIER.value_set(choice.carrier))
        try:
            await self._prepare_shipment(choice)
        except Exception as err:
            # Whatever went wrong, the return goes back to waiting for a choice, so that the
            # customer can choose again once it is fixed; the update fails with the reason.
            state.problem = self._refusal(choice, err)
            state.choice = None
            self._set_stage(
                ReturnStage.AWAITING_CUSTOMER_CHOICE,
                sa.CARRIER.value_unset(),
                sa.TRACKING_NUMBER.value_unset(),
            )
            raise ApplicationError(state.problem, type="ChoiceRefused") from err
        self._attention(f"{CARRIER_CREDENTIALS}:{choice.carrier}", False)
        self._attention(CARRIER_REJECTED, False)
        self._attention(SHIPMENT_FAILED, False)
        tracking = state.tracking_number
        assert tracking is not None
        self._set_stage(
            AWAITING_SHIPMENT_STAGE[choice.method], sa.TRACKING_NUMBER.value_set(tracking)
        )
        for scan in state.replay_unmatched_scans():
            self._record(f"carrier:{scan.carrier}", f"scan {scan.status}")
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

    @choose_return_method.validator
    def _validate_choice(self, choice: ReturnMethodChoice) -> None:
        state = self._state
        if state.stage is not ReturnStage.AWAITING_CUSTOMER_CHOICE:
            raise ValueError(f"the return is not waiting for a choice (stage: {state.stage})")
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

    async def _prepare_shipment(self, choice: ReturnMethodChoice) -> None:
        state = self._state
        assert state.return_address is not None
        customer = state.event.customer
        # A label made for an earlier try with the same carrier is still good: reuse it.
        reusable = state.label is not None and state.label.carrier == choice.carrier
        if choice.method in METHOD_NEEDS_LABEL and not reusable:
            state.label = await workflow.execute_activity_method(
                CarrierActivities.create_return_label,
                LabelRequest(
                    idempotency_key=self._key("label"),
                    carrier=choice.carrier,
                    reference=state.return_id,
                    sender=customer.address,
                    recipient=state.return_address,
                    parcel=state.parcel,
                ),
                start_to_close_timeout=policies.CARRIER.start_to_close_timeout,
                retry_policy=policies.CARRIER.retry_policy,
            )
            self._record(f"carrier:{choice.carrier}", "return label created")
        if choice.method is ReturnMethod.MAILBOX_PICKUP:
            assert state.label is not None and choice.pickup_date is not None
            state.pickup = await workflow.execute_activity_method(
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
                start_to_close_timeout=policies.CARRIER.start_to_close_timeout,
                retry_policy=policies.CARRIER.retry_policy,
            )
            self._record(f"carrier:{choice.carrier}", f"pickup booked for {choice.pickup_date}")
        if choice.method is ReturnMethod.POST_OFFICE_COUNTER:
            state.counter_code = await workflow.execute_activity_method(
                CarrierActivities.request_counter_code,
                CounterCodeRequest(
                    idempotency_key=self._key("counter-code"),
                    carrier=choice.carrier,
                    reference=state.return_id,
                    sender=customer.address,
                    recipient=state.return_address,
                    parcel=state.parcel,
                ),
                start_to_close_timeout=policies.CARRIER.start_to_close_timeout,
                retry_policy=policies.CARRIER.retry_policy,
            )
            self._record(f"carrier:{choice.carrier}", "counter return code issued")
            await self._notify(NoticeKind.COUNTER_CODE)
        else:
            await self._notify(NoticeKind.RETURN_LABEL)

    # --- The seller's (or operations') return address ------------------------------------

    @workflow.update
    def provide_return_address(self, reply: ReturnAddressReply) -> ReturnStatus:
        """The seller, or operations on their behalf, gives the return address."""
        self._state.return_address = reply.address
        self._record(reply.given_by, "gave the return address")
        self._attention(MISSING_ADDRESS, False)
        return self._state.status()

    @provide_return_address.validator
    def _validate_return_address(self, reply: ReturnAddressReply) -> None:
        # The stage stays awaiting_return_address while the address email goes out: the first
        # address given is the one the customer gets, and the one on the label.
        state = self._state
        if state.stage is not ReturnStage.AWAITING_RETURN_ADDRESS or state.return_address:
            raise ValueError(f"the return is not waiting for an address (stage: {state.stage})")

    # --- The carrier's feed --------------------------------------------------------------

    @workflow.signal
    def carrier_scan(self, scan: TrackingScan) -> None:
        """A tracking scan of the parcel. Repeats and other parcels' scans change nothing."""
        if self._state.take_scan(scan):
            self._record(f"carrier:{scan.carrier}", f"scan {scan.status}")

    @workflow.query
    def status(self) -> ReturnStatus:
        return self._state.status()

    # --- Helpers -------------------------------------------------------------------------

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

    def _attention(self, reason: str, needed: bool) -> None:
        """Raise or clear one reason operations are needed; `NeedsAttention` follows."""
        reasons = self._state.attention
        before = bool(reasons)
        if needed and reason not in reasons:
            reasons.append(reason)
        if not needed and reason in reasons:
            reasons.remove(reason)
        if bool(reasons) != before:
            workflow.upsert_search_attributes([sa.NEEDS_ATTENTION.value_set(bool(reasons))])
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

    async def _notify(self, kind: NoticeKind) -> None:
        """Send a notice; a notice that cannot be delivered is recorded, never fatal."""
        try:
            await workflow.execute_activity_method(
                NoticeActivities.send_notice,
                self._state.notice(kind),
                start_to_close_timeout=policies.NOTICE.start_to_close_timeout,
                retry_policy=policies.NOTICE.retry_policy,
            )
        except ActivityError as err:
            self._state.problem = f"{kind} notice not delivered: {_failure_message(err)}"
            self._record("system", f"{kind} notice could not be delivered")
            self._attention(f"{UNDELIVERABLE_NOTICE}:{kind}", True)
            return
        self._record("system", f"{kind} notice sent")


def _failure_message(err: ActivityError) -> str:
    """The activity's own words (the carrier's, the relay's), not the wrapper's."""
    cause = err.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or err)
