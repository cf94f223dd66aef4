"""Scans that reach a return before it knows its parcel's number are kept, and taken as soon as
the number is known: a carrier's webhook may come before the customer reports a counter parcel,
or before the carrier's own answer to the label request."""

from __future__ import annotations

import asyncio

from temporalio.testing import WorkflowEnvironment

from domain.carriers import ReturnMethod, TrackingStatus
from domain.notices import NoticeKind
from domain.returns import ReturnMethodChoice, ReturnStage, ShipmentReport
from tests.workflows.doubles import COUNTER_LABEL_POST, Doubles
from tests.workflows.harness import return_harness
from tests.workflows.lifecycle_test import choosing, label_being_made
from workflows.return_workflow import ReturnWorkflow

COUNTER = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo")
"""A counter without a code: the parcel's number comes from the customer."""


async def test_a_counter_scan_before_the_customer_reports_the_number_proves_dispatch_once_reported(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(offers=[COUNTER_LABEL_POST])
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, COUNTER)
        # The counter's scan reaches the return first, and one of somebody else's parcel.
        counter_scan = await harness.scan(handle, "6A12345678901", scan_id="SC-COUNTER")
        await harness.scan(handle, "6A99999999999", scan_id="SC-OTHER")
        before = await handle.query(ReturnWorkflow.status)
        reported = await handle.execute_update(
            ReturnWorkflow.report_shipment, ShipmentReport(tracking_number="6A12345678901")
        )
        done = await harness.in_transit(handle)

    assert ready.tracking_number is None
    assert before.stage is ReturnStage.AWAITING_COUNTER_DROP_OFF and before.scans == []
    assert reported.tracking_number == "6A12345678901"
    assert [s.scan_id for s in done.scans] == ["SC-COUNTER"], "the other parcel's scan is not"
    assert doubles.polls == [], "matched from what was kept, without asking the carrier"
    confirmed = next(n for n in doubles.notices if n.kind is NoticeKind.PICKUP_CONFIRMED)
    assert confirmed.scan is not None and confirmed.scan.occurred_at == counter_scan.occurred_at


async def test_a_scan_racing_the_label_answer_is_kept_and_proves_dispatch_once_the_label_is_made(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    label_made = asyncio.Event()
    doubles = Doubles(hold={"create_return_label": label_made})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle, choice = await label_being_made(harness)
        # The carrier has made the label (its first, so its number is known here) and the
        # customer drops the parcel off before the answer reaches the return.
        await harness.scan(handle, "SB000000001FR", TrackingStatus.ACCEPTED, scan_id="SC-EARLY")
        preparing = await handle.query(ReturnWorkflow.status)
        label_made.set()
        chosen = await choice.result()
        done = await harness.in_transit(handle)

    assert preparing.stage is ReturnStage.PREPARING_SHIPMENT and preparing.scans == []
    assert chosen.label is not None and chosen.label.tracking_number == "SB000000001FR"
    assert [s.scan_id for s in done.scans] == ["SC-EARLY"]
    assert doubles.notice_kinds[-2:] == [
        NoticeKind.PICKUP_CONFIRMED,
        NoticeKind.SELLER_PARCEL_INBOUND,
    ]
