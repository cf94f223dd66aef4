"""`UnshippedReturnsSweep`: remind the customers of unshipped returns whose deadline is near.

Started by the Temporal Schedule `unshipped-returns-reminder` (daily, 09:00 Europe/Paris by
default; `starter.py schedule`). The listing and signalling are one activity that pages through
visibility: the sweep's history stays a dozen events whether it finds ten returns or ten
thousand. Each return decides for itself whether to email its customer (at most once a day,
only while the customer can act), so a sweep run twice, or retried, reminds nobody twice.
"""

from __future__ import annotations

import re

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.reminders.activities import ReminderActivities
    from domain.returns import ORIGIN_PATTERN
    from reminders.models import ReminderSweep, SweepRequest, SweepResult
    from workflows import policies
    from workflows.inputs import read_input

INVALID_SWEEP = "InvalidSweepRequest"
"""The failure type of a sweep started with a request it cannot take (by hand: the schedule
sends an empty one), or under a workflow ID no return's timeline can record."""


@workflow.defn
class UnshippedReturnsSweep:
    @workflow.run
    async def run(self, request: RawValue) -> SweepResult:
        # Taken raw and validated here: a request that does not fit fails the sweep at once,
        # naming the field, rather than its workflow task on every retry.
        asked = read_input(request, SweepRequest, "request")
        if isinstance(asked, list):
            raise ApplicationError(
                "the sweep's request does not fit: " + "; ".join(asked),
                *asked,
                type=INVALID_SWEEP,
                non_retryable=True,
            )
        info = workflow.info()
        origin = f"{info.workflow_id}/{info.run_id}"
        if not re.fullmatch(ORIGIN_PATTERN, origin):
            raise ApplicationError(
                f"the workflow ID {info.workflow_id!r} cannot name the sweep in a return's "
                "timeline: letters, digits and . _ : / @ + - only, at most 200 characters with "
                "its run ID",
                type=INVALID_SWEEP,
                non_retryable=True,
            )
        # Fixed here, in the history: every retry of the activity looks for the same returns
        # and reminds them for the same day, even one that crosses midnight.
        sweep = ReminderSweep(as_of=workflow.now(), origin=origin, horizon=asked.horizon)
        # Its result (found, signalled, already ended) is the sweep's, in the Web UI.
        return await workflow.execute_activity_method(
            ReminderActivities.remind_unshipped_returns,
            sweep,
            **policies.REMINDER_SWEEP.options(),
        )
