"""Ctrl-C at any moment: while the stack starts, while the demo plays, while it serves."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class Interrupted(Exception):
    """The user pressed Ctrl-C (or the process got SIGTERM)."""


class Interrupts:
    """Installed first thing, so that no signal can arrive before someone listens for it."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._event.set)

    async def guard(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable`, or cancel it and raise `Interrupted` when a signal comes first."""
        task = asyncio.ensure_future(awaitable)
        waiter = asyncio.ensure_future(self._event.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            waiter.cancel()
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise Interrupted
