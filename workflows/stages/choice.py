"""The customer's choice: the label, pickup or counter code on the chosen carrier, within a
bound in time; then committed, answered, emailed, and what the previous choice booked undone.

While the carrier works the committed shipment stays as it was, so a scan of the parcel that
left with it still counts. When the carrier has answered, what happened meanwhile comes first:
the carrier already has the parcel, or the shipping deadline passed, and the new booking is
undone instead of committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.carriers.activities import CarrierActivities
    from domain import search_attributes as sa
    from domain.calendar import country_time_zone
    from domain.carriers import (
        CounterCode,
        CounterCodeRequest,
        Label,
        LabelRequest,
        Pickup,
        PickupRequest,
        ReturnMethod,
    )
    from domain.failures import FailureType
    from domain.ids import idempotency_key
    from domain.notices import NoticeKind
    from domain.returns import (
        AWAITING_SHIPMENT_STAGE,
        AttentionReason,
        ReturnMethodChoice,
        ReturnStage,
    )
    from workflows import admission, failures
    from workflows.context import Intent, ReturnContext
    from workflows.return_state import METHOD_NEEDS_LABEL, SHIPMENT_NOTICES, UnansweredCall
    from workflows.stages import carrier

T = TypeVar("T")
R = TypeVar("R", bound="_Keyed")

UNANSWERED_BEFORE_ATTENTION = 3
"""Choices in a row the carrier leaves unanswered before operations are told."""

ASKED_AGAIN_UNDER_ITS_KEY = "unanswered-asked-again-under-its-key"
"""Patch: a counter code request, or the same pickup request, left unanswered is asked again
under its key, and a request the carrier refuses under a key left unanswered is forgotten (it
made nothing); before, each went under a new key, and the unanswered one stayed listed."""

PICKUP_MOVED_ON_ITS_LABEL = "pickup-moved-on-its-label"
"""Patch: a carrier books one pickup at a time on a label, so a new pickup on the label of the
return's pickup, or of one a call left unanswered may have booked, calls that one off first;
before, the new booking went first, and the carrier refused it."""


@dataclass
class _Draft:
    """What the carrier prepared for a choice, not yet the return's."""

    choice: ReturnMethodChoice
    label: Label | None = None
    pickup: Pickup | None = None
    counter_code: CounterCode | None = None
    called_off: Pickup | None = None
    """The return's pickup, called off to book this choice's on the same label."""


class _Unanswered(Exception):
    """A carrier call of the choice did not answer within the bound."""


async def choose(ctx: ReturnContext, intent: Intent, choice: ReturnMethodChoice) -> None:
    """Prepare `choice`, and commit it or refuse it with the reason."""
    state = ctx.state
    change = state.choice is not None
    by_operations = intent.actor.startswith("operations:")
    if not by_operations and admission.at_change_cap(state):
        await _too_many_changes(ctx, intent, choice)
        return
    previous = state.stage
    state.choice_revision += 1
    ctx.record(
        intent.actor,
        f"{'changed to' if change else 'chose'} {choice.method} with {choice.carrier}",
        intent,
    )
    state.problem = None
    ctx.set_stage(ReturnStage.PREPARING_SHIPMENT)
    draft = _Draft(choice)
    try:
        await _prepare(ctx, draft)
    except (ActivityError, _Unanswered) as err:
        # The customer is answered first; what follows (an email, a void) may take longer.
        why, tell_operations = _refused(ctx, choice, err)
        unset: list[Any] = []
        if draft.called_off is not None:
            kept, words = await _book_again(ctx, draft.called_off)
            why += words
            if not kept:
                previous = _unchosen(ctx)
                unset = [sa.CARRIER.value_unset(), sa.TRACKING_NUMBER.value_unset()]
        state.refused_choice = choice
        state.problem = why
        ctx.set_stage(previous, *unset)
        ctx.refuse(intent, why, "ChoiceRefused")
        if tell_operations is not None:
            await ctx.notify(NoticeKind.OPERATIONS_ATTENTION, attention=tell_operations)
        await _keep_spare(ctx, draft)
        return
    # Precedence: what happened while the carrier worked wins over the new booking.
    if state.dispatch_scan is not None:
        why = "the carrier already has the parcel sent with the previous choice"
    elif ctx.now() >= state.expires_at:
        why = "the shipping deadline passed while the carrier prepared the shipment"
    else:
        await _commit(ctx, draft, intent, counts_as_change=change)
        return
    ctx.set_stage(previous)
    ctx.refuse(intent, why, "ChoiceRefused")
    await _discard(ctx, draft)


