"""The returnflow worker: hosts `ReturnWorkflow`, the reminder sweep and every activity on
the `returns` queue.

python worker.py            # connects with TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / ...
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, NoReturn

import structlog
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.carriers.activities import CarrierActivities
from activities.carriers.ledger import CarrierLedger
from activities.carriers.registry import CarrierConfigurationError, CarrierRegistry
from activities.feed.activities import FeedActivities
from activities.feed.publisher import FeedPublisher
from activities.intake import IntakeActivities
from activities.notices.activities import NoticeActivities
from activities.notices.compose import NoticeComposer
from activities.notices.post_offices import CarrierPostOffices
from activities.notices.sent import SentNotices
from activities.notices.smtp import KEEP_OPEN, SmtpNotifier
from activities.orders import OrderActivities
from activities.parcels import ParcelActivities
from activities.reminders.activities import ReminderActivities
from activities.sellers.activities import SellerActivities
from activities.withdrawals.activities import WithdrawalActivities
from monitoring.return_counts import counting
from plumbing import bytecode, keepalive, logs, metrics, telemetry, temporal, versioning
from plumbing.bearer import TokenConfigError
from plumbing.encryption import EncryptionCodec, PayloadKeyError
from plumbing.public_defaults import PublicDefaultsRefused, refuse_public_defaults
from plumbing.settings import Settings
from plumbing.settings import refusal as settings_refusal
from plumbing.telemetry import TelemetryConfigError
from store import StoreError, open_store
from workflows.event_feed import EventFeedWorkflow
from workflows.reminder_sweep import UnshippedReturnsSweep
from workflows.return_workflow import ReturnWorkflow
from workflows.withdrawal_workflow import WithdrawalWorkflow

PASSTHROUGH_MODULES = (
    "domain",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "workflows.transitions",
    "workflows.return_state",
    "workflows.return_view",
    "workflows.failures",
    "workflows.policies",
    "workflows.feed_changes",
    "reminders.models",
    "plumbing.metrics",
    # The tracing interceptor's workflow side (when traces are on).
    "opentelemetry",
)
"""Pure modules imported once, outside the sandbox, instead of on every workflow run (the
ones that call the workflow API, or hold the workflow classes, are the sandbox's to check)."""

SANDBOXED = ("workflows",)
"""The package the workflow sandbox imports again for every workflow run (less the modules
passed through): its bytecode is kept (`plumbing.bytecode`)."""

log = structlog.get_logger("worker")


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )


TUNING = (
    "worker_workflow_task_pollers",
    "worker_activity_task_pollers",
    "worker_max_concurrent_workflow_tasks",
    "worker_max_concurrent_activities",
    "worker_max_cached_workflows",
)
"""The settings that tune a worker."""


def worker_tuning_of(settings: Settings) -> dict[str, int]:
    """The worker's tuning as `settings` give it, by setting."""
    return {name: getattr(settings, name) for name in TUNING}


def worker_tuning(settings: Settings) -> dict[str, Any]:
    """The worker's pollers, slots and sticky cache (`RETURNFLOW_WORKER_*`; what each changes:
    docs/benchmarks.md, Worker tuning), as `Worker` arguments."""
    return {
        "workflow_task_poller_behavior": PollerBehaviorSimpleMaximum(
            settings.worker_workflow_task_pollers
        ),
        "activity_task_poller_behavior": PollerBehaviorSimpleMaximum(
            settings.worker_activity_task_pollers
        ),
        "max_concurrent_workflow_tasks": settings.worker_max_concurrent_workflow_tasks,
        "max_concurrent_activities": settings.worker_max_concurrent_activities,
        "max_cached_workflows": settings.worker_max_cached_workflows,
    }


@asynccontextmanager
async def build_worker(client: Client, settings: Settings) -> AsyncIterator[Worker]:
    """A worker with every activity wired to its adapter; the adapters close with it."""
    async with contextlib.AsyncExitStack() as adapters:
        store = open_store(settings)
        adapters.callback(store.close)
        imported = CarrierLedger(store).import_file(settings.carrier_ledger_path)
        if imported is not None:
            log.info("carrier ledger file imported", rows=imported, store=store.describe())
        carriers = CarrierRegistry.from_settings(settings, store)
        adapters.push_async_callback(carriers.aclose)
        orders = OrderActivities.from_settings(settings)
        adapters.push_async_callback(orders.aclose)
        sellers = SellerActivities.from_settings(settings)
        adapters.push_async_callback(sellers.aclose)
        feed = FeedActivities.from_settings(settings)
        adapters.push_async_callback(feed.aclose)
        # One notifier for every email the worker sends, its connections kept open between them.
        mail = SmtpNotifier(settings, keep_open=KEEP_OPEN)
        adapters.push_async_callback(mail.aclose)
        sent = SentNotices(store)
        notices = NoticeActivities(
            mail,
            NoticeComposer(settings),
            carriers,
            sellers.directory,
            CarrierPostOffices(carriers),
            sent,
        )
        carrier_activities = CarrierActivities(carriers)
        intake = IntakeActivities(orders, sellers, carrier_activities, feed.plan())
        reminders = ReminderActivities.from_settings(client, settings)
        parcels = ParcelActivities(client)
        withdrawals = WithdrawalActivities(client, settings, mail, sent)
        publisher = FeedPublisher(client)
        yield Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[
                ReturnWorkflow,
                UnshippedReturnsSweep,
                WithdrawalWorkflow,
                EventFeedWorkflow,
            ],
            activities=[
                intake.take_in,
                intake.lookups_for_acceptance,
                orders.request_refund,
                orders.file_claim,
                parcels.running_holders,
                sellers.message_seller,
                carrier_activities.price_return_labels,
                carrier_activities.create_return_label,
                carrier_activities.void_label,
                carrier_activities.book_mailbox_pickup,
                carrier_activities.cancel_pickup,
                carrier_activities.request_counter_code,
                carrier_activities.track_parcel,
                carrier_activities.poll_parcel_scans,
                carrier_activities.parcel_destination,
                notices.send_notices,
                reminders.remind_unshipped_returns,
                withdrawals.start_withdrawn_returns,
                withdrawals.acknowledge_withdrawal,
                feed.deliver_event,
                feed.deliver_events,
                publisher.publish_events,
            ],
            workflow_runner=workflow_runner(),
            # Heartbeats for every activity given a heartbeat timeout: a lost worker's calls
            # are retried elsewhere within that timeout.
            **keepalive.worker_options(),
            deployment_config=versioning.deployment_config(settings),
            **worker_tuning(settings),
            # Carrier calls and emails in hand finish rather than being retried elsewhere.
            graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
        )


