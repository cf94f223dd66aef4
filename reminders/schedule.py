"""The Temporal Schedule that runs the reminder sweep, and `starter.py schedule ...`.

    python starter.py schedule install     # create it, or bring it in line with the settings
    python starter.py schedule show        # spec, next runs, last runs, paused or not
    python starter.py schedule trigger     # run the sweep now
    python starter.py schedule pause [--note TEXT]
    python starter.py schedule unpause [--note TEXT]

`install` is idempotent: one schedule, `RETURNFLOW_REMINDER_SCHEDULE_ID`, whose spec is
`RETURNFLOW_REMINDER_CRON` in `RETURNFLOW_REMINDER_TIME_ZONE`; its paused state and note are
kept when it is brought up to date.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from urllib.parse import quote
from zoneinfo import ZoneInfo

from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    Schedule,
    ScheduleAction,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from plumbing.encryption import PayloadKeyError
from plumbing.settings import Settings
from reminders.models import SweepRequest, SweepResult
from workflows import policies
from workflows.reminder_sweep import UnshippedReturnsSweep

CATCHUP_WINDOW = dt.timedelta(hours=6)
"""A run missed while Temporal was down still happens if it comes back within 6 hours: a
reminder in the afternoon still helps. Later than that, the next day's run does the work."""

TRIGGER_WAIT_SECONDS = 10.0
OK = 0


