"""The reminder schedule on the real stack: installed by the stack itself, and a sweep run by
hand emails the customer whose parcel is due in two days (the email in the SMTP sink)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devstack.demo import redate
from devstack.stack import DevStack
from domain.eligibility import return_calendar
from domain.events import RetractEvent
from domain.periods import period_end
from domain.returns import ReturnStage
from tests.e2e.conftest import ROOT, starter
from tests.e2e.stack_test import mail_for, stage_of, text_of
from tests.factories import reminded_notice_at

pytestmark = pytest.mark.e2e

SAMPLE = ROOT / "examples" / "events" / "02-post-office-drop-off.json"


async def test_the_stack_installs_the_reminder_schedule_at_nine_in_paris(stack: DevStack) -> None:
    handle = stack.client.get_schedule_handle("unshipped-returns-reminder")

    described = await handle.describe()
    again = starter(stack, "schedule", "install")

    assert described.schedule.spec.time_zone_name == "Europe/Paris"
    next_run = described.info.next_action_times[0].astimezone(ZoneInfo("Europe/Paris"))
    assert (next_run.hour, next_run.minute) == (9, 0)
    assert not described.schedule.state.paused
    assert again.returncode == 0 and "unshipped-returns-reminder unchanged" in again.stdout
    ui = f"{stack.config.web_ui_url}/namespaces/default/schedules/unshipped-returns-reminder"
    assert ui in again.stdout


async def test_a_triggered_sweep_emails_the_customer_whose_parcel_is_due_soon(
    stack: DevStack, tmp_path: Path
) -> None:
    sample = RetractEvent.model_validate_json(SAMPLE.read_bytes())
    withdrawn = reminded_notice_at(country_code=sample.customer.address.country_code)
    event = redate(sample, withdrawn, "E2ER")
    path = tmp_path / "event.json"
    path.write_text(event.model_dump_json())
    workflow_id = f"return-{event.order.order_id}-{event.order.line_id}"
    assert starter(stack, "retract", str(path)).returncode == 0
    await stage_of(stack, workflow_id, ReturnStage.AWAITING_CUSTOMER_CHOICE)

    async with asyncio.timeout(30):  # visibility catches up with the return's stage
        while "shipping_reminder" not in mail_for(stack, workflow_id):
            triggered = starter(stack, "schedule", "trigger")
            assert triggered.returncode == 0, triggered.stderr
            await asyncio.sleep(1)
    shown = starter(stack, "schedule", "show")

    reminder = mail_for(stack, workflow_id)["shipping_reminder"]
    assert reminder["To"].addresses[0].addr_spec == event.customer.email
    assert reminder["Subject"].startswith("Reminder: please send back MacBook Air M1")
    # The end of the 14th day after the withdrawal, in the customer's days.
    ship_by = period_end(withdrawn, 14, return_calendar(event))
    text = text_of(reminder)
    by = f"{ship_by.day} {ship_by:%B %Y}"
    # Due within the sweep's horizon, or (on a Friday night, Christmas Day) just overdue.
    due = ship_by > dt.datetime.now(dt.UTC)
    assert (f"please send it by {by}" if due else f"it had to be sent by {by}") in text
    assert "Choose how to send it on your return page" in text
    assert "completed: found 1, signalled 1" in shown.stdout
