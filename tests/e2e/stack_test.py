"""Returns end to end through the real processes: what the customer receives, and what not."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import re
import sqlite3
from email.message import EmailMessage
from pathlib import Path

import pytest
from pypdf import PdfReader
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from activities.notices.compose import notice_key
from devstack.demo import carrier_collects, redate
from devstack.stack import DevStack
from domain.calendar import next_pickup_date
from domain.events import RetractEvent
from domain.returns import ReturnStage
from mail_sink import read_mailbox
from tests.e2e.conftest import ROOT, starter
from workflows.return_workflow import INVALID_START, ReturnWorkflow

pytestmark = pytest.mark.e2e

EVENTS = ROOT / "examples" / "events"


def sample(name: str, tmp: Path, suffix: str) -> tuple[RetractEvent, Path]:
    """A sample event, withdrawn now, written where the CLI can read it."""
    event = redate(
        RetractEvent.model_validate_json((EVENTS / name).read_bytes()),
        dt.datetime.now(dt.UTC).replace(microsecond=0),
        suffix,
    )
    path = tmp / name
    path.write_text(event.model_dump_json())
    return event, path


def mail_for(stack: DevStack, workflow_id: str) -> dict[str, EmailMessage]:
    messages: dict[str, EmailMessage] = {}
    for message in read_mailbox(stack.config.mail_dir):
        key = notice_key(str(message["Message-ID"]))
        if key and key.return_id == workflow_id:
            assert key.kind not in messages, f"{key.kind} sent twice"
            messages[key.kind.value] = message
    return messages


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def on_its_way(stack: DevStack, workflow_id: str) -> None:
    """The parcel has left and both sides are told: the return follows it to the seller."""
    handle = stack.client.get_workflow_handle(workflow_id)
    told = "seller_parcel_inbound notice sent"
    async with asyncio.timeout(30):
        while not any(
            e.event == told for e in (await handle.query(ReturnWorkflow.status)).timeline
        ):
            await asyncio.sleep(0.2)


async def stage_of(stack: DevStack, workflow_id: str, stage: ReturnStage) -> None:
    handle = stack.client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(30):
        while (await handle.query(ReturnWorkflow.status)).stage is not stage:
            await asyncio.sleep(0.2)


async def test_mailbox_pickup_return_reaches_the_customer_with_label_and_pickup_notice(
    stack: DevStack, tmp_path: Path
) -> None:
    event, path = sample("01-mailbox-pickup.json", tmp_path, "E2E1")
    workflow_id = f"return-{event.order.order_id}-{event.order.line_id}"

    started = starter(stack, "retract", str(path))
    assert started.returncode == 0, started.stderr
    assert f"{workflow_id} started" in started.stdout
    assert f"{stack.config.web_ui_url}/namespaces/default/workflows/{workflow_id}" in started.stdout

    again = starter(stack, "retract", str(path))
    assert again.returncode == 0, again.stderr
    assert f"{workflow_id} already exists (duplicate event, nothing started)" in again.stdout

    await stage_of(stack, workflow_id, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    pickup_day = next_pickup_date(dt.datetime.now(dt.UTC)).isoformat()
    chosen = starter(
        stack,
        "choose",
        f"{event.order.order_id}-{event.order.line_id}",
        "--method=mailbox_pickup",
        "--carrier=sandbox",
        f"--pickup-date={pickup_day}",
    )
    assert chosen.returncode == 0, chosen.stderr
    assert "stage: awaiting_pickup" in chosen.stdout
    tracking = re.search(r"tracking\s+(SB\d{9}FR)", chosen.stdout)
    assert tracking, chosen.stdout

    await carrier_collects(stack, tracking.group(1))
    await on_its_way(stack, workflow_id)

    status = starter(stack, "status", event.order.order_id)
    assert status.returncode == 0, status.stderr
    assert "stage: picked_up" in status.stdout
    assert f"pickup      {pickup_day} before 08:00" in status.stdout
    assert "pickup_confirmed notice sent" in status.stdout

    mail = mail_for(stack, workflow_id)
    # The seller's address is on file: the acknowledgement and the address are one email.
    assert list(mail) == [
        "return_address",
        "return_label",
        "pickup_confirmed",
        "seller_parcel_inbound",
    ]
    for kind, message in mail.items():
        recipient = message["To"].addresses[0].addr_spec
        assert recipient == (
            "returns@refurbpro.example" if kind.startswith("seller_") else event.customer.email
        )
        assert message.get_body(preferencelist=("html",)) is not None
    assert "33700 Mérignac" in text_of(mail["return_address"])
    label_mail = mail["return_label"]
    assert pickup_day[-2:].lstrip("0") in text_of(label_mail)
    (attachment,) = list(label_mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    pdf_text = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert tracking.group(1) in pdf_text
    assert "12 rue des Lilas" in pdf_text and "4 allée des Artisans" in pdf_text
    assert tracking.group(1) in text_of(mail["pickup_confirmed"])


async def test_counter_and_rejected_returns_get_their_own_emails(
    stack: DevStack, tmp_path: Path
) -> None:
    counter, counter_path = sample("03-post-office-counter.json", tmp_path, "E2E2")
    late, late_path = sample("04-outside-return-window.json", tmp_path, "E2E2")
    counter_id = f"return-{counter.order.order_id}-{counter.order.line_id}"
    late_id = f"return-{late.order.order_id}-{late.order.line_id}"

    assert starter(stack, "retract", str(counter_path)).returncode == 0
    assert starter(stack, "retract", str(late_path)).returncode == 0
    await stage_of(stack, counter_id, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    chosen = starter(
        stack,
        "choose",
        counter_id,
        "--method=post_office_counter",
        "--carrier=sandbox",
    )
    assert chosen.returncode == 0, chosen.stderr
    code = re.search(r"counter\s+code (\w+)", chosen.stdout)
    tracking = re.search(r"tracking\s+(SB\d{9}FR)", chosen.stdout)
    assert code and tracking, chosen.stdout
    await carrier_collects(stack, tracking.group(1))
    await on_its_way(stack, counter_id)
    # A rejected return stays open for operations to review: it does not complete at once.
    await stage_of(stack, late_id, ReturnStage.REJECTED)

    counter_mail = mail_for(stack, counter_id)
    assert list(counter_mail) == [
        "return_address",
        "counter_code",
        "pickup_confirmed",
        "seller_parcel_inbound",
    ]
    assert code.group(1) in text_of(counter_mail["counter_code"])
    assert list(mail_for(stack, late_id)) == ["rejection"]


async def test_bad_input_is_refused_naming_the_field_and_starts_nothing(
    stack: DevStack, tmp_path: Path
) -> None:
    event, _ = sample("02-post-office-drop-off.json", tmp_path, "E2E3")
    raw = event.model_dump_json().replace('"locale":"en"', '"locale":"english"')
    bad = tmp_path / "bad.json"
    bad.write_text(raw.replace('"status":"delivered"', '"status":"delivered","gift":true'))

    result = starter(stack, "retract", str(bad))

    assert result.returncode == 2
    assert "customer.locale" in result.stderr
    assert "order.gift: Extra inputs are not permitted" in result.stderr
    missing = starter(stack, "status", event.order.order_id)
    assert missing.returncode == 1 and "no return found" in missing.stderr


async def test_a_failed_return_is_reported_clearly_by_status(stack: DevStack) -> None:
    raw = json.loads((EVENTS / "02-post-office-drop-off.json").read_text())
    raw["order"]["order_id"] = "ORD-E2E-BROKEN"
    raw["customer"]["email"] = "not an email"
    handle = await stack.client.start_workflow(
        "ReturnWorkflow", raw, id="return-ORD-E2E-BROKEN-2", task_queue=stack.settings.task_queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == INVALID_START

    status = starter(stack, "status", "ORD-E2E-BROKEN-2")

    assert status.returncode == 1
    assert status.stderr.startswith("error: return-ORD-E2E-BROKEN-2 is failed: ")
    assert "customer.email" in status.stderr and "Traceback" not in status.stderr


async def test_logs_carry_no_names_emails_or_street_lines(stack: DevStack, tmp_path: Path) -> None:
    event, path = sample("02-post-office-drop-off.json", tmp_path, "E2E4")
    workflow_id = f"return-{event.order.order_id}-{event.order.line_id}"
    assert starter(stack, "retract", str(path)).returncode == 0
    await stage_of(stack, workflow_id, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    chosen = starter(
        stack, "choose", workflow_id, "--method=post_office_drop_off", "--carrier=sandbox"
    )
    assert chosen.returncode == 0, chosen.stderr

    logs = "".join(p.read_text() for p in stack.config.log_dir.glob("*.log"))

    assert workflow_id in logs and '"service": "worker"' in logs
    assert '"temporal_workflow"' in logs and '"temporal_activity"' in logs
    for personal in personal_data_of_the_samples():
        assert personal not in logs


def personal_data_of_the_samples() -> set[str]:
    found = set()
    for path in EVENTS.glob("*.json"):
        customer = RetractEvent.model_validate_json(path.read_bytes()).customer
        found |= {customer.name, customer.email, customer.address.line1}
    return found


async def test_the_dev_server_keeps_its_sqlite_file_in_wal_mode(stack: DevStack) -> None:
    database = stack.config.var_dir / "temporal.sqlite"
    # Read-only, beside the running server: WAL lets a reader in while it writes.
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        (journal_mode,) = db.execute("PRAGMA journal_mode").fetchone()

    assert journal_mode == "wal"
    assert stack.config.sqlite_pragma_args() == [
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
    ]
