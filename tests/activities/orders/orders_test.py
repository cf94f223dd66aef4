"""The order service: refund requests recorded once per key, and the clocks of a return."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.orders import (
    REFUND_CONFLICT,
    FileOrderService,
    OrderActivities,
    refund_id_for,
)
from domain.base import Money
from domain.eligibility import EligibilityPolicy, WindowStart
from domain.ids import idempotency_key, return_id
from domain.inspection import ClaimRequest, InspectionOutcome
from domain.money import RefundBreakdown
from domain.returns import REFUND_PERIOD, Refund, RefundReason, RefundRequest
from domain.timings import RefundTrigger, ReturnTimings
from plumbing.settings import Settings
from tests.factories import retract_event

NOTICE = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
RETURN_ID = return_id("ORD-7F3A9C21", "1")


def refund_request(**changes: object) -> RefundRequest:
    request = RefundRequest(
        idempotency_key=idempotency_key(RETURN_ID, "refund"),
        return_id=RETURN_ID,
        order_id="ORD-7F3A9C21",
        line_id="1",
        amount=Money(amount=Decimal("429.00"), currency="EUR"),
        reason=RefundReason.WITHDRAWAL,
        due_by=NOTICE + REFUND_PERIOD,
    )
    return request.model_copy(update=changes)


def order_activities(orders: FileOrderService) -> OrderActivities:
    return OrderActivities(EligibilityPolicy(), ReturnTimings(), orders)


async def request_refund(orders: FileOrderService, request: RefundRequest) -> Refund:
    return await ActivityEnvironment().run(order_activities(orders).request_refund, request)


@pytest.fixture
def orders(tmp_path: Path) -> FileOrderService:
    return FileOrderService(tmp_path / "var" / "orders")  # not there yet: created


async def test_a_refund_is_recorded_once_per_key(orders: FileOrderService) -> None:
    activities = order_activities(orders)
    run = ActivityEnvironment().run

    first = await run(activities.request_refund, refund_request())
    again = await run(activities.request_refund, refund_request())

    assert first.created and not again.created
    assert re.fullmatch(r"RF-[0-9A-F]{12}", first.refund_id)
    assert again.model_copy(update={"created": True}) == first
    assert first.amount == Money(amount=Decimal("429.00"), currency="EUR")
    [record] = await orders.refunds()
    assert record.refund_id == first.refund_id
    assert (record.return_id, record.order_id, record.line_id) == (RETURN_ID, "ORD-7F3A9C21", "1")
    assert record.reason is RefundReason.WITHDRAWAL
    assert record.due_by == NOTICE + REFUND_PERIOD
    assert record.requested_at == first.requested_at
    assert orders.path == orders.path.parent / "refunds.sqlite" and orders.path.exists()


async def test_the_refund_id_comes_from_the_key(tmp_path: Path) -> None:
    """Another worker, or the same one after losing its file, names the refund alike."""
    here = await FileOrderService(tmp_path / "a").request_refund(refund_request())
    there = await FileOrderService(tmp_path / "b").request_refund(refund_request())
    other = await FileOrderService(tmp_path / "a").request_refund(
        refund_request(idempotency_key=idempotency_key(RETURN_ID, "refund", 2))
    )

    assert here.refund_id == there.refund_id == refund_id_for(refund_request().idempotency_key)
    assert other.refund_id != here.refund_id and other.created


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": Money(amount=Decimal("399.00"), currency="EUR")}, "amount"),
        ({"amount": Money(amount=Decimal("429.00"), currency="GBP")}, "currency"),
        ({"order_id": "ORD-OTHER"}, "order_id"),
        ({"line_id": "2"}, "line_id"),
        ({"reason": RefundReason.CANCELLED_BEFORE_SHIPMENT}, "reason"),
        ({"due_by": NOTICE}, "due_by"),
    ],
)
async def test_another_request_under_a_used_key_is_refused_naming_the_field(
    orders: FileOrderService, change: dict[str, object], field: str
) -> None:
    await request_refund(orders, refund_request())

    with pytest.raises(ApplicationError) as refused:
        await request_refund(orders, refund_request(**change))

    assert refused.value.type == REFUND_CONFLICT == "RefundConflict"
    assert refused.value.non_retryable
    assert f"with a different {field}" in refused.value.message
    assert len(await orders.refunds()) == 1


async def test_the_same_amount_and_instant_written_differently_are_the_same_request(
    orders: FileOrderService,
) -> None:
    first = await orders.request_refund(refund_request())
    paris = dt.timezone(dt.timedelta(hours=1))

    again = await orders.request_refund(
        refund_request(
            amount=Money(amount=Decimal("429"), currency="EUR"),
            due_by=(NOTICE + REFUND_PERIOD).astimezone(paris),
        )
    )

    assert again.refund_id == first.refund_id and not again.created


async def test_refunds_survive_reopening_the_file(tmp_path: Path) -> None:
    before = FileOrderService(tmp_path / "orders")
    first = await before.request_refund(refund_request())
    del before

    after = FileOrderService(tmp_path / "orders")
    again = await request_refund(after, refund_request())

    assert again == first.model_copy(update={"created": False})
    with pytest.raises(ApplicationError, match="amount"):
        await after.request_refund(
            refund_request(amount=Money(amount=Decimal("1.00"), currency="EUR"))
        )
    assert [r.refund_id for r in await after.refunds()] == [first.refund_id]


async def test_workers_racing_on_a_key_create_one_refund(tmp_path: Path) -> None:
    workers = [FileOrderService(tmp_path / "orders") for _ in range(4)]

    refunds = await asyncio.gather(
        *(w.request_refund(refund_request()) for w in workers for _ in range(3))
    )

    assert sum(r.created for r in refunds) == 1
    assert len({r.refund_id for r in refunds}) == 1
    assert len(await workers[0].refunds()) == 1


async def test_the_refund_request_is_logged_by_return_and_refund(
    orders: FileOrderService, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO"):
        refund = await request_refund(orders, refund_request())

        again = await request_refund(orders, refund_request())

    logged = [r for r in caplog.records if r.getMessage().startswith("refund ")]
    assert [r.getMessage().split(" (")[0] for r in logged] == [
        "refund requested",
        "refund already requested",
    ]
    assert [(r.return_id, r.refund_id, r.new_refund) for r in logged] == [  # type: ignore[attr-defined]
        (RETURN_ID, refund.refund_id, True),
        (RETURN_ID, again.refund_id, False),
    ]


# --- the clocks of a return, from the settings ---------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in [n for n in os.environ if n.startswith("RETURNFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RETURNFLOW_VAR_DIR", str(tmp_path / "var"))
    return monkeypatch


async def test_the_default_settings_give_the_default_timings(clean_env: pytest.MonkeyPatch) -> None:
    activities = OrderActivities.from_settings(Settings(_env_file=None))

    assert await ActivityEnvironment().run(activities.return_timings) == ReturnTimings()


async def test_the_timings_come_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in {
        "SELLER_REMINDER_AFTER": "P1D",
        "SELLER_ESCALATE_AFTER": "P3D",
        "SCAN_OVERDUE_AFTER": "PT30M",
        "POLL_INTERVAL": "PT2H",
        "EXPIRY_GRACE": "P5D",
        "REFUND_TRIGGER": "delivery",
        "REJECTION_REVIEW": "P7D",
    }.items():
        clean_env.setenv(f"RETURNFLOW_{name}", value)

    activities = OrderActivities.from_settings(Settings(_env_file=None))
    timings = await ActivityEnvironment().run(activities.return_timings)

    assert timings == ReturnTimings(
        seller_reminder_after=dt.timedelta(days=1),
        escalate_after=dt.timedelta(days=3),
        scan_overdue_after=dt.timedelta(minutes=30),
        poll_interval=dt.timedelta(hours=2),
        expiry_grace=dt.timedelta(days=5),
        refund_trigger=RefundTrigger.DELIVERY,
        rejection_review=dt.timedelta(days=7),
    )


async def test_the_timings_reach_a_workflow_as_they_left(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("RETURNFLOW_POLL_INTERVAL", "PT2H")
    timings = OrderActivities.from_settings(Settings(_env_file=None))
    sent = await ActivityEnvironment().run(timings.return_timings)

    payloads = await pydantic_data_converter.encode([sent])
    [received] = await pydantic_data_converter.decode(payloads, [ReturnTimings])

    assert received == sent and received.poll_interval == dt.timedelta(hours=2)


def test_a_duration_that_is_not_one_is_refused_by_name(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("RETURNFLOW_POLL_INTERVAL", "two hours")

    with pytest.raises(ValidationError, match="poll_interval"):
        Settings(_env_file=None)


async def test_the_return_window_comes_from_the_environment(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("RETURNFLOW_RETURN_WINDOW_DAYS", "20")
    clean_env.setenv("RETURNFLOW_RETURN_WINDOW_STARTS", "delivery_date")
    activities = OrderActivities.from_settings(Settings(_env_file=None))
    # Ordered 30 days before the notice, delivered 27 days before: 20 days from delivery.
    event = retract_event(notice_at=NOTICE, ordered_days_before_notice=30)
    delivered = event.order.delivered_at
    assert delivered is not None

    decision = await ActivityEnvironment().run(activities.check_eligibility, event)

    assert not decision.accepted
    # Delivered Saturday 24 October: the 20th day is Friday 13 November, to its end in Paris.
    assert decision.window_ends_at.isoformat() == "2026-11-13T23:59:59.999999+01:00"
    assert (
        EligibilityPolicy(window_days=20, window_starts=WindowStart.DELIVERY_DATE).evaluate(event)
        == decision
    )


async def test_the_refunds_file_comes_from_the_environment(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("RETURNFLOW_ORDERS_DIR", str(tmp_path / "elsewhere"))
    activities = OrderActivities.from_settings(Settings(_env_file=None))

    await ActivityEnvironment().run(activities.request_refund, refund_request())

    assert (tmp_path / "elsewhere" / "refunds.sqlite").exists()
    assert not (tmp_path / "var" / "orders").exists()


# --- the refund's parts ----------------------------------------------------------------------


def breakdown_of(goods: str, delivery: str) -> RefundBreakdown:
    euros = [Money(amount=Decimal(a), currency="EUR") for a in (goods, delivery)]
    total = Money(amount=euros[0].amount + euros[1].amount, currency="EUR")
    return RefundBreakdown(goods=euros[0], delivery=euros[1], total=total)


async def test_the_refunds_parts_are_recorded_with_it(orders: FileOrderService) -> None:
    parts = breakdown_of("429.00", "6.90")
    request = refund_request(amount=parts.total, breakdown=parts)

    refund = await request_refund(orders, request)
    [record] = await orders.refunds()

    assert refund.amount == Money(amount=Decimal("435.90"), currency="EUR")
    assert record.breakdown == parts


async def test_the_same_total_with_other_parts_under_a_used_key_is_a_conflict(
    orders: FileOrderService,
) -> None:
    first = breakdown_of("429.00", "6.90")
    other = breakdown_of("430.00", "5.90")
    await request_refund(orders, refund_request(amount=first.total, breakdown=first))

    with pytest.raises(ApplicationError, match=r"with a different breakdown$") as refused:
        await request_refund(orders, refund_request(amount=other.total, breakdown=other))
    assert refused.value.type == REFUND_CONFLICT and refused.value.non_retryable


async def test_a_refunds_file_without_parts_is_read_and_written_on(tmp_path: Path) -> None:
    """A file written before refunds had parts: its column is added, its refunds read as they
    were, and a new refund recorded with its parts."""
    directory = tmp_path / "orders"
    directory.mkdir()
    with sqlite3.connect(directory / "refunds.sqlite") as db:
        db.execute(
            "CREATE TABLE refunds (idempotency_key TEXT PRIMARY KEY, refund_id TEXT NOT NULL "
            "UNIQUE, return_id TEXT NOT NULL, order_id TEXT NOT NULL, line_id TEXT NOT NULL, "
            "amount TEXT NOT NULL, currency TEXT NOT NULL, reason TEXT NOT NULL, due_by TEXT "
            "NOT NULL, requested_at TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO refunds VALUES ('old:refund:1', 'RF-OLD', 'return-OLD-1', 'OLD', '1', "
            "'429.00', 'EUR', 'withdrawal', '2026-11-20T09:00:00+00:00', "
            "'2026-11-10T09:00:00+00:00')"
        )
    orders = FileOrderService(directory)
    parts = breakdown_of("429.00", "6.90")

    await request_refund(orders, refund_request(amount=parts.total, breakdown=parts))
    old, new = await orders.refunds()

    assert (old.refund_id, old.amount.amount, old.breakdown) == ("RF-OLD", Decimal("429.00"), None)
    assert new.breakdown == parts


def claim_request(**changes: object) -> ClaimRequest:
    request = ClaimRequest(
        idempotency_key=idempotency_key(RETURN_ID, "claim"),
        return_id=RETURN_ID,
        order_id="ORD-7F3A9C21",
        line_id="1",
        refund_id=refund_id_for(idempotency_key(RETURN_ID, "refund")),
        amount=Money(amount=Decimal("60.00"), currency="EUR"),
        outcome=InspectionOutcome.DAMAGED,
        reason="Deep scratch across the screen",
        evidence=["https://sellers.example/evidence/EV-77"],
        approved_by="operations:agent-42",
    )
    return request.model_copy(update=changes)


async def test_a_claim_is_recorded_once_per_key_and_another_under_it_is_refused(
    orders: FileOrderService,
) -> None:
    activities = order_activities(orders)
    run = ActivityEnvironment().run
    first = await run(activities.file_claim, claim_request())
    again = await run(activities.file_claim, claim_request())
    with pytest.raises(ApplicationError) as other:
        await run(
            activities.file_claim,
            claim_request(amount=Money(amount=Decimal("90.00"), currency="EUR")),
        )

    assert first.created and not again.created
    assert re.fullmatch(r"CL-[0-9A-F]{12}", first.claim_id) and again.claim_id == first.claim_id
    assert again.filed_at == first.filed_at
    assert other.value.type == REFUND_CONFLICT and other.value.non_retryable
    assert await orders.claims() == [claim_request()]
    reopened = FileOrderService(orders.path.parent)
    assert await reopened.claims() == [claim_request()]