async def _too_many_changes(ctx: ReturnContext, intent: Intent, choice: ReturnMethodChoice) -> None:
    state = ctx.state
    limit = state.timings.max_choice_changes
    state.refused_choice = choice
    reason = AttentionReason.CHOICE_CHANGES_EXHAUSTED
    ctx.refuse(intent, admission.changes_exhausted_words(limit), "ChoiceRefused")
    if reason not in state.attention:
        ctx.attention(reason, True)
        await ctx.notify(NoticeKind.OPERATIONS_ATTENTION, attention=reason)


def _key(ctx: ReturnContext, step: str) -> str:
    return idempotency_key(ctx.state.return_id, step, ctx.state.choice_revision)


async def _prepare(ctx: ReturnContext, draft: _Draft) -> None:
    """The carrier calls of the choice, all of them within `carrier_answer_within`."""
    state = ctx.state
    choice = draft.choice
    by = ctx.now() + state.timings.carrier_answer_within
    assert state.return_address is not None
    customer = state.event.customer
    if choice.method in METHOD_NEEDS_LABEL:
        reusable = [
            label
            for label in (state.label, state.spare_label)
            if label is not None and label.carrier == choice.carrier
        ]
        if reusable:
            # A label made earlier with the same carrier is still good: reuse it.
            draft.label = reusable[0]
        else:
            # A label request left unanswered may have made one: ask again with its key.
            key = _in_doubt(ctx, "label", choice.carrier) or _key(ctx, "label")
            request = LabelRequest(
                idempotency_key=key,
                carrier=choice.carrier,
                reference=state.return_id,
                sender=customer.address,
                recipient=state.return_address,
                parcel=state.parcel,
            )
            draft.label = await _call(
                ctx, "label", CarrierActivities.create_return_label, request, by
            )
            ctx.record(f"carrier:{choice.carrier}", "return label created")
    if choice.method is ReturnMethod.MAILBOX_PICKUP:
        assert draft.label is not None and choice.pickup_date is not None
        pickup = _pickup_request(ctx, "pickup", choice, draft.label, choice.pickup_date)
        pickup = await _free_the_label(ctx, draft, pickup, by)
        draft.pickup = await _call(ctx, "pickup", CarrierActivities.book_mailbox_pickup, pickup, by)
        ctx.record(f"carrier:{choice.carrier}", f"pickup booked for {choice.pickup_date}")
    offer = state.offer(choice.carrier)
    if choice.method is ReturnMethod.POST_OFFICE_COUNTER and offer and offer.has_counter_code:
        code = CounterCodeRequest(
            # A code request left unanswered may have made one: ask again with its key.
            idempotency_key=_asked_again(ctx, _in_doubt(ctx, "counter code", choice.carrier))
            or _key(ctx, "counter-code"),
            carrier=choice.carrier,
            reference=state.return_id,
            sender=customer.address,
            recipient=state.return_address,
            parcel=state.parcel,
        )
        draft.counter_code = await _call(
            ctx, "counter code", CarrierActivities.request_counter_code, code, by
        )
        ctx.record(f"carrier:{choice.carrier}", "counter return code issued")


def _pickup_request(
    ctx: ReturnContext, step: str, choice: ReturnMethodChoice, label: Label, day: dt.date
) -> PickupRequest:
    """Ask `choice`'s carrier to collect the parcel of `label` on `day`, under the key of
    `step` for the current choice."""
    state = ctx.state
    return PickupRequest(
        idempotency_key=_key(ctx, step),
        carrier=choice.carrier,
        reference=state.return_id,
        label_id=label.label_id,
        tracking_number=label.tracking_number,
        pickup_date=day,
        address=choice.pickup_address or state.event.customer.address,
    )


class _Keyed(Protocol):
    @property
    def idempotency_key(self) -> str: ...

    @property
    def carrier(self) -> str: ...


