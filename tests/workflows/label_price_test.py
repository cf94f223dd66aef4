"""The return label's price: quoted by each carrier once the seller's address is known, shown
before the customer chooses, and withheld from the refund when the customer pays for it
(Art. 6(1)(i), 13(1), 14(1)); never when the seller does, nor for a label nobody bought."""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.carriers import LabelCostBearer, ReturnMethod
from domain.notices import NoticeKind
from domain.returns import ReturnMethodChoice, ReturnStatus, ShipmentReport
from domain.timings import ReturnTimings
from tests.factories import SELLER_ADDRESS, eur, retract_event
from tests.workflows.doubles import COUNTER_LABEL_POST, DROP_OFF_ONLY, SANDBOX_OFFER, Doubles
from tests.workflows.harness import ReturnHandle, ReturnHarness, failed_tasks, return_harness
from tests.workflows.lifecycle_test import DROP_OFF, choosing
from workflows.return_workflow import ReturnWorkflow

PRICES = {"sandbox": eur("6.25"), "colissimo": eur("5.40")}
"""What the carriers quote; Drop-off Only Post quotes nothing."""


def priced(**more: object) -> Doubles:
    return Doubles(
        offers=[SANDBOX_OFFER, DROP_OFF_ONLY, COUNTER_LABEL_POST],
        label_prices=dict(PRICES),
        **more,  # type: ignore[arg-type]
    )


async def refunded(harness: ReturnHarness, handle: ReturnHandle, tracking: str) -> ReturnStatus:
    await harness.scan(handle, tracking)
    return await harness.in_transit(handle)


async def test_each_carrier_quotes_its_price_before_the_choice_and_the_email_shows_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = priced()
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        choosing_now = await handle.query(ReturnWorkflow.status)
        await harness.told(handle, NoticeKind.RETURN_ADDRESS)

    (asked,) = doubles.price_requests
    event = retract_event()
    assert asked.sender == event.customer.address and asked.recipient == SELLER_ADDRESS
    assert asked.parcel.weight_grams == event.order.product.weight_grams
    assert asked.currency == "EUR"
    offered = {o.code: o.label_price for o in choosing_now.carriers_offered}
    assert offered == {"sandbox": eur("6.25"), "dropoff-only": None, "colissimo": eur("5.40")}
    (address,) = [n for n in doubles.notices if n.kind is NoticeKind.RETURN_ADDRESS]
    assert {o.code: o.label_price for o in address.carriers} == offered
    assert address.label_paid_by is LabelCostBearer.CUSTOMER
    assert "label prices: sandbox 6.25 EUR, colissimo 5.40 EUR" in [
        e.event for e in choosing_now.timeline
    ]


async def test_the_label_the_customer_chose_comes_off_the_refund_at_the_price_shown(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = priced()
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        status = await refunded(harness, handle, ready.label.tracking_number)
        await harness.told(handle, NoticeKind.PICKUP_CONFIRMED)
        assert await failed_tasks(handle) == []

    (refund,) = doubles.refunds
    assert refund.breakdown is not None and refund.breakdown.label == eur("6.25")
    owed = refund.breakdown.goods.amount + refund.breakdown.delivery.amount
    assert refund.amount == eur(str(owed - Decimal("6.25")))
    assert status.refund is not None and status.refund.amount == refund.amount
    (told,) = [n for n in doubles.notices if n.kind is NoticeKind.PICKUP_CONFIRMED]
    assert told.label_withheld == eur("6.25") and told.refund == status.refund


@pytest.mark.parametrize(
    ("doubles", "choice", "why"),
    [
        (
            priced(timings=ReturnTimings(label_paid_by=LabelCostBearer.SELLER)),
            DROP_OFF,
            "the seller pays for labels",
        ),
        (
            priced(),
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="dropoff-only"),
            "no price was shown",
        ),
        (
            priced(),
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo"),
            "the counter printed the label: nothing was bought",
        ),
    ],
    ids=["seller pays", "unpriced carrier", "counter without code"],
)
async def test_nothing_is_withheld_when_the_customer_owes_no_label(
    time_skipping_env: WorkflowEnvironment,
    doubles: Doubles,
    choice: ReturnMethodChoice,
    why: str,
) -> None:
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, choice)
        tracking = ready.label.tracking_number if ready.label else "6A12345678901"
        if ready.label is None:
            await handle.execute_update(
                ReturnWorkflow.report_shipment, ShipmentReport(tracking_number=tracking)
            )
        await refunded(harness, handle, tracking)

    (refund,) = doubles.refunds
    assert refund.breakdown is not None and refund.breakdown.label is None, why
    assert refund.amount == refund.breakdown.total
    assert refund.amount.amount == (
        refund.breakdown.goods.amount + refund.breakdown.delivery.amount
    )
