"""Running `ReturnWorkflow` against doubles: start a return, wait for a stage, play a scan."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkerDeploymentConfig

from activities.feed.activities import FeedActivities
from activities.feed.publisher import FeedPublisher
from activities.notices.sent import SentNotices
from activities.notices.smtp import SmtpNotifier
from activities.reminders.activities import ReminderActivities
from activities.withdrawals.activities import WithdrawalActivities
from client.start import start_return
from domain.carriers import TrackingScan, TrackingStatus
from domain.events import RetractEvent
from domain.notices import NoticeKind
from domain.returns import ReturnStage, ReturnStatus
from plumbing import keepalive
from plumbing.settings import Settings
from store import open_store
from tests.keys import converter_for_tests
from tests.workflows.doubles import Doubles
from worker import workflow_runner
from workflows.event_feed import EventFeedWorkflow
from workflows.reminder_sweep import UnshippedReturnsSweep
from workflows.return_workflow import ReturnWorkflow
from workflows.withdrawal_workflow import WithdrawalWorkflow

ReturnHandle = WorkflowHandle[ReturnWorkflow, ReturnStatus]

LISTENING = "listening for a late parcel"
"""The timeline entry of an expired return that listens for its parcel."""


class ReturnHarness:
    """One worker with doubles on its own task queue, and the client to drive returns."""

    def __init__(self, client: Client, doubles: Doubles, task_queue: str) -> None:
        self.client = client
        self.doubles = doubles
        self.settings = Settings(task_queue=task_queue)

    async def start(self, event: RetractEvent) -> ReturnHandle:
        started = await start_return(self.client, self.settings, event)
        return self.client.get_workflow_handle_for(ReturnWorkflow.run, started.workflow_id)

    async def stage_reached(
        self, handle: ReturnHandle, stage: ReturnStage, within: float = 10
    ) -> ReturnStatus:
        """The return's status once it reaches `stage` (fails the test after `within` s)."""
        return await self.until_status(handle, lambda s: s.stage is stage, within)

    async def until_status(
        self, handle: ReturnHandle, check: Callable[[ReturnStatus], bool], within: float = 10
    ) -> ReturnStatus:
        """The return's status once `check` holds (fails the test after `within` s)."""
        async with asyncio.timeout(within):
            while True:
                status = await handle.query(ReturnWorkflow.status)
                if check(status):
                    return status
                await asyncio.sleep(0.05)

    async def expired_result(self, env: WorkflowEnvironment, handle: ReturnHandle) -> ReturnStatus:
        """The result of a return that expires. One whose parcel has a tracking number listens
        for it a while (`late_parcel_watch`): its clock is moved past the watch."""
        async with asyncio.timeout(60):
            while True:
                described = await handle.describe()
                if described.status is not None and described.status.name != "RUNNING":
                    return await handle.result()
                status = await handle.query(ReturnWorkflow.status)
                if any(e.event == LISTENING for e in status.timeline):
                    break
                await asyncio.sleep(0.05)
        watch = self.doubles.timings.late_parcel_watch
        await env.fast_forward(handle, watch + dt.timedelta(days=1))
        return await handle.result()

    async def told(
        self, handle: ReturnHandle, kind: NoticeKind, within: float = 10
    ) -> ReturnStatus:
        """The return's status once a notice of `kind` has gone out."""
        sent = f"{kind} notice sent"
        return await self.until_status(
            handle, lambda s: any(e.event == sent for e in s.timeline), within
        )

    async def in_transit(self, handle: ReturnHandle, within: float = 10) -> ReturnStatus:
        """The status of a return whose parcel has left, once both sides are told (the refund
        requested first when it is requested on proof of dispatch)."""
        told = f"{NoticeKind.SELLER_PARCEL_INBOUND} notice sent"
        return await self.until_status(
            handle,
            lambda s: s.stage is ReturnStage.PICKED_UP and any(e.event == told for e in s.timeline),
            within,
        )

    async def to_the_end(self, env: WorkflowEnvironment, handle: ReturnHandle) -> ReturnStatus:
        """The result of a return whose parcel has left: the carrier delivers it, the seller
        stays silent through the inspection period (as sold), and the return completes."""
        status = await self.until_status(
            handle,
            lambda s: (
                s.stage in (ReturnStage.PICKED_UP, ReturnStage.DELIVERED)
                and (s.refund is not None or s.stage is ReturnStage.PICKED_UP)
            ),
        )
        if status.stage is ReturnStage.PICKED_UP:
            assert status.tracking_number is not None
            await self.scan(handle, status.tracking_number, TrackingStatus.DELIVERED)
        status = await self.until_status(handle, lambda s: s.inspection is not None)
        await env.fast_forward(
            handle, self.doubles.timings.inspection_period + dt.timedelta(days=1)
        )
        return await handle.result()

    async def scan(
        self,
        handle: ReturnHandle,
        tracking_number: str,
        status: TrackingStatus = TrackingStatus.ACCEPTED,
        *,
        scan_id: str | None = None,
        at: dt.datetime | None = None,
    ) -> TrackingScan:
        scan = TrackingScan(
            carrier="sandbox",
            tracking_number=tracking_number,
            scan_id=scan_id or f"SC-{uuid.uuid4().hex[:8]}",
            status=status,
            occurred_at=at or dt.datetime.now(dt.UTC),
            location="Lyon sorting centre",
        )
        await handle.signal(ReturnWorkflow.carrier_scan, scan)
        return scan


