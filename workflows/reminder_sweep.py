"""`UnshippedReturnsSweep`: remind the customers of unshipped returns whose deadline is near.

Started by the Temporal Schedule `unshipped-returns-reminder` (daily, 09:00 Europe/Paris by
default; `starter.py schedule`). The listing and signalling are one activity that pages through
visibility: the sweep's history stays a dozen events whether it finds ten returns or ten
thousand. Each return decides for itself whether to email its customer (at most once a day,
only while the customer can act), so a sweep run twice, or retried, reminds nobody twice.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.reminders.activities import ReminderActivities
    from reminders.models import ReminderSweep, SweepRequest, SweepResult
    from workflows import policies


@workflow.defn
class UnshippedReturnsSweep:
    @workflow.run
    async def run(self, request: SweepRequest) -> SweepResult:
        info = workflow.info()
        # Fixed here, in the history: every retry of the activity looks for the same returns
        # and reminds them for the same day, even one that crosses midnight.
        sweep = ReminderSweep(
            as_of=workflow.now(),
            origin=f"{info.workflow_id}/{info.run_id}",
            horizon=request.horizon,
        )
        # Its result (found, signalled, already ended) is the sweep's, in the Web UI.
        return await workflow.execute_activity_method(
            ReminderActivities.remind_unshipped_returns,
            sweep,
            **policies.REMINDER_SWEEP.options(),
        )