async def _call(
    ctx: ReturnContext,
    step: str,
    activity: Callable[[Any, R], Awaitable[T]],
    request: R,
    by: dt.datetime,
) -> T:
    """One bounded call; unanswered in time, it is remembered with its key and raised."""
    key, carrier = request.idempotency_key, request.carrier
    try:
        answer: T = await ctx.carrier(activity, request, by=by)
    except ActivityError as err:
        if failures.timed_out(err):
            asked = request if isinstance(request, PickupRequest) else None
            call = UnansweredCall(step=step, carrier=carrier, key=key, pickup=asked)
            if call not in ctx.state.unanswered:
                ctx.state.unanswered.append(call)
            raise _Unanswered(step) from err
        if failures.failure_type(err) is FailureType.CARRIER_REJECTED:
            # Refused under its key: nothing was made under it, then or now.
            left = any(c.key == key for c in ctx.state.unanswered)
            if left and ctx.patched(ASKED_AGAIN_UNDER_ITS_KEY):
                _forget(ctx, key)
        raise
    _forget(ctx, key)
    return answer


def _forget(ctx: ReturnContext, key: str) -> None:
    """The call under `key` was answered: nothing unanswered is left under it."""
    ctx.state.unanswered = [c for c in ctx.state.unanswered if c.key != key]


def _asked_again(ctx: ReturnContext, key: str | None) -> str | None:
    """`key`, left unanswered, to ask again under, for a return that does (the patch)."""
    return key if key is not None and ctx.patched(ASKED_AGAIN_UNDER_ITS_KEY) else None


async def _free_the_label(
    ctx: ReturnContext, draft: _Draft, request: PickupRequest, by: dt.datetime
) -> PickupRequest:
    """The request to book: `request`, once the label is free. A carrier books one pickup at a
    time on a label: the return's pickup on it is called off first, and so is one a request
    left unanswered may have booked on it (asked again under its key, the carrier tells which);
    the same request as that one is simply asked again under its key."""
    state = ctx.state
    booked = state.pickup if draft.label == state.label else None
    assert state.choice is not None or booked is None
    if booked is not None and state.choice is not None and _gone_by(ctx, booked, state.choice):
        booked = None  # its day passed without a collection: the label is free again
    doubt = next(
        (
            c.pickup
            for c in state.unanswered
            if c.pickup is not None
            and c.carrier == request.carrier
            and c.pickup.label_id == request.label_id
        ),
        None,
    )
    same = doubt is not None and doubt == request.model_copy(
        update={"idempotency_key": doubt.idempotency_key}
    )
    if booked is None and doubt is None:
        return request
    if booked is None and same:
        assert doubt is not None
        return doubt if _asked_again(ctx, doubt.idempotency_key) else request
    if not ctx.patched(PICKUP_MOVED_ON_ITS_LABEL):
        return request
    if doubt is not None:
        await _settle(ctx, doubt, by)
    if booked is not None:
        await _call_off(ctx, booked, by, f"pickup for {booked.pickup_date}")
        draft.called_off, state.pickup = booked, None
    return request


async def _settle(ctx: ReturnContext, doubt: PickupRequest, by: dt.datetime) -> None:
    """A pickup request left unanswered may have booked one on the label: asked again under its
    key, the carrier answers with it (or books it now), and it is called off, unless its day is
    over. The request stays listed as unanswered until then."""
    try:
        made = await ctx.carrier(CarrierActivities.book_mailbox_pickup, doubt, by=by)
    except ActivityError as err:
        if failures.timed_out(err):
            raise _Unanswered("pickup") from err
        if failures.failure_type(err) is not FailureType.CARRIER_REJECTED:
            raise
        ctx.record(f"carrier:{doubt.carrier}", "the pickup request left unanswered booked nothing")
    else:
        if not made.gone_by(_mailbox_today(ctx, doubt.address.country_code)):
            await _call_off(ctx, made, by, "pickup the unanswered request booked")
    _forget(ctx, doubt.idempotency_key)


def _mailbox_today(ctx: ReturnContext, country_code: str) -> dt.date:
    return ctx.now().astimezone(country_time_zone(country_code)).date()


def _gone_by(ctx: ReturnContext, pickup: Pickup, choice: ReturnMethodChoice) -> bool:
    """`choice`'s pickup `pickup`'s day is over where the mailbox is: with no scan, a missed
    collection, which the carrier neither cancels nor holds the label for."""
    mailbox = (choice.pickup_address or ctx.state.event.customer.address).country_code
    return pickup.gone_by(_mailbox_today(ctx, mailbox))