class Installed(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class ScheduleMissing(Exception):
    """The schedule is not installed in the namespace."""


class ScheduleRefused(Exception):
    """Temporal refused the schedule the settings describe (a cron value out of range, such
    as minute 99, which only the server's calendar checks)."""


def reminder_schedule(settings: Settings) -> Schedule:
    """The schedule the settings describe (running, without a note)."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            # By name: the workflow takes its input raw and validates it itself.
            UnshippedReturnsSweep.__name__,
            SweepRequest(),
            # Temporal appends each run's scheduled time: one workflow ID per run.
            id=settings.reminder_schedule_id,
            task_queue=settings.task_queue,
            execution_timeout=policies.SWEEP_RUN_TIMEOUT,
            static_summary="Reminds the customers of unshipped returns whose ShipBy is near",
        ),
        spec=ScheduleSpec(
            cron_expressions=[settings.reminder_cron],
            time_zone_name=settings.reminder_time_zone,
        ),
        # A sweep still running when the next is due (it never should) is not doubled.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
    )


async def install(client: Client, settings: Settings) -> Installed:
    """Create the schedule, or update it in place to the settings' spec; never a second one.
    ScheduleRefused, naming the setting, when Temporal refuses the spec."""
    try:
        return await _install(client, settings)
    except RPCError as err:
        if err.status is not RPCStatusCode.INVALID_ARGUMENT:
            raise
        raise ScheduleRefused(
            f"RETURNFLOW_REMINDER_CRON: Temporal refused {settings.reminder_cron!r} in "
            f"{settings.reminder_time_zone}: {err.message}"
        ) from err


async def _install(client: Client, settings: Settings) -> Installed:
    wanted = reminder_schedule(settings)
    handle = client.get_schedule_handle(settings.reminder_schedule_id)
    try:
        before = await handle.describe()
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        try:
            await client.create_schedule(settings.reminder_schedule_id, wanted)
            return Installed.CREATED
        except ScheduleAlreadyRunningError:
            before = await handle.describe()  # installed meanwhile by another process

    def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
        # Paused by operations, with their note: still paused once up to date.
        state = current.description.schedule.state
        return ScheduleUpdate(schedule=dataclasses.replace(wanted, state=state))

    # The server stores a cron expression as calendars: what it holds is compared before and
    # after writing the wanted schedule, instead of guessing its translation.
    await handle.update(keep_state)
    after = await handle.describe()
    if await _same(client, before.schedule, after.schedule):
        return Installed.UNCHANGED
    return Installed.UPDATED


async def _same(client: Client, old: Schedule, new: Schedule) -> bool:
    return (old.spec, old.policy, await _plain(client, old.action)) == (
        new.spec,
        new.policy,
        await _plain(client, new.action),
    )


async def _plain(client: Client, action: ScheduleAction) -> object:
    """What the action does, with its payloads decrypted: each encryption draws a new nonce,
    so two writes of the same argument never compare equal encrypted."""
    codec = client.data_converter.payload_codec
    if not isinstance(action, ScheduleActionStartWorkflow) or codec is None:
        return action

    async def plain(value: object) -> object:
        if isinstance(value, Payload):
            try:
                [decoded] = await codec.decode([value])
            except PayloadKeyError:
                # Under a key this process no longer has (before a rotation): whatever it
                # was, the update just rewrote it under the current key.
                return object()
            return decoded
        return value

    return (
        action.workflow,
        [await plain(a) for a in action.args],
        action.id,
        action.task_queue,
        action.execution_timeout,
        action.run_timeout,
        action.task_timeout,
        action.retry_policy,
        await plain(action.static_summary),
        await plain(action.static_details),
        action.priority,
    )


async def _described(handle: ScheduleHandle) -> ScheduleDescription:
    try:
        return await handle.describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise ScheduleMissing(
                f"schedule {handle.id} is not installed: run `python starter.py schedule install`"
            ) from err
        raise


async def trigger(client: Client, settings: Settings) -> str:
    """Run the sweep now; the workflow ID of the run once it has started. TimeoutError if it
    has not within a few seconds (the schedule skips a run while one is still going)."""
    handle = client.get_schedule_handle(settings.reminder_schedule_id)
    before = {_run_id(a.action) for a in (await _described(handle)).info.recent_actions}
    await handle.trigger()

    async def started() -> str:
        while True:
            for action in (await handle.describe()).info.recent_actions:
                if _run_id(action.action) not in before:
                    return _run_id(action.action)
            await asyncio.sleep(0.2)

    return await asyncio.wait_for(started(), TRIGGER_WAIT_SECONDS)


def _run_id(action: object) -> str:
    return action.workflow_id if isinstance(action, ScheduleActionExecutionStartWorkflow) else ""


async def show(client: Client, settings: Settings) -> str:
    """What an operator wants to know: when it runs, whether it is paused, how it went."""
    handle = client.get_schedule_handle(settings.reminder_schedule_id)
    described = await _described(handle)
    schedule, info = described.schedule, described.info
    zone = ZoneInfo(schedule.spec.time_zone_name or "UTC")
    state = "PAUSED" if schedule.state.paused else "active"
    lines = [f"schedule {handle.id}: {state}"]
    if schedule.state.note:
        lines.append(f"  note         {schedule.state.note}")
    lines.append(f"  runs         {spec_text(schedule.spec)}")
    action = schedule.action
    if isinstance(action, ScheduleActionStartWorkflow):
        lines.append(f"  workflow     {action.workflow} on task queue {action.task_queue}")
    policy = schedule.policy
    lines.append(
        f"  policy       overlap {policy.overlap.name.lower()}, "
        f"catch-up window {policy.catchup_window or 'default'}"
    )
    for n, at in enumerate(info.next_action_times[:3]):
        lines.append(f"  {'next runs' if n == 0 else '':<12} {_when(at, zone)}")
    if not info.next_action_times:
        lines.append("  next runs    none")
    elif schedule.state.paused:
        lines.append(f"  {'':<12} (skipped while paused: `python starter.py schedule unpause`)")
    recent = list(reversed(info.recent_actions))[:5]
    for n, result in enumerate(recent):
        lines.append(
            f"  {'last runs' if n == 0 else '':<12} {_when(result.scheduled_at, zone)}  "
            f"{await _outcome(client, result.action)}"
        )
    if not recent:
        lines.append("  last runs    none yet")
    lines.append(f"  Web UI       {schedule_link(settings, client.namespace, handle.id)}")
    return "\n".join(lines)


async def _outcome(client: Client, action: object) -> str:
    """A run's workflow ID, status and, once completed, its counts."""
    if not isinstance(action, ScheduleActionExecutionStartWorkflow):
        return "(not a workflow)"
    handle = client.get_workflow_handle_for(
        UnshippedReturnsSweep.run, action.workflow_id, run_id=action.first_execution_run_id
    )
    try:
        status = (await handle.describe()).status
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        # The schedule remembers its runs longer than the namespace's retention keeps them.
        return f"{action.workflow_id} (no longer kept)"
    name = status.name.lower() if status else "unknown"
    text = f"{action.workflow_id} {name}"
    if name == "completed":
        result: SweepResult = await handle.result()
        text += (
            f": found {result.found}, signalled {result.signalled}, "
            f"already ended {result.already_ended}"
        )
    return text


def spec_text(spec: ScheduleSpec) -> str:
    """`09:00 every day (Europe/Paris)`, or each calendar's fields where it is less simple."""
    parts = [_calendar_text(c) for c in spec.calendars]
    parts += [f"cron {c}" for c in spec.cron_expressions]
    parts += [f"every {i.every}" for i in spec.intervals]
    return "; ".join(parts or ["never"]) + f" ({spec.time_zone_name or 'UTC'})"


def _calendar_text(calendar: ScheduleCalendarSpec) -> str:
    full = ScheduleCalendarSpec()  # every day of every month: the defaults
    single = [_single(r) for r in (calendar.hour, calendar.minute, calendar.second)]
    if all(value is not None for value in single):
        hour, minute, second = single
        time = f"{hour:02d}:{minute:02d}" + (f":{second:02d}" if second else "")
    else:
        time = ", ".join(
            f"{name} {_ranges(getattr(calendar, name))}" for name in ("hour", "minute", "second")
        )
    days = [
        f"{name.replace('_', ' ')} {_ranges(getattr(calendar, name))}"
        for name in ("day_of_month", "month", "day_of_week", "year")
        if tuple(getattr(calendar, name)) != tuple(getattr(full, name))
    ]
    return f"{time} " + (", ".join(days) if days else "every day")


def _single(ranges: Sequence[ScheduleRange]) -> int | None:
    if len(ranges) == 1 and ranges[0].end <= ranges[0].start:
        return ranges[0].start
    return None


def _ranges(ranges: Sequence[ScheduleRange]) -> str:
    texts = []
    for r in ranges:
        text = str(r.start) if r.end <= r.start else f"{r.start}-{r.end}"
        texts.append(text + (f"/{r.step}" if r.step > 1 else ""))
    return ",".join(texts) or "*"


def _when(at: dt.datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {zone.key} ({at.astimezone(dt.UTC):%H:%M} UTC)"


def schedule_link(settings: Settings, namespace: str, schedule_id: str) -> str:
    """The schedule's page in the Web UI (Schedules, in the namespace's menu)."""
    base = settings.web_ui_url.rstrip("/")
    return f"{base}/namespaces/{quote(namespace, safe='')}/schedules/{quote(schedule_id, safe='')}"


# --- starter.py schedule ... -------------------------------------------------------------------


async def run_command(
    args: argparse.Namespace, connect: Callable[[], Awaitable[Client]], settings: Settings
) -> int:
    """`starter.py schedule ACTION` (ScheduleMissing when it is not installed but must be)."""
    client = await connect()
    schedule_id = settings.reminder_schedule_id
    if args.action == "install":
        outcome = await install(client, settings)
        print(
            f"schedule {schedule_id} {outcome}: {settings.reminder_cron} in "
            f"{settings.reminder_time_zone}, for the returns of task queue {settings.task_queue}"
        )
        print(f"  {schedule_link(settings, client.namespace, schedule_id)}")
    elif args.action == "show":
        print(await show(client, settings))
    elif args.action == "trigger":
        try:
            run = await trigger(client, settings)
        except TimeoutError:
            print(
                f"schedule {schedule_id} triggered, but no sweep started within "
                f"{TRIGGER_WAIT_SECONDS:.0f}s (one still running is not doubled): "
                "see `python starter.py schedule show`"
            )
        else:
            print(f"schedule {schedule_id} triggered: sweep {run} started")
    else:
        handle = client.get_schedule_handle(schedule_id)
        await _described(handle)
        note = args.note or f"{args.action}d with starter.py schedule {args.action}"
        if args.action == "pause":
            await handle.pause(note=note)
        else:
            await handle.unpause(note=note)
        print(f"schedule {schedule_id} {args.action}d ({note})")
    return OK
