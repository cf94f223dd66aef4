"""`starter.py schedule ...` as an operator runs it, against the dev server: the reminder
schedule installed once whatever the number of installs, at 09:00 Europe/Paris, paused and
resumed with a note, and triggered by hand."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleRange,
)
from temporalio.testing import WorkflowEnvironment

from domain.notices import NoticeKind
from domain.returns import ReturnStage, ShippingReminder
from plumbing.settings import Settings
from reminders import schedule as reminder_schedule
from tests.cli import run_command
from tests.factories import retract_event
from tests.keys import NEXT_KEY, NEXT_KEY_ID, TEST_KEYS
from tests.workflows.harness import return_harness

ROOT = Path(__file__).resolve().parents[2]
PARIS = ZoneInfo("Europe/Paris")


class Operator:
    """Runs `starter.py schedule ...` against the test's Temporal, with its own schedule
    ID and task queue (as one deployment's settings would give them)."""

    def __init__(self, env: WorkflowEnvironment, task_queue: str | None = None) -> None:
        self.env = env
        self.schedule_id = f"unshipped-returns-reminder-{uuid.uuid4().hex[:8]}"
        self.vars = {
            k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNFLOW_"))
        }
        self.vars |= {
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": env.client.namespace,
            "RETURNFLOW_REMINDER_SCHEDULE_ID": self.schedule_id,
            "RETURNFLOW_TASK_QUEUE": task_queue or f"returns-{uuid.uuid4().hex[:8]}",
            "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS,
        }

    async def schedule(self, *args: str, **settings: str) -> tuple[int, str, str]:
        """Exit status, output and errors of `starter.py schedule ARGS`."""
        env = self.vars | {f"RETURNFLOW_{k.upper()}": v for k, v in settings.items()}
        ran = await run_command(["schedule", *args], env)
        return ran.returncode, ran.stdout, ran.stderr

    async def schedules(self) -> list[str]:
        """The schedules of this ID the namespace lists (its listing lags a moment behind)."""
        async with asyncio.timeout(10):
            while True:
                listed = await self.env.client.list_schedules()
                found = [s.id async for s in listed if s.id == self.schedule_id]
                if found:
                    return found
                await asyncio.sleep(0.1)


async def test_installing_twice_leaves_one_schedule_at_nine_in_paris(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    operator = Operator(time_skipping_env)

    first = await operator.schedule("install")
    second = await operator.schedule("install")
    described = await time_skipping_env.client.get_schedule_handle(operator.schedule_id).describe()

    assert (
        first[0] == 0 and f"{operator.schedule_id} created: 0 9 * * * in Europe/Paris" in first[1]
    )
    assert second[0] == 0 and f"{operator.schedule_id} unchanged" in second[1]
    assert await operator.schedules() == [operator.schedule_id]
    spec = described.schedule.spec
    assert spec.time_zone_name == "Europe/Paris"
    (calendar,) = spec.calendars
    assert calendar.hour == (ScheduleRange(9, 9, 1),)
    assert calendar.minute == (ScheduleRange(0, 0, 1),)
    next_runs = [at.astimezone(PARIS) for at in described.info.next_action_times]
    assert next_runs and {(at.hour, at.minute) for at in next_runs} == {(9, 0)}
    days_apart = {(b.date() - a.date()).days for a, b in itertools.pairwise(next_runs)}
    assert days_apart == {1}, "every day"
    policy = described.schedule.policy
    assert policy.overlap.name == "SKIP" and policy.catchup_window == dt.timedelta(hours=6)
    assert f"/schedules/{operator.schedule_id}" in first[1]  # where to see it in the Web UI


async def test_after_a_key_rotation_install_rewrites_the_schedule_under_the_new_key(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    operator = Operator(time_skipping_env)
    await operator.schedule("install")

    # The old key is gone from this operator's keys: the sweep's argument must be rewritten.
    rotated = await operator.schedule("install", payload_keys=f"{NEXT_KEY_ID}={NEXT_KEY}")

    assert rotated[0] == 0, rotated[2]
    assert f"{operator.schedule_id} updated" in rotated[1]
    described = await time_skipping_env.client.get_schedule_handle(operator.schedule_id).describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    [argument] = action.args
    assert isinstance(argument, Payload)
    assert argument.metadata["encryption-key-id"] == NEXT_KEY_ID.encode()


async def test_install_updates_the_schedule_in_place_and_keeps_it_paused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    operator = Operator(time_skipping_env)
    await operator.schedule("install")
    paused = await operator.schedule("pause", "--note", "carrier strike: no reminders today")

    changed = await operator.schedule("install", reminder_cron="30 8 * * 1-5")
    shown = await operator.schedule("show", reminder_cron="30 8 * * 1-5")
    described = await time_skipping_env.client.get_schedule_handle(operator.schedule_id).describe()
    resumed = await operator.schedule("unpause")
    after = await time_skipping_env.client.get_schedule_handle(operator.schedule_id).describe()

    assert paused[0] == 0 and "paused (carrier strike: no reminders today)" in paused[1]
    assert changed[0] == 0 and f"{operator.schedule_id} updated: 30 8 * * 1-5" in changed[1]
    assert await operator.schedules() == [operator.schedule_id]
    assert described.schedule.state.paused
    assert described.schedule.state.note == "carrier strike: no reminders today"
    (calendar,) = described.schedule.spec.calendars
    assert (calendar.hour, calendar.minute) == (
        (ScheduleRange(8, 8, 1),),
        (ScheduleRange(30, 30, 1),),
    )
    assert shown[0] == 0, shown[2]
    assert f"schedule {operator.schedule_id}: PAUSED" in shown[1]
    assert "note         carrier strike: no reminders today" in shown[1]
    assert "08:30 day of week 1-5 (Europe/Paris)" in shown[1]
    assert ":30 Europe/Paris (" in shown[1]  # the next runs, on the zone's clock
    assert resumed[0] == 0 and not after.schedule.state.paused
    assert after.schedule.state.note == "unpaused with starter.py schedule unpause"


async def test_commands_on_a_schedule_not_installed_say_how_to_install_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    operator = Operator(time_skipping_env)

    for action in ("show", "trigger", "pause", "unpause"):
        code, _out, err = await operator.schedule(action)
        assert code == 1, action
        assert f"error: schedule {operator.schedule_id} is not installed: run " in err


async def test_a_cron_that_is_not_one_is_refused_naming_the_setting(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    operator = Operator(time_skipping_env)

    code, _out, err = await operator.schedule("install", reminder_cron="every morning")

    assert code == 2, err
    assert "RETURNFLOW_REMINDER_CRON: " in err
    assert "not a cron expression: 'every morning'" in err
    assert "Traceback" not in err
    assert (await operator.schedule("show"))[0] == 1  # not installed


@pytest.mark.parametrize("schedule_id", ["_reminders", "reminders#1", "r" * 101])
async def test_a_schedule_id_its_sweeps_could_not_sign_reminders_with_is_refused(
    time_skipping_env: WorkflowEnvironment, schedule_id: str
) -> None:
    """Each sweep names itself in the reminders it sends, by its workflow ID (the schedule's
    ID and the run's time): an ID the reminders cannot carry would fail every sweep."""
    operator = Operator(time_skipping_env)

    code, _out, err = await operator.schedule("install", reminder_schedule_id=schedule_id)

    assert code == 2, err
    assert "RETURNFLOW_REMINDER_SCHEDULE_ID" in err
    assert "Traceback" not in err


def test_the_longest_schedule_id_still_fits_a_reminders_origin() -> None:
    settings = Settings(_env_file=None, reminder_schedule_id="r" * 100)
    sweep = f"{settings.reminder_schedule_id}-2026-12-07T09:00:00Z"

    reminder = ShippingReminder(day=dt.date(2026, 12, 7), origin=f"{sweep}/{uuid.uuid4()}")

    assert reminder.origin.startswith(settings.reminder_schedule_id)


async def test_a_cron_value_out_of_range_is_refused_naming_the_setting(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Minute 99 has a cron's shape: Temporal's calendar is what refuses it."""
    operator = Operator(time_skipping_env)

    code, _out, err = await operator.schedule("install", reminder_cron="99 99 * * *")

    assert code == 2, err
    assert "RETURNFLOW_REMINDER_CRON: Temporal refused '99 99 * * *' in " in err
    assert "Minute is not in range [0-59]" in err
    assert "Traceback" not in err
    assert (await operator.schedule("show"))[0] == 1  # not installed

    assert (await operator.schedule("install", reminder_cron="30 8 * * *"))[0] == 0
    code, _out, err = await operator.schedule("install", reminder_cron="0 25 * * *")
    assert code == 2, err
    assert "Hour is not in range [0-23]" in err
    code, shown, _err = await operator.schedule("show", reminder_cron="30 8 * * *")
    assert code == 0
    assert "  runs         08:30 every day (" in shown  # the schedule in place, as it was


async def test_a_recent_run_the_namespace_no_longer_keeps_is_shown_as_such(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The schedule remembers its last runs longer than the namespace's retention keeps their
    workflows: `show` names such a run instead of failing."""
    gone = ScheduleActionExecutionStartWorkflow(
        workflow_id="unshipped-returns-reminder-2026-01-05T08:00:00Z",
        first_execution_run_id=str(uuid.uuid4()),
    )

    shown = await reminder_schedule._outcome(time_skipping_env.client, gone)

    assert shown == f"{gone.workflow_id} (no longer kept)"


async def test_trigger_runs_the_sweep_now(time_skipping_env: WorkflowEnvironment) -> None:
    async with return_harness(time_skipping_env.client, sweep=True) as harness:
        notice_at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=12)
        handle = await harness.start(retract_event(notice_at=notice_at))
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        operator = Operator(time_skipping_env, task_queue=harness.settings.task_queue)
        await operator.schedule("install")
        await operator.schedule("pause")  # a paused schedule runs only when told

        async with asyncio.timeout(15):  # visibility catches up with the return's stage
            while True:
                triggered = await operator.schedule("trigger")
                assert triggered[0] == 0, triggered[2]
                sweep_id = triggered[1].split("sweep ")[1].split()[0]
                result = await time_skipping_env.client.get_workflow_handle(sweep_id).result()
                if result["found"]:
                    break
        shown = await operator.schedule("show")

    assert (
        f"schedule {operator.schedule_id} triggered: sweep {operator.schedule_id}-" in triggered[1]
    )
    assert result["signalled"] == 1
    assert [n.kind for n in harness.doubles.notices].count(NoticeKind.SHIPPING_REMINDER) == 1
    assert f"{sweep_id} completed: found 1, signalled 1, already ended 0" in shown[1]
