"""A return's run-loop context without a workflow: the clock stands where the test puts it,
and search attribute updates are kept for the test instead of sent. For the decisions that
admission and the stages make from a return's state, checked without a server."""

from __future__ import annotations

import datetime as dt
from typing import Any

from temporalio.common import SearchAttributeUpdate

from workflows.context import ReturnContext
from workflows.return_state import ReturnState


class StillContext(ReturnContext):
    def __init__(self, state: ReturnState, now: dt.datetime) -> None:
        super().__init__(state)
        self.at = now
        self.upserts: list[SearchAttributeUpdate[Any]] = []

    def now(self) -> dt.datetime:
        return self.at

    def upsert(self, updates: list[SearchAttributeUpdate[Any]]) -> None:
        self.upserts.extend(updates)

    def patched(self, patch_id: str) -> bool:
        """As a return started on this build: every change's code runs."""
        return True

    def refresh(self) -> None:
        """The Web UI's details belong to a running workflow: nothing to show here."""
