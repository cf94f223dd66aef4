"""`ReturnWorkflow`: one returned order line, from the withdrawal notice to the refund and
what the seller found in the parcel.

The run loop (`workflows.loop`) is the only writer: it changes the return's state and runs
its activities, one step at a time. People act through updates: each validator asks the
transition table (`workflows.transitions`) whether the return takes the message now, and the
handler hands it to the loop and waits for its answer. Machines act through signals, which
record a fact (the carrier's scans, a reminder asked for) and wake the loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import (
    RawValue,
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import search_attributes as sa
    from domain.addresses import PostalAddress
    from domain.carriers import TrackingScan, WebhookScans
    from domain.events import RetractEvent
    from domain.inspection import InspectionReport
    from domain.returns import (
        ENDED_STAGES,
        ActionResult,
        AttentionResolution,
        CancelRequest,
        ReturnAddressReply,
        ReturnMethodChoice,
        ReturnStage,
        ReturnStatus,
        ShipmentReport,
        ShippingReminder,
    )
    from workflows import admission, loop, return_view
    from workflows.context import Intent, ReturnContext
    from workflows.inputs import read_input
    from workflows.return_state import MAX_PENDING_REMINDERS, ReturnState
    from workflows.stages import carrier
    from workflows.transitions import Message

INVALID_START = "InvalidStartInput"
"""The failure type of a return whose withdrawal event does not fit its schema."""


@workflow.defn
class ReturnWorkflow:
    """A return runs to its end on the build that started it: the worker's deployment makes
    it pinned (`plumbing.versioning`), so a new build never replays an old return's history.
    """

    @workflow.init
    def __init__(self, event: RawValue) -> None:
        # The input is taken raw and validated here, so that a bad event fails the return at
        # once with the field's name instead of failing its first workflow task forever.
        parsed = read_input(event, RetractEvent, "event")
        self._problems = parsed if isinstance(parsed, list) else []
        self._ctx = None if isinstance(parsed, list) else ReturnContext(ReturnState(parsed))
        self._done = False

    @workflow.run
    async def run(self, event: RawValue) -> ReturnStatus:
        if self._ctx is None:
            raise ApplicationError(
                "the withdrawal event does not fit its schema: " + "; ".join(self._problems),
                *self._problems,
                type=INVALID_START,
                non_retryable=True,
            )
        ctx = self._ctx
        self._ensure_search_attributes(ctx)
        await loop.run(ctx)
        self._done = True
        found = ctx.look()
        ctx.metrics.ended(ctx, found)
        await ctx.feed.end(ctx, found)
        carrier.stop_polling(ctx)
        for intent in ctx.inbox:
            ctx.refuse(intent, f"the return has ended (stage: {ctx.state.stage})")
        ctx.inbox.clear()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return return_view.status(ctx.state)

    # --- People's messages: validated here, acted on by the run loop ---------------------

    @workflow.update
    async def choose_return_method(self, choice: ReturnMethodChoice) -> ActionResult:
        """The customer chose how to send the parcel, or changed their mind before sending:
        answers with the label, pickup or counter code, or the carrier's refusal. An update
        rather than a signal because the customer waits for that answer."""
        return await self._submit(Message.CHOOSE, choice, "customer")

    @choose_return_method.validator
    def _validate_choice(self, choice: ReturnMethodChoice) -> None:
        self._admit(Message.CHOOSE, choice)

    @workflow.update
    async def provide_return_address(self, reply: ReturnAddressReply) -> ActionResult:
        """The seller, or operations on their behalf, gives the return address."""
        return await self._submit(Message.GIVE_ADDRESS, reply, reply.given_by)

    @provide_return_address.validator
    def _validate_return_address(self, reply: ReturnAddressReply) -> None:
        self._admit(Message.GIVE_ADDRESS, reply)

    @workflow.update
    async def report_shipment(self, report: ShipmentReport) -> ActionResult:
        """The customer sent the parcel and gives the tracking number on the receipt."""
        return await self._submit(Message.REPORT_SHIPMENT, report, "customer")

    @report_shipment.validator
    def _validate_shipment(self, report: ShipmentReport) -> None:
        self._admit(Message.REPORT_SHIPMENT, report)

    @workflow.update
    async def report_inspection(self, report: InspectionReport) -> ActionResult:
        """The seller (or operations for them) reports what came back in the parcel."""
        return await self._submit(Message.REPORT_INSPECTION, report, report.reported_by)

    @report_inspection.validator
    def _validate_inspection(self, report: InspectionReport) -> None:
        self._admit(Message.REPORT_INSPECTION, report)

    @workflow.update
    async def cancel(self, request: CancelRequest) -> ActionResult:
        """The customer no longer sends the goods back: what was booked is undone."""
        return await self._submit(Message.CANCEL, request, "customer")

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        self._admit(Message.CANCEL, request)

    @workflow.update
    async def resolve_attention(self, resolution: AttentionResolution) -> ActionResult:
        """Operations act on the return; every action is recorded with who did it and why."""
        message = admission.resolution_message(resolution)
        said = f"{resolution.action}: {resolution.reason}"
        return await self._submit(message, resolution, resolution.by, said)

    @resolve_attention.validator
    def _validate_resolution(self, resolution: AttentionResolution) -> None:
        self._admit(admission.resolution_message(resolution), resolution)

    def _admit(self, message: Message, argument: Any) -> None:
        if self._ctx is None:
            raise ValueError("the return did not start: its withdrawal event is invalid")
        if self._done:
            raise ValueError(f"the return has ended (stage: {self._ctx.state.stage})")
        problem = admission.problem(self._ctx, message, argument, queued=True)
        if problem:
            raise ValueError(problem)

    async def _submit(
        self, message: Message, argument: Any, actor: str, said: str | None = None
    ) -> ActionResult:
        """Hand the message to the run loop; its answer, or its refusal as the update's
        failure."""
        ctx = self._ctx
        if ctx is None or self._done:
            raise ApplicationError("the return has ended", type="NotAccepted", non_retryable=True)
        info = workflow.current_update_info()
        update_id = info.id if info else str(workflow.uuid4())
        intent = Intent(message, argument, actor, update_id, accepted_in=ctx.phase, said=said)
        ctx.inbox.append(intent)
        ctx.wake()
        await workflow.wait_condition(lambda: intent.settled)
        if intent.refusal is not None:
            kind, why = intent.refusal
            raise ApplicationError(why, type=kind, non_retryable=True)
        assert intent.answer is not None
        return intent.answer

    # --- Machines' facts -----------------------------------------------------------------

    @workflow.signal
    def carrier_scans(self, report: WebhookScans) -> None:
        """A carrier's scans of one parcel (a webhook's, deduplicated). Repeats and other
        parcels' scans change nothing."""
        self._take_scans(report.scans)

    @workflow.signal
    def carrier_scan(self, scan: TrackingScan) -> None:
        """One scan (as `carrier_scans`, for a sender of single scans)."""
        self._take_scans([scan])

    @workflow.signal
    def remind_to_ship(self, reminder: ShippingReminder) -> None:
        """The reminder sweep asks to remind the customer; the loop sends it or records why
        not (at most one email a day, none where the customer cannot act)."""
        ctx = self._ctx
        if ctx is None:
            return
        if len(ctx.state.reminder_requests) >= MAX_PENDING_REMINDERS:
            # A flood of signals costs nothing kept: the first few are said in the timeline.
            if len(ctx.state.reminders_not_taken) < MAX_PENDING_REMINDERS:
                ctx.state.reminders_not_taken.append(reminder)
            return
        # The stage it came in: one that came while the shipment was prepared is taken after,
        # when the label email has just gone out.
        preparing = ctx.state.stage is ReturnStage.PREPARING_SHIPMENT
        ctx.state.reminder_requests.append((reminder, preparing))
        ctx.wake()

    def _take_scans(self, scans: Sequence[TrackingScan]) -> None:
        ctx = self._ctx
        if ctx is None:
            return
        state = ctx.state
        watching = state.late_watch_ends is not None and not state.finished
        if state.stage in ENDED_STAGES and not watching:
            # No parcel was to leave any more: the scan is kept apart for operations, not taken
            # as a proof of dispatch of a return that has ended.
            for scan in scans:
                if state.take_late_scan(scan):
                    ctx.record(f"carrier:{scan.carrier}", f"scan {scan.status} after the end")
            return
        hold = not watching and (
            state.stage is ReturnStage.PREPARING_SHIPMENT or state.tracking_number is None
        )
        before = (state.dispatch_scan, state.delivery_scan, len(state.problem_scans))
        for scan in scans:
            if state.take_scan(scan, hold=hold):
                ctx.record(f"carrier:{scan.carrier}", f"scan {scan.status}")
        # Only what the loop acts on wakes it (a repeat or an ordinary scan costs nothing).
        if (state.dispatch_scan, state.delivery_scan, len(state.problem_scans)) != before:
            ctx.wake()

    @workflow.query
    def status(self) -> ReturnStatus:
        if self._ctx is None:
            raise ApplicationError("the return did not start: its withdrawal event is invalid")
        return return_view.status(self._ctx.state)

    @workflow.query
    def return_address(self) -> PostalAddress | None:
        """The seller's return address once known: what the customer's return page shows (the
        `status` query carries no address)."""
        if self._ctx is None:
            raise ApplicationError("the return did not start: its withdrawal event is invalid")
        return self._ctx.state.return_address

    def _ensure_search_attributes(self, ctx: ReturnContext) -> None:
        """Set the attributes a starter did not (a start from the CLI or another client)."""
        present = workflow.info().typed_search_attributes
        state = ctx.state
        order = state.event.order
        wanted = TypedSearchAttributes(
            [
                SearchAttributePair(sa.RETURN_STAGE, state.stage.value),
                SearchAttributePair(sa.ORDER_ID, order.order_id),
                SearchAttributePair(sa.SELLER_ID, order.seller_id),
                SearchAttributePair(sa.SHIP_BY, state.ship_by),
                SearchAttributePair(sa.NEEDS_ATTENTION, False),
            ]
        )
        ctx.shown({p.key.name: p.value for p in present})
        missing = [p.key.value_set(p.value) for p in wanted if present.get(p.key) is None]
        ctx.upsert(missing)
        ctx.refresh()
