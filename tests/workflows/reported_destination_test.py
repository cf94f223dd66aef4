"""A tracking number the customer reports (a counter label printed without a code) cannot prove
this return's dispatch when the carrier's data shows the parcel going elsewhere than the
seller's return address: it is refused naming the field. A carrier that shows less (the country
only, no destination, not the parcel yet) leaves the number accepted as far as it shows."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.carriers import ParcelDestination, ReturnMethod
from domain.returns import ReturnMethodChoice, ReturnStage, ShipmentReport
from tests.factories import SELLER_ADDRESS
from tests.workflows.doubles import COUNTER_LABEL_POST, Doubles
from tests.workflows.harness import failed_tasks, return_harness
from tests.workflows.lifecycle_test import choosing, refused
from workflows.return_workflow import ReturnWorkflow

COUNTER = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_COUNTER, carrier="colissimo")
SENT = "6A12345678901"
ELSEWHERE = "6A99999999999"


def report(number: str) -> ShipmentReport:
    return ShipmentReport(tracking_number=number)


async def test_a_parcel_going_elsewhere_is_refused_and_the_right_one_accepted(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(
        offers=[COUNTER_LABEL_POST],
        destinations={ELSEWHERE: ParcelDestination(country_code="FR", postal_code="69003")},
    )
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        await handle.execute_update(ReturnWorkflow.choose_return_method, COUNTER)
        wrong = await refused(handle, ReturnWorkflow.report_shipment, report(ELSEWHERE))
        after_wrong = await handle.query(ReturnWorkflow.status)
        accepted = await handle.execute_update(ReturnWorkflow.report_shipment, report(SENT))
        status = await handle.query(ReturnWorkflow.status)
        assert await failed_tasks(handle) == []

    assert wrong == (
        f"tracking_number: colissimo shows the parcel {ELSEWHERE} going elsewhere than the "
        "seller's return address"
    )
    assert (
        after_wrong.tracking_number is None
        and after_wrong.stage is ReturnStage.AWAITING_COUNTER_DROP_OFF
    )
    assert accepted.tracking_number == SENT
    assert "destination checked: the seller's return address" in [e.event for e in status.timeline]


def not_answering(activity: str, key: str) -> ApplicationError | None:
    """The carrier's tracking refuses our credentials: it cannot be asked."""
    if activity != "parcel_destination":
        return None
    return ApplicationError("credentials refused", type="CarrierAuthFailed", non_retryable=True)


@pytest.mark.parametrize(
    ("doubles", "recorded"),
    [
        (
            Doubles(
                offers=[COUNTER_LABEL_POST],
                destinations={SENT: ParcelDestination(country_code="FR")},
            ),
            "destination checked: the seller's return address",
        ),
        (
            Doubles(offers=[COUNTER_LABEL_POST], destinations={SENT: None}),
            "destination not checked: colissimo does not show it",
        ),
        (
            Doubles(offers=[COUNTER_LABEL_POST], unknown_parcels={SENT}),
            "destination not checked: colissimo does not show the parcel yet",
        ),
        (
            Doubles(offers=[COUNTER_LABEL_POST], faults=not_answering),
            "destination not checked: credentials refused",
        ),
    ],
    ids=["country only", "no destination shown", "not shown yet", "carrier cannot be asked"],
)
async def test_a_carrier_that_shows_less_leaves_the_number_accepted_as_far_as_it_shows(
    time_skipping_env: WorkflowEnvironment, doubles: Doubles, recorded: str
) -> None:
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        await handle.execute_update(ReturnWorkflow.choose_return_method, COUNTER)
        accepted = await handle.execute_update(ReturnWorkflow.report_shipment, report(SENT))
        status = await handle.query(ReturnWorkflow.status)

    assert accepted.tracking_number == SENT
    assert recorded in [e.event for e in status.timeline]


def test_a_destination_reaches_an_address_by_country_and_postal_code() -> None:
    seller = SELLER_ADDRESS
    spaced = f" {seller.postal_code[:2]} {seller.postal_code[2:]} ".lower()

    assert ParcelDestination(country_code=seller.country_code).reaches(seller)
    assert ParcelDestination(country_code=seller.country_code, postal_code=spaced).reaches(seller)
    assert not ParcelDestination(country_code="BE").reaches(seller)
    assert not ParcelDestination(country_code=seller.country_code, postal_code="00000").reaches(
        seller
    )
    assert ParcelDestination(
        country_code=seller.country_code, postal_code=seller.postal_code[:2]
    ).reaches(seller)


def test_a_carrier_showing_the_first_part_of_a_postal_code_matches_it() -> None:
    zip_plus_four = SELLER_ADDRESS.model_copy(
        update={"country_code": "US", "postal_code": "94107-1234"}
    )

    assert ParcelDestination(country_code="US", postal_code="94107").reaches(zip_plus_four)
    assert not ParcelDestination(country_code="US", postal_code="94108").reaches(zip_plus_four)