async def time_to(
    handle: ReturnHandle, deadline: Callable[[ReturnStatus], dt.datetime | None]
) -> dt.timedelta:
    """How far one of the return's deadlines (as its status tells it) lies from the withdrawal
    notice: what to `fast_forward` a return just started to bring its clock there. The legal
    periods end at the end of a day in the customer's time zone, moved past weekends and public
    holidays, so a test cannot assume 14 days of 24 hours."""
    status = await handle.query(ReturnWorkflow.status)
    when = deadline(status)
    assert when is not None, "the return has no such deadline yet"
    return when - status.notice_at


async def failed_tasks(handle: ReturnHandle) -> list[str]:
    """Why the return's workflow tasks failed, if any did, decrypted (failures are stored
    encoded): a return must never have one.

    Not counted: the server's own `UnhandledCommand`, which it records when a task would close
    the workflow while a message it has not seen yet arrived (a signal or an update during the
    task): no code of the workflow failed, and the next task, at once, takes the message in."""
    history = await handle.fetch_history()
    converter = converter_for_tests()
    unhandled = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
    return [
        str(await converter.decode_failure(e.workflow_task_failed_event_attributes.failure))
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        and e.workflow_task_failed_event_attributes.cause != unhandled
    ]


async def runs_of(client: Client, workflow_id: str, *, at_least: int = 1) -> list[str]:
    """The run IDs visibility lists under `workflow_id`, once it lists `at_least` of them."""
    async with asyncio.timeout(10):
        while True:
            runs = [w.run_id async for w in client.list_workflows(f'WorkflowId = "{workflow_id}"')]
            if len(runs) >= at_least:
                return runs
            await asyncio.sleep(0.1)


@asynccontextmanager
async def return_harness(
    client: Client,
    doubles: Doubles | None = None,
    *,
    sweep: bool = False,
    task_queue: str | None = None,
    deployment: WorkerDeploymentConfig | None = None,
    withdrawals: Settings | None = None,
    feed: FeedActivities | None = None,
) -> AsyncIterator[ReturnHarness]:
    """A worker running `ReturnWorkflow` with `doubles` for every activity; with `sweep`, also
    the reminder sweep and its real activity, over this worker's returns (as worker.py does).
    A task queue of its own, unless `task_queue` names one (a worker taking over); with
    `deployment`, a version of that Worker Deployment (returns pinned to its build); with
    `withdrawals` (settings naming the SMTP relay), also the withdrawal function's workflow and
    its real activities, which start returns on this worker; with `feed`, the real delivery of
    the event feed instead of its double."""
    doubles = doubles or Doubles()
    task_queue = task_queue or f"returns-test-{uuid.uuid4().hex[:8]}"
    workflows: list[type] = [ReturnWorkflow, EventFeedWorkflow]
    activities: list[Callable[..., Any]] = [
        *doubles.activities(),
        FeedPublisher(client).publish_events,
    ]
    if feed is not None:
        doubled = (doubles.deliver_event, doubles.deliver_events)
        activities = [a for a in activities if a not in doubled]
        activities += [feed.deliver_event, feed.deliver_events]
    if sweep:
        reminders = ReminderActivities.from_settings(client, Settings(task_queue=task_queue))
        workflows.append(UnshippedReturnsSweep)
        activities.append(reminders.remind_unshipped_returns)
    async with contextlib.AsyncExitStack() as stack:
        if withdrawals is not None:
            settings = withdrawals.model_copy(update={"task_queue": task_queue})
            store = open_store(settings)
            stack.callback(store.close)
            actions = WithdrawalActivities(
                client, settings, SmtpNotifier(settings), SentNotices(store)
            )
            workflows.append(WithdrawalWorkflow)
            activities += [actions.start_withdrawn_returns, actions.acknowledge_withdrawal]
        await stack.enter_async_context(
            Worker(
                client,
                task_queue=task_queue,
                workflows=workflows,
                activities=activities,
                workflow_runner=workflow_runner(),
                **keepalive.worker_options(),
                deployment_config=deployment,
            )
        )
        yield ReturnHarness(client, doubles, task_queue)
