"""Record the history of every path of `WithdrawalWorkflow`, for the replay test.

    python -m tests.histories.record_withdrawals      (part of make histories)

Plays each path on the time-skipping dev server, with the withdrawal function's real activities
(returns started on a worker of doubles, the acknowledgement sent to a mail sink of its own),
and writes the history to tests/histories/withdrawals/{path}.json:

- `confirmed`: the customer confirms one line; its return starts, the acknowledgement is sent;
- `link_ended_unused`: nobody confirms before the link stops opening the page;
- `acknowledgement_refused`: the customer confirms, the relay refuses their address for good
  (550); the receipt says so and the withdrawal ends normally.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

from domain.withdrawals import (
    OfferedLine,
    WithdrawalConfirmation,
    WithdrawalLinkRequest,
    WithdrawalOffer,
    withdrawal_workflow_id,
)
from mail_sink import MailSink
from plumbing.settings import Settings
from plumbing.temporal import exit_process
from tests.factories import retract_event, unique_order_id
from tests.histories.record import time_skipping_environment
from tests.keys import PAGE_KEYS
from tests.workflows.harness import return_harness
from workflows.withdrawal_workflow import WithdrawalWorkflow

WITHDRAWAL_HISTORIES = Path(__file__).parent / "withdrawals"


def offer(open_for: dt.timedelta, email: str | None = None) -> WithdrawalOffer:
    """An order of one delivered phone, withdrawable, its link open for `open_for`."""
    event = retract_event(order_id=unique_order_id("WDR"))
    customer = event.customer
    if email is not None:
        customer = customer.model_copy(update={"email": email})
    request = WithdrawalLinkRequest(
        request_id=uuid.uuid4().hex[:12], customer=customer, lines=[event.order]
    )
    now = dt.datetime.now(dt.UTC)
    return WithdrawalOffer(
        withdrawal_id=withdrawal_workflow_id(request.order_id, request.request_id),
        request=request,
        offered_at=now,
        open_until=now + open_for,
        lines=[
            OfferedLine(line_id="1", withdrawable=True, window_ends_at=now + dt.timedelta(days=20))
        ],
    )


async def confirmed(client: Client, task_queue: str) -> WorkflowHistory:
    handle = await client.start_workflow(
        WithdrawalWorkflow.run,
        offer(dt.timedelta(minutes=60)),
        id=f"withdrawal-confirmed-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    await handle.execute_update(WithdrawalWorkflow.confirm, WithdrawalConfirmation(line_ids=["1"]))
    await handle.result()
    return await handle.fetch_history()


async def link_ended_unused(client: Client, task_queue: str) -> WorkflowHistory:
    handle = await client.start_workflow(
        WithdrawalWorkflow.run,
        offer(dt.timedelta(seconds=2)),
        id=f"withdrawal-unused-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    await handle.result()
    return await handle.fetch_history()


async def acknowledgement_refused(client: Client, task_queue: str) -> WorkflowHistory:
    handle = await client.start_workflow(
        WithdrawalWorkflow.run,
        offer(dt.timedelta(minutes=60), email="camille@marketplace.invalid"),
        id=f"withdrawal-refused-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    await handle.execute_update(WithdrawalWorkflow.confirm, WithdrawalConfirmation(line_ids=["1"]))
    await handle.result()
    return await handle.fetch_history()


PATHS: dict[str, Callable[[Client, str], Awaitable[WorkflowHistory]]] = {
    "confirmed": confirmed,
    "link_ended_unused": link_ended_unused,
    "acknowledgement_refused": acknowledgement_refused,
}


async def record_all() -> int:
    failures = 0
    with tempfile.TemporaryDirectory() as mail:
        async with (
            MailSink(Path(mail)) as sink,
            time_skipping_environment() as env,
        ):
            settings = Settings(
                smtp_host=sink.host,
                smtp_port=sink.port,
                customer_page_keys=SecretStr(PAGE_KEYS),
            )
            async with return_harness(env.client, withdrawals=settings) as harness:
                for name, play in PATHS.items():
                    history = await asyncio.wait_for(
                        play(env.client, harness.settings.task_queue), timeout=60
                    )
                    failed = [
                        e
                        for e in history.events
                        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
                    ]
                    if failed:
                        print(f"FAILED {name}: a workflow task failed", file=sys.stderr)
                        failures += 1
                        continue
                    path = WITHDRAWAL_HISTORIES / f"{name}.json"
                    path.write_text(history.to_json() + "\n", encoding="utf-8")
                    print(f"recorded {path} ({len(history.events)} events)")
    return 1 if failures else 0


if __name__ == "__main__":
    exit_process(asyncio.run(record_all()))
