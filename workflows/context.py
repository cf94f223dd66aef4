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
    from activities.notices.activities import NoticeActivities
    from domain import search_attributes as sa
    from domain.notices import NoticeBatch, NoticeKind, NoticeRequest
    from domain.returns import (
        ActionResult,
        AttentionReason,
        ReturnStage,
    )
    from workflows import failures, policies, return_view
    from workflows.feed import ReturnFeed
    from workflows.feed_changes import Change, Snapshot, changes, snapshot
    from workflows.metrics import ReturnMetrics
    from workflows.return_state import CHOICE_PROBLEMS, SHIPMENT_NOTICES, ReturnState
    from workflows.transitions import Message, Moment, Phase


ATTENTION_REASONS = "attention-reasons"
"""Patch: the reasons a return needs attention are shown in the `AttentionReasons` attribute."""

MAX_BATCH = 5
"""Notices in one `send_notices` activity (`NoticeBatch`)."""

_UNSET = object()


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
    accepted_in: Phase | None = None
    """The phase the validator accepted it in (a `close` means one thing in a live return and
    another in one that has ended with problems)."""
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
        self.polled_past: dict[str, list[str]] = {}
        """By parcel polled, the scans a poll brought that the return did not keep (another
        parcel's, or past the most a parcel keeps): told to the carrier as seen, so the next
        poll of that parcel waits for a newer one instead of bringing them back at once."""
        self._last_phase: Phase = state.stage
        self._shown: dict[str, object] = {}
        """The search attributes' values as last set: an upsert sends only what changed."""
        self.feed = ReturnFeed()
        self.metrics = ReturnMetrics()
        self._looked: Snapshot | None = None

    def patched(self, patch_id: str) -> bool:
        """Whether this return runs the code of the change `patch_id` (`workflow.patched`)."""
        return workflow.patched(patch_id)

    def look(self) -> list[Change]:
        """What changed since the last look (at the first: that the return started), for the
        event feed and the metrics."""
        after = snapshot(self.state)
        found = changes(self.state, self._looked, after)
        self._looked = after
        return found

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
        self.upsert(updates)
        self.refresh()

    def upsert(self, updates: list[SearchAttributeUpdate[Any]]) -> None:
        """Upsert the attributes whose value changes (one billable action, none if none)."""
        fresh = [u for u in updates if self._shown.get(u.key.name, _UNSET) != u.value]
        for update in fresh:
            self._shown[update.key.name] = update.value
        if fresh:
            workflow.upsert_search_attributes(fresh)

    def shown(self, values: dict[str, object]) -> None:
        """The attributes the return started with (set by its starter)."""
        self._shown.update(values)

    def attention_updates(self, code: str, needed: bool) -> list[SearchAttributeUpdate[Any]]:
        """Raise or clear one reason; the `NeedsAttention` and `AttentionReasons` updates for
        the next upsert, if any."""
        reasons = self.state.attention
        before = bool(reasons)
        shown_before = attention_reasons(reasons)
        if needed and code not in reasons:
            reasons.append(code)
        if not needed and code in reasons:
            reasons.remove(code)
        updates: list[SearchAttributeUpdate[Any]] = []
        if bool(reasons) != before:
            updates.append(sa.NEEDS_ATTENTION.value_set(bool(reasons)))
        shown = attention_reasons(reasons)
        if shown != shown_before and self.patched(ATTENTION_REASONS):
            updates.append(sa.ATTENTION_REASONS.value_set(shown))
        return updates

    def attention(self, code: str, needed: bool) -> None:
        self.upsert(self.attention_updates(code, needed))
        self.refresh()

    def clear_attention(self, *codes: str) -> list[SearchAttributeUpdate[Any]]:
        return [u for code in codes for u in self.attention_updates(code, False)]

    def clear_all_attention(self) -> None:
        self.upsert(self.clear_attention(*list(self.state.attention)))
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
        if state.stage is not ReturnStage.REJECTED:
            # How to send a parcel that will not be sent, or has left: moot.
            self.forget_failed(*SHIPMENT_NOTICES)
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
        """Send notices in one activity (a batch holds five at most); one that cannot be
        delivered is recorded, never fatal."""
        for first in range(0, len(notices), MAX_BATCH):
            await self._send(notices[first : first + MAX_BATCH])

    def forget_failed(self, *kinds: NoticeKind) -> None:
        """Notices of these kinds that were not delivered are moot now (a newer label, a return
        that has ended): no retry sends them, and their reasons are cleared."""
        state = self.state
        moot = [n for n in state.failed_notices if n.kind in kinds]
        if not moot:
            return
        state.failed_notices = [n for n in state.failed_notices if n.kind not in kinds]
        codes = {AttentionReason.NOTICE_UNDELIVERABLE.about(n.kind) for n in moot}
        self.upsert(self.clear_attention(*sorted(codes)))

    async def _send(self, notices: list[NoticeRequest]) -> None:
        state = self.state
        try:
            await workflow.execute_activity_method(
                NoticeActivities.send_notices,
                NoticeBatch(notices=notices),
                **policies.NOTICE.options(),
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
            **policies.CARRIER.options(schedule_to_close_timeout=within),
        )

    async def local(self, activity: Callable[..., Any], *args: Any) -> Any:
        """A quick lookup on the worker itself (configuration, a file, a rule)."""
        return await workflow.execute_local_activity_method(
            activity,
            args=list(args),
            start_to_close_timeout=policies.LOOKUP.start_to_close_timeout,
            retry_policy=policies.LOOKUP.retry_policy,
        )


def attention_reasons(codes: list[str]) -> list[str]:
    """The distinct reasons of the listed codes, sorted: the `AttentionReasons` attribute."""
    return sorted({AttentionReason.label(code) for code in codes})
