"""The worker's heartbeat for every activity that is given a heartbeat timeout.

An activity attempt on a worker that died is only retried elsewhere once Temporal gives up on
it: after its start-to-close timeout (a minute or more for a carrier call), or after its
heartbeat timeout when it has one. `KeepAlive` lets every activity have one without each
activity's code sending heartbeats: while an attempt runs, the worker heartbeats for it every
`every` seconds (and at least four times per heartbeat timeout), so a lost worker is noticed
within the heartbeat timeout (`workflows.policies.KEPT_ALIVE`, 20 s) rather than the
start-to-close timeout. The SDK holds heartbeats back for up to 0.8 of the heartbeat timeout
unless told otherwise, which would leave a 20 s timeout 4 s of slack; `worker_options` tells it
to send one every `EVERY_SECONDS` at most, leaving 15 s. An attempt shorter than
`EVERY_SECONDS` gets none of the worker's heartbeats.

An activity that reports its progress in its heartbeats (the notices' Message-IDs, the reminder
sweep's last page) still does so: the worker's heartbeats repeat the details the activity last
gave, or else those the attempt inherited from the one before, never replacing them with
nothing. An activity that hangs is still ended by its start-to-close timeout: the heartbeat says
the worker is alive, not that the call is moving.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from plumbing.input_count import InputCount

EVERY_SECONDS = 5.0
"""How often the worker heartbeats for an activity at most: well within a 20 s timeout."""


def worker_options() -> dict[str, Any]:
    """`Worker` arguments: the interceptors (this one, and `plumbing.input_count`'s, which
    counts the inputs of starts, signals and updates), and heartbeats sent on as often as it
    beats."""
    return {
        "interceptors": [KeepAlive(), InputCount()],
        "max_heartbeat_throttle_interval": timedelta(seconds=EVERY_SECONDS),
    }


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
        # Until the activity heartbeats itself, what the attempt before it left is kept.
        outbound.latest = tuple(activity.info().heartbeat_details)

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
            # Waits for the beat to end without taking a cancellation meant for the activity.
            await asyncio.gather(beating, return_exceptions=True)
