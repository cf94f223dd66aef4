"""The worker's heartbeat for every activity that is given a heartbeat timeout.

An activity attempt on a worker that died is only retried elsewhere once Temporal gives up on
it: after its start-to-close timeout (a minute or more for a carrier call), or after its
heartbeat timeout when it has one. `KeepAlive` lets every activity have one without each
activity's code sending heartbeats: while an attempt runs, the worker heartbeats for it every
`every` seconds (and at least four times per heartbeat timeout), so a lost worker is noticed
within the heartbeat timeout (`workflows.policies.KEPT_ALIVE`, 20 s) rather than the
start-to-close timeout.

An activity that reports its progress in its heartbeats (the notices' Message-IDs, the reminder
sweep's last page) still does so: the worker's heartbeats repeat the details the activity last
gave, never replacing them with nothing. An activity that hangs is still ended by its
start-to-close timeout: the heartbeat says the worker is alive, not that the call is moving.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

EVERY_SECONDS = 5.0
"""How often the worker heartbeats for an activity at most: well within a 20 s timeout."""


class KeepAlive(Interceptor):
    """The worker interceptor: heartbeats for each activity attempt given a heartbeat timeout."""

    def __init__(self, every: float = EVERY_SECONDS) -> None:
        self._every = every

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next, self._every)


class _Outbound(ActivityOutboundInterceptor):
    """Remembers the details of the activity's own latest heartbeat."""

    def __init__(self, next: ActivityOutboundInterceptor) -> None:
        super().__init__(next)
        self.latest: tuple[Any, ...] = ()

    def heartbeat(self, *details: Any) -> None:
        self.latest = details
        super().heartbeat(*details)


class _Inbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, every: float) -> None:
        super().__init__(next)
        self._every = every
        self._outbound: _Outbound | None = None

    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        self._outbound = _Outbound(outbound)
        super().init(self._outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        timeout = activity.info().heartbeat_timeout
        outbound = self._outbound
        if not timeout or outbound is None:
            return await super().execute_activity(input)
        every = min(self._every, timeout.total_seconds() / 4)

        async def beat() -> None:
            while True:
                await asyncio.sleep(every)
                # Past this interceptor's own record: the activity's details are repeated.
                outbound.next.heartbeat(*outbound.latest)

        beating = asyncio.create_task(beat())
        try:
            return await super().execute_activity(input)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
