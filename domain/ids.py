"""Workflow IDs: one return per order line, never any personal data in them."""

from __future__ import annotations

import re

from domain.base import IDENTIFIER, LINE_ID

PREFIX = "return-"
MAX_LENGTH = 64
"""A return ID is a carrier's reference too (printed on the label): carriers cap its length."""


def return_id(order_id: str, line_id: str) -> str:
    """The workflow ID of the return of one order line: `return-{order_id}-{line_id}`."""
    return f"{PREFIX}{order_id}-{line_id}"


_RETURN_ID = re.compile(rf"{PREFIX}{IDENTIFIER}-{LINE_ID}")
"""What `return_id` makes of an order's identifier and a line's (which holds no '-')."""


def is_return_id(value: str) -> bool:
    """Whether `value` can be a return's ID; any other workflow (a withdrawal function, the
    reminder sweep, an event feed) is not a return's."""
    return len(value) <= MAX_LENGTH and _RETURN_ID.fullmatch(value) is not None


def idempotency_key(return_id: str, step: str, revision: int = 1) -> str:
    """The key a side effect of one step of one return carries, whatever the retries.

    `revision` counts the times a step legitimately runs again for new input (a customer who
    changes their mind gets a new label); a retry or a replay of the same step keeps its key.
    """
    return f"{return_id}:{step}:{revision}"
