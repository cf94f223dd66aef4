"""Starts, signals and updates with the wrong number of inputs, stopped before the workflow's
code is called with them.

Anyone who may signal or update a workflow can send any number of inputs: the Web UI's Signal
button with its box left empty, `temporal workflow signal` without `--input`. The SDK calls the
handler with what came, and a handler given too few or too many arguments raises `TypeError`,
which fails the workflow task; for a signal, on every retry, since the signal stays in the
history, and the return no longer moves. `InputCount` counts the inputs against the handler's
parameters first: a signal that does not fit is dropped and logged (a signal has nobody to
answer), an update is refused before its validator, saying what it takes, and a start fails
the workflow at once (for a workflow whose arguments only its run method takes: Python checks
`@workflow.init`'s before any interceptor is called).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

WRONG_INPUTS = "WrongNumberOfInputs"
"""The failure type of a start or an update given more or fewer inputs than it takes."""

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def count_problem(what: str, method: Callable[..., Any], given: int) -> str | None:
    """Why `given` inputs do not fit the workflow's `method` (its `self` is none), or None."""
    params = list(inspect.signature(method).parameters.values())[1:]
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    positional = [p for p in params if p.kind in _POSITIONAL]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if len(required) <= given <= len(positional):
        return None
    takes = len(positional)
    names = ", ".join(p.name for p in positional)
    inputs = f"{takes} input{'' if takes == 1 else 's'}" + (f" ({names})" if names else "")
    return f"{what} takes {inputs}: {given} given"


class InputCount(Interceptor):
    """The worker interceptor: the inputs of each start, signal and update counted first."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _Counted


class _Counted(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        problem = count_problem("the workflow", input.run_fn, len(input.args))
        if problem:
            raise ApplicationError(problem, type=WRONG_INPUTS, non_retryable=True)
        return await super().execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        problem = _problem(f"signal {input.signal}", input.signal, len(input.args))
        if problem:
            workflow.logger.warning("signal dropped: %s", problem)
            return
        await super().handle_signal(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        problem = _problem(f"update {input.update}", input.update, len(input.args))
        if problem:
            raise ApplicationError(problem, type=WRONG_INPUTS, non_retryable=True)
        super().handle_update_validator(input)


def _problem(what: str, name: str, given: int) -> str | None:
    """Why `given` inputs do not fit the handler of the signal or update `name`, or None. The
    handler is the workflow's method of that name (returnflow names none otherwise; the SDK's
    bound handlers show only `*args`)."""
    method = getattr(type(workflow.instance()), name, None)
    if not inspect.isfunction(method):
        return None
    return count_problem(what, method, given)