async def _call_off(ctx: ReturnContext, pickup: Pickup, by: dt.datetime, what: str) -> None:
    """Cancel `pickup` within the choice's bound; one the carrier will not cancel (its day has
    begun) refuses the choice."""
    try:
        result = await ctx.carrier(CarrierActivities.cancel_pickup, pickup, by=by)
    except ActivityError as err:
        if failures.timed_out(err):
            raise _Unanswered("pickup cancellation") from err
        raise
    ctx.record(f"carrier:{pickup.carrier}", f"{what} called off ({result.outcome})")


async def _book_again(ctx: ReturnContext, pickup: Pickup) -> tuple[bool, str]:
    """The return's pickup was called off for a choice that did not go through: booked again
    for its day on its label, within a bound of its own; whether it was, and what the customer
    is told of it."""
    state = ctx.state
    previous = state.choice
    assert previous is not None and state.label is not None
    day = pickup.pickup_date
    request = _pickup_request(ctx, "pickup-again", previous, state.label, day)
    by = ctx.now() + state.timings.carrier_answer_within
    try:
        state.pickup = await _call(
            ctx, "pickup", CarrierActivities.book_mailbox_pickup, request, by
        )
    except (ActivityError, _Unanswered) as err:
        said = failures.message(err) if isinstance(err, ActivityError) else "no answer in time"
        ctx.record(f"carrier:{pickup.carrier}", f"pickup for {day} not booked again: {said}")
        return False, f"; your pickup on {day} was called off: choose again, your label is kept"
    ctx.record(f"carrier:{pickup.carrier}", f"pickup booked again for {day}")
    return True, f"; your pickup on {day} stands"


def _unchosen(ctx: ReturnContext) -> ReturnStage:
    """The return's pickup is gone and could not be booked again: the return waits for a
    choice again; its label, the refused choice's, is kept as a spare (`_keep_spare`)."""
    state = ctx.state
    state.label = None
    state.choice = None
    state.pickup = None
    carrier.stop_polling(ctx)
    return ReturnStage.AWAITING_CUSTOMER_CHOICE


def _in_doubt(ctx: ReturnContext, step: str, carrier: str) -> str | None:
    return next(
        (c.key for c in ctx.state.unanswered if c.step == step and c.carrier == carrier), None
    )


def _refused(
    ctx: ReturnContext, choice: ReturnMethodChoice, err: Exception
) -> tuple[str, str | None]:
    """What the customer is told, recorded and raised to operations when it is theirs; and
    the reason operations are to be emailed for, if any."""
    state = ctx.state
    carrier = choice.carrier
    if isinstance(err, _Unanswered):
        state.unanswered_choices += 1
        ctx.record(f"carrier:{carrier}", f"no answer in time ({err})")
        reason = AttentionReason.CARRIER_NOT_ANSWERING.about(carrier)
        why = f"{carrier} is not answering just now: try again in a few minutes"
        if (
            state.unanswered_choices >= UNANSWERED_BEFORE_ATTENTION
            and reason not in state.attention
        ):
            ctx.attention(reason, True)
            return why, reason
        return why, None
    assert isinstance(err, ActivityError)
    kind = failures.failure_type(err)
    if kind is FailureType.CARRIER_REJECTED:
        # The carrier refused our data (a date it cannot serve, an address it rejects). The
        # customer may fix it by choosing again; operations see it too, in case it is ours.
        ctx.record(f"carrier:{carrier}", f"refused the request: {failures.message(err)}")
        ctx.attention(AttentionReason.CARRIER_REJECTED_REQUEST, True)
        return f"{carrier} refused: {failures.message(err)}", None
    if kind is FailureType.CARRIER_AUTH_FAILED:
        ctx.record("system", f"{carrier} refused our credentials")
        ctx.attention(AttentionReason.CARRIER_CREDENTIALS_REFUSED.about(carrier), True)
        why = f"{carrier} cannot take returns just now: try again later or choose another"
        return why, None
    workflow.logger.error("shipment preparation failed", extra={"error": failures.message(err)})
    ctx.record("system", "shipment preparation failed")
    ctx.attention(AttentionReason.SHIPMENT_PREPARATION_FAILED, True)
    return "the shipment could not be prepared: operations will look into it", None


async def _keep_spare(ctx: ReturnContext, draft: _Draft) -> None:
    """A label made for a choice that did not go through is kept for the next one."""
    state = ctx.state
    label = draft.label
    if label is None or label in (state.label, state.spare_label):
        return
    await carrier.void_spare_label(ctx)
    state.spare_label = label


