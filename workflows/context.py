"""The run loop's hands: the one place a return's state changes and its activities run.

`ReturnContext` is made by `ReturnWorkflow` and handed to the stage modules, which the run loop
calls one at a time. Update handlers only append an `Intent` to `inbox` and await its answer;
signal handlers record a fact and `wake` the loop. Nothing else writes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.carriers.activities import CarrierActivities
    from activities.notices.activities import NoticeActivities
    from activities.orders import OrderActivities
    from activities.sellers.activities import SellerActivities
    from domain import search_attributes as sa
    from domain.ids import idempotency_key
    from domain.notices import NoticeBatch, NoticeKind, NoticeRequest, SellerChatKind
    from domain.notices import SellerChatMessage as ChatMessage
    from domain.returns import (
        ActionResult,
        AttentionReason,
        RefundReason,
        RefundRequest,
        ReturnStage,
    )
    from workflows import failures, policies, return_view
    from workflows.return_state import CHOICE_PROBLEMS, ReturnState
    from workflows.transitions import Message, Moment, Phase


@dataclass(eq=False)
class Intent:
    """What a person asked by an update, waiting for the run loop to act on it."""

    message: Message
    argument: Any
    actor: str
    update_id: str
    answer: ActionResult | None = None
    refusal: tuple[str, str] | None = None
    """(failure type, the reason) when the loop refused it."""
    said: str | None = None
    """What the person said, recorded first in the timeline (operations' action and why)."""
    recorded: bool = False
    """The timeline has an entry for it."""

    @property
    def settled(self) -> bool:
        return self.answer is not None or self.refusal is not None


class ReturnContext:
    def __init__(self, state: ReturnState) -> None:
        self.state = state
        self.inbox: list[Intent] = []
        self.changes = 0
        """Bumped whenever something the loop acts on arrives; the loop sleeps until then."""
        self._timer: tuple[dt.datetime, asyncio.Task[None]] | None = None
        self.polling: asyncio.Task[None] | None = None
        self.polled_number: str | None = None
        self.poll_outcome: list[Any] | str | None = None
        """The polling activity's scans, or why it failed for good, for the loop to take."""
        self._last_phase: Phase = state.stage

    # --- Time and waiting ----------------------------------------------------------------

    def now(self) -> dt.datetime:
        return workflow.now()

    def wake(self) -> None:
        self.changes += 1

    async def idle(self, deadline: dt.datetime | None) -> None:
        """Sleep until something arrives or `deadline` passes. One timer per deadline: a wake
        that leaves the deadline as it was keeps the timer running (no new timer, no action)."""
        seen = self.changes
        delay = (deadline - self.now()).total_seconds() if deadline is not None else None
        if delay is None or delay <= 0:
            # No clock, or one the phase let pass without acting (its `act` had its turn at
            # this same instant): wait for news rather than spin.
            self._cancel_timer()
            await workflow.wait_condition(lambda: self.changes != seen)
            return
        assert deadline is not None
        if self._timer is None or self._timer[0] != deadline:
            self._cancel_timer()
            self._timer = (deadline, asyncio.create_task(asyncio.sleep(delay)))
        timer = self._timer[1]
        await workflow.wait_condition(lambda: self.changes != seen or timer.done())
        if timer.done():
            self._timer = None

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer[1].cancel()
            self._timer = None

    # --- The phase, the stage, attention -------------------------------------------------

    @property
    def phase(self) -> Phase:
        state = self.state
        if state.finished and state.attention:
            return Moment.ENDED_WITH_PROBLEMS
        if state.expiring:
            return Moment.EXPIRING
        return state.stage

    def record(self, actor: str, event: str, intent: Intent | None = None) -> None:
        """A timeline entry; the first one made for an intent carries its update ID."""
        update_id = None
        if intent is not None and not intent.recorded:
            update_id, intent.recorded = intent.update_id, True
        self.state.record(self.now(), actor, event, update_id)

    def refresh(self) -> None:
        """The Web UI's details, and a timeline entry when the phase changed."""
        phase = self.phase
        if phase != self._last_phase:
            self.record("system", f"{self._last_phase} → {phase}")
            self._last_phase = phase
        workflow.set_current_details(return_view.details(self.state, phase))

    def set_stage(self, stage: ReturnStage, *also: SearchAttributeUpdate[Any]) -> None:
        """Change the stage with any attribute that changes with it, in one upsert. The
        `ReturnStage` attribute skips `preparing_shipment`, which lasts seconds."""
        workflow.logger.info(
            "return stage changed",
            extra={"stage": stage.value, "previous_stage": self.state.stage.value},
        )
        self.state.stage = stage
        updates = list(also)
        if stage is not ReturnStage.PREPARING_SHIPMENT:
            updates.insert(0, sa.RETURN_STAGE.value_set(stage.value))
        if updates:
            workflow.upsert_search_attributes(updates)
        self.refresh()

    def attention_updates(self, code: str, needed: bool) -> list[SearchAttributeUpdate[Any]]:
        """Raise or clear one reason; the `NeedsAttention` update for the next upsert, if any."""
        reasons = self.state.attention
        before = bool(reasons)
        if needed and code not in reasons:
            reasons.append(code)
        if not needed and code in reasons:
            reasons.remove(code)
        if bool(reasons) == before:
            return []
        return [sa.NEEDS_ATTENTION.value_set(bool(reasons))]

    def attention(self, code: str, needed: bool) -> None:
        updates = self.attention_updates(code, needed)
        if updates:
            workflow.upsert_search_attributes(updates)
        self.refresh()

    def clear_attention(self, *codes: str) -> list[SearchAttributeUpdate[Any]]:
        return [u for code in codes for u in self.attention_updates(code, False)]

    def clear_all_attention(self) -> None:
        updates = self.clear_attention(*list(self.state.attention))
        if updates:
            workflow.upsert_search_attributes(updates)
        self.refresh()

    def choice_problems(self) -> list[str]:
        """The listed reasons about the customer's choice, and a carrier's problem scan: what
        a choice that goes through answers, and what is moot once the parcel has left or the
        return has ended."""
        moot = (*CHOICE_PROBLEMS, AttentionReason.CARRIER_EXCEPTION)
        return [code for code in self.state.attention if AttentionReason.of(code) in moot]

    # --- Answering people ----------------------------------------------------------------

    def result(self, note: str | None = None) -> ActionResult:
        state = self.state
        return ActionResult(
            stage=state.stage,
            label=state.label,
            pickup=state.pickup,
            counter_code=state.counter_code,
            tracking_number=state.tracking_number,
            ship_by=state.ship_by if state.address_sent_at else None,
            attention=list(state.attention),
            note=note,
        )

    def answer(self, intent: Intent, note: str | None = None) -> None:
        if intent.settled:
            return
        if not intent.recorded:
            self.record(intent.actor, f"{intent.message}: {note or 'done'}", intent)
        intent.answer = self.result(note)

    def refuse(self, intent: Intent, reason: str, kind: str = "NotAccepted") -> None:
        self.record(intent.actor, f"{intent.message} refused: {reason}", intent)
        intent.refusal = (kind, reason)

    def finish(self) -> None:
        """The return has reached its end. A carrier call left unanswered may have left a
        label, pickup or code live at the carrier: operations are asked to check."""
        state = self.state
        state.finished = True
        for call in state.unanswered:
            self.record(
                f"carrier:{call.carrier}",
                f"{call.step} request unanswered: check with the carrier (key {call.key})",
            )
        if state.unanswered:
            self.attention(AttentionReason.CARRIER_CALL_UNANSWERED, True)
        self.refresh()

    def ending_queued(self) -> bool:
        return any(i.message in (Message.CANCEL, Message.CLOSE) for i in self.inbox)

    # --- Activities ----------------------------------------------------------------------

    async def notify(self, kind: NoticeKind, **facts: Any) -> None:
        await self.notify_all([self.state.notice(kind, **facts)])

    async def notify_all(self, notices: list[NoticeRequest]) -> None:
        """Send notices in one activity; one that cannot be delivered is recorded, never fatal."""
        state = self.state
        try:
            await workflow.execute_activity_method(
                NoticeActivities.send_notices,
                NoticeBatch(notices=notices),
                start_to_close_timeout=policies.NOTICE.start_to_close_timeout,
                retry_policy=policies.NOTICE.retry_policy,
            )
        except ActivityError as err:
            failed = failures.undelivered_kinds(err, notices)
            detail = failures.undelivered(err)
            why = detail.reason if detail is not None else failures.message(err)
            state.problem = f"notice not delivered: {why}"
            for notice in notices:
                if notice.kind in failed:
                    state.failed_notices.append(notice)
                    self.record("system", f"{notice.kind} notice could not be delivered")
                    reason = AttentionReason.NOTICE_UNDELIVERABLE.about(notice.kind)
                    self.attention(reason, True)
                else:
                    self.record("system", f"{notice.kind} notice sent")
            return
        for notice in notices:
            self.record("system", f"{notice.kind} notice sent")

    async def carrier(
        self, activity: Callable[..., Any], request: Any, *, by: dt.datetime | None = None
    ) -> Any:
        """One carrier call under the carrier policy (4xx final, the rest retried); with `by`,
        every attempt together ends by then (a `TimeoutError` cause once it has passed)."""
        within = None if by is None else max(by - self.now(), dt.timedelta(seconds=1))
        return await workflow.execute_activity_method(
            activity,
            request,
            start_to_close_timeout=policies.CARRIER.start_to_close_timeout,
            schedule_to_close_timeout=within,
            retry_policy=policies.CARRIER.retry_policy,
        )

    async def local(self, activity: Callable[..., Any], *args: Any) -> Any:
        """A quick lookup on the worker itself (configuration, a file, a rule)."""
        return await workflow.execute_local_activity_method(
            activity,
            args=list(args),
            start_to_close_timeout=policies.LOOKUP.start_to_close_timeout,
            retry_policy=policies.LOOKUP.retry_policy,
        )

    async def request_refund(self, reason: RefundReason) -> None:
        state = self.state
        state.refund_reason = reason
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
            state.problem = f"refund not requested: {failures.message(err)}"
            self.record("system", "refund request refused by the order service")
            self.attention(AttentionReason.REFUND_REQUEST_FAILED, True)
            return
        self.attention(AttentionReason.REFUND_REQUEST_FAILED, False)
        self.record("system", f"refund requested ({state.refund.refund_id})")

    async def ask_seller(self, kind: SellerChatKind, reply_by: dt.datetime | None) -> None:
        state = self.state
        state.seller_asks += 1
        order = state.event.order
        message = ChatMessage(
            message_id=idempotency_key(state.return_id, f"chat-{kind}", state.seller_asks),
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
            self.record("system", f"seller chat failed: {failures.message(err)}")
            return
        self.record("system", f"seller chat: {kind}")

    async def undo(self, activity: Callable[..., Any], thing: Any, what: str) -> None:
        """Cancel a pickup or void a label; one that cannot be undone is for operations."""
        try:
            result = await self.carrier(activity, thing)
        except ActivityError as err:
            self.record(
                f"carrier:{thing.carrier}", f"{what} not cancelled: {failures.message(err)}"
            )
            self.attention(AttentionReason.CARRIER_CANCELLATION_FAILED, True)
            return
        self.record(f"carrier:{thing.carrier}", f"{what} cancelled ({result.outcome})")

    async def undo_shipment(self) -> None:
        """Cancel the booked pickup and void every unused label, so nobody pays for them."""
        state = self.state
        if state.pickup is not None:
            pickup, state.pickup = state.pickup, None
            await self.undo(CarrierActivities.cancel_pickup, pickup, "pickup")
        if state.label is not None:
            label, state.label = state.label, None
            await self.undo(CarrierActivities.void_label, label, "label")
        await self.void_spare_label()

    async def void_spare_label(self) -> None:
        state = self.state
        if state.spare_label is not None:
            label, state.spare_label = state.spare_label, None
            await self.undo(CarrierActivities.void_label, label, "unused label")

    # --- Polling (the loop's one activity in the background) -----------------------------

    def start_polling(self, query: Any) -> None:
        """Poll the carrier in the background; its answer is a fact the loop takes later."""
        self.polled_number = query.tracking_number
        self.poll_outcome = None
        self.record("system", "no scan yet: polling the carrier")
        self.polling = asyncio.create_task(self._poll(query))

    async def _poll(self, query: Any) -> None:
        try:
            scans = await workflow.execute_activity_method(
                CarrierActivities.poll_parcel_scans,
                query,
                start_to_close_timeout=policies.POLLING.start_to_close_timeout,
                retry_policy=policies.polling(self.state.timings.poll_interval),
            )
        except ActivityError as err:
            if failures.cancelled(err):
                return
            self.poll_outcome = failures.message(err)
        else:
            self.poll_outcome = list(scans)
        self.polling = None
        self.wake()

    def stop_polling(self) -> None:
        if self.polling is not None and not self.polling.done():
            self.polling.cancel()
        self.polling = None
        self.polled_number = None
        self.poll_outcome = None