async def main() -> None:
    try:
        settings = Settings()
    except ValidationError as err:
        _cannot_start("settings", settings_refusal(err))
    logs.configure("worker", settings.log_level)
    try:
        refuse_public_defaults(settings)
    except PublicDefaultsRefused as err:
        _cannot_start("configuration", str(err))
    try:
        codec = temporal.codec_from_settings(settings)
    except PayloadKeyError as err:
        _cannot_start("payload keys", str(err))
    log.info("payload encryption", current_key=codec.keyring.current, keys=codec.keyring.key_ids)
    bytecode.compile_for_sandbox(SANDBOXED)
    try:
        exported = telemetry.from_settings(settings, "worker")
    except TelemetryConfigError as err:
        _cannot_start("telemetry", str(err))
    refused: tuple[str, str, int] | None = None
    try:
        await _run(settings, codec, exported)
    except StoreError as err:
        refused = ("store", str(err), 2)
    except (CarrierConfigurationError, TokenConfigError, temporal.TemporalConfigError) as err:
        refused = ("configuration", str(err), 2)
    except temporal.TemporalUnreachable as err:
        refused = ("Temporal", str(err), 1)
    finally:
        exported.close()
    if refused is not None:
        _cannot_start(*refused)
    log.info("worker stopped")


def _cannot_start(what: str, why: str, code: int = 2) -> NoReturn:
    """Say why the worker cannot start, in its log and on stderr, and exit with `code` (2: its
    configuration, 1: what it needs is out of reach)."""
    log.error(f"cannot start: {what}", error=why)
    print(f"error: {why}", file=sys.stderr)
    temporal.exit_process(code)


async def _run(settings: Settings, codec: EncryptionCodec, exported: telemetry.Telemetry) -> None:
    client = await temporal.connect(codec, **exported.connect_options())
    workflow_labels = {
        "namespace": client.namespace,
        "task_queue": settings.task_queue,
        "workflow_type": "ReturnWorkflow",
    }
    metrics.announce("worker", workflow_labels)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The counts feed only the metrics: without them, nothing is asked of visibility.
    counted = (
        counting(client, settings.task_queue, settings.returns_count_seconds)
        if settings.metrics_address
        else contextlib.nullcontext()
    )
    async with build_worker(client, settings) as worker, worker, counted:
        log.info("worker started", task_queue=settings.task_queue, namespace=client.namespace)
        await until_stopped(stop, _say_if_not_current(client, settings))
        log.info("worker stopping: finishing the tasks in hand")


async def until_stopped(stop: asyncio.Event, beside: Coroutine[Any, Any, None]) -> None:
    """Until `stop` is set, with `beside` running meanwhile; a stop cancels what is left of it
    (the worker's word on its build may wait on a busy server: a stop is not kept waiting)."""
    task = asyncio.create_task(beside)
    try:
        await stop.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _say_if_not_current(client: Client, settings: Settings) -> None:
    """A versioned worker gets new returns only once its build is current: say so."""
    if not settings.worker_versioning:
        return
    build = versioning.build_id(settings)
    try:
        await asyncio.sleep(1)  # the server learns of the version from its first poll
        # Asked again while the server is busy: at a stack's start, promoting the build.
        state = await versioning.describe(
            client, settings.deployment_name, wait=timedelta(seconds=15)
        )
    except Exception as err:  # informational only
        log.warning("deployment not described", error=str(err))
        return
    current = state.current if state else None
    if current == build:
        log.info("worker build is current", deployment=settings.deployment_name, build_id=build)
    else:
        log.warning(
            "worker build is not current: it runs only the returns pinned to it; "
            f"make it take new ones with: starter.py deployment promote {build}",
            deployment=settings.deployment_name,
            build_id=build,
            current=current,
        )


if __name__ == "__main__":
    asyncio.run(main())
    temporal.exit_process(0)