async def _discard(ctx: ReturnContext, draft: _Draft) -> None:
    """Undo what the carrier prepared for a choice that lost to a scan or the deadline."""
    state = ctx.state
    if draft.pickup is not None:
        await carrier.undo(ctx, CarrierActivities.cancel_pickup, draft.pickup, "new pickup")
    if draft.label is not None and draft.label != state.label:
        if draft.label == state.spare_label:
            state.spare_label = None
        await carrier.undo(ctx, CarrierActivities.void_label, draft.label, "new label")


async def _commit(
    ctx: ReturnContext, draft: _Draft, intent: Intent, *, counts_as_change: bool
) -> None:
    state = ctx.state
    choice = draft.choice
    before = (state.pickup, state.label, state.spare_label)
    missed = (
        state.pickup is not None
        and state.choice is not None
        and _gone_by(ctx, state.pickup, state.choice)
    )
    state.choice = choice
    state.label = draft.label
    state.pickup = draft.pickup
    state.counter_code = draft.counter_code
    if state.spare_label == draft.label:
        state.spare_label = None
    state.reported_tracking_number = None
    state.reported_at = None
    state.shipment_ready_at = ctx.now()
    state.refused_choice = None
    ctx.forget_failed(*SHIPMENT_NOTICES)  # the new choice's email replaces them
    state.unanswered_choices = 0
    state.choice_changes += counts_as_change
    if ctx.polled_number not in (None, state.tracking_number):
        carrier.stop_polling(ctx)  # another parcel now
    tracking = state.tracking_number
    ctx.set_stage(
        AWAITING_SHIPMENT_STAGE[choice.method],
        sa.CARRIER.value_set(choice.carrier),
        sa.TRACKING_NUMBER.value_set(tracking) if tracking else sa.TRACKING_NUMBER.value_unset(),
        *ctx.clear_attention(*ctx.choice_problems()),
    )
    for scan in state.replay_unmatched_scans():
        ctx.record(f"carrier:{scan.carrier}", f"scan {scan.status}")
    ctx.answer(intent)
    if choice.method is ReturnMethod.POST_OFFICE_COUNTER:
        kind = NoticeKind.COUNTER_CODE if state.counter_code else NoticeKind.COUNTER_INSTRUCTIONS
    else:
        kind = NoticeKind.RETURN_LABEL
    if ctx.ending_queued():
        # The ending queued behind the choice undoes it: its email would send the customer to
        # a label voided. Held, in case the ending is refused in its turn.
        state.shipment_email_held = (kind, choice.carrier)
    else:
        state.shipment_email_held = None
        # Counter instructions list the chosen carrier's nearest counters.
        await ctx.notify(kind, locator_carrier=choice.carrier)
    # What the previous choice booked and this one does not use.
    old_pickup, old_label, old_spare = before
    if old_pickup is not None and old_pickup != state.pickup:
        if missed and ctx.patched(PICKUP_MOVED_ON_ITS_LABEL):
            ctx.record("system", f"previous pickup for {old_pickup.pickup_date}: its day is over")
        else:
            await carrier.undo(ctx, CarrierActivities.cancel_pickup, old_pickup, "previous pickup")
    if old_label is not None and old_label != state.label:
        await carrier.undo(ctx, CarrierActivities.void_label, old_label, "previous label")
    if old_spare is not None and old_spare != state.label:
        await carrier.void_spare_label(ctx)


HELD_EMAIL_SENT_ON_REFUSED_ENDING = "held-email-sent-on-refused-ending"
"""Patch: the email of a choice held for a cancel or a close queued behind it is sent when that
ending is refused in its turn (the refund was asked meanwhile, say); before, it was never sent."""


async def send_held_email(ctx: ReturnContext) -> None:
    """A cancel or a close was refused in its turn: the email its queueing held goes out, while
    the return still waits for that shipment and nothing else is queued to end it."""
    state = ctx.state
    held = state.shipment_email_held
    if held is None or ctx.ending_queued():
        return
    if state.stage not in AWAITING_SHIPMENT_STAGE.values():
        return
    if not ctx.patched(HELD_EMAIL_SENT_ON_REFUSED_ENDING):
        return
    state.shipment_email_held = None
    kind, chosen_carrier = held
    await ctx.notify(kind, locator_carrier=chosen_carrier)
