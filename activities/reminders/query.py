"""The visibility query of the reminder sweep: unshipped returns the customer has to act on."""

from __future__ import annotations

import datetime as dt

from domain import search_attributes as sa
from domain.returns import REMINDABLE_STAGES

RETURN_WORKFLOW_TYPE = "ReturnWorkflow"


def running_returns(task_queue: str) -> str:
    """Running returns of `task_queue`: the start of every query over a deployment's returns."""
    return (
        f'WorkflowType = "{RETURN_WORKFLOW_TYPE}" AND ExecutionStatus = "Running" '
        f'AND TaskQueue = "{quoted(task_queue)}"'
    )


def unshipped_returns_query(task_queue: str, ship_by_until: dt.datetime) -> str:
    """Running returns of `task_queue` waiting for the customer, with ShipBy up to
    `ship_by_until` — those already past ShipBy too: they are open until they expire.

    The task queue keeps a sweep to its own deployment's returns when several share a namespace
    (a staging worker on its own queue, each test on its own).
    """
    stages = ", ".join(f'"{stage.value}"' for stage in sorted(REMINDABLE_STAGES))
    until = ship_by_until.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{running_returns(task_queue)} "
        f"AND {sa.RETURN_STAGE.name} IN ({stages}) "
        f'AND {sa.SHIP_BY.name} <= "{until}"'
    )


def quoted(value: str) -> str:
    """A value inside a double-quoted visibility string."""
    return value.replace("\\", "\\\\").replace('"', '\\"')
