"""Workflow IDs: one return per order line, never any personal data in them."""

from __future__ import annotations

PREFIX = "return-"
MAX_LENGTH = 64
"""A return ID is a carrier's reference too (printed on the label): carriers cap its length."""


def return_id(order_id: str, line_id: str) -> str:
    """The workflow ID of the return of one order line: `return-{order_id}-{line_id}`."""
    return f"{PREFIX}{order_id}-{line_id}"


def idempotency_key(return_id: str, step: str, revision: int = 1) -> str:
    """The key a side effect of one step of one return carries, whatever the retries.

    `revision` counts the times a step legitimately runs again for new input (a customer who
    changes their mind gets a new label); a retry or a replay of the same step keeps its key.
    """
    return f"{return_id}:{step}:{revision}"
