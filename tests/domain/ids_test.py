"""A return's ID, and what is not one."""

from __future__ import annotations

import pytest

from domain.ids import is_return_id, return_id
from domain.withdrawals import withdrawal_workflow_id
from workflows.event_feed import feed_id


@pytest.mark.parametrize(
    ("order_id", "line_id"),
    [("ORD-2026-10231", "1"), ("A", "b.2:x"), ("x" * 48, "y" * 8)],
)
def test_every_return_id_is_one(order_id: str, line_id: str) -> None:
    assert is_return_id(return_id(order_id, line_id))


@pytest.mark.parametrize(
    "workflow_id",
    [
        withdrawal_workflow_id("ORD-1", "help-7"),
        feed_id(return_id("ORD-1", "1")),
        "return-ORD1",
        "return-ORD-1-",
        return_id("ORD-1", "1") + "/../x",
        return_id("x" * 60, "1"),
    ],
)
def test_other_workflows_and_odd_text_are_not(workflow_id: str) -> None:
    assert not is_return_id(workflow_id)
