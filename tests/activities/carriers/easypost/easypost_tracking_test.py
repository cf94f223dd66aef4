"""EasyPost Trackers read as our scans."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from activities.carriers.activities import CarrierActivities
from activities.carriers.easypost import EasyPostCarrier
from activities.carriers.easypost.trackers import EASYPOST_STATUSES, scans
from activities.carriers.registry import CarrierRegistry
from domain.carriers import ParcelDestination, TrackingQuery, TrackingStatus
from domain.failures import FailureType
from tests.activities.carriers.easypost.builders import MOVING, WAITING, S, label_request
from tests.activities.carriers.replay.easypost import EasyPostReplay


async def test_the_first_scan_in_transit_is_the_acceptance(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    label = await carrier.create_return_label(label_request())
    before = await carrier.track(label.tracking_number)
    replay.accept_parcel(label.tracking_number)
    after = await carrier.track(label.tracking_number)

    assert [s.status for s in before] == WAITING and [s.status for s in after] == MOVING
    assert [s.scan_id for s in after[:2]] == [s.scan_id for s in before], "stable scan IDs"
    accepted = after[2]
    assert accepted.carrier_code == "in_transit/received_at_origin_facility"
    assert accepted.location == "BROOKLYN NY 11201 US" and accepted.description
    assert replay.calls("tracker.create") == 0, "the purchase's Tracker is found by its code"


async def test_a_code_easypost_does_not_track_yet_gets_a_tracker(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    found = await carrier.track("EZ1000000001")

    assert found and replay.bodies("tracker.create") == [
        {"tracker": {"tracking_code": "EZ1000000001"}}
    ]


def tracker(*details: tuple[str, str]) -> dict[str, Any]:
    return {
        "tracking_code": "9400100000000000000042",
        "tracking_details": [
            {"status": status, "status_detail": "unknown", "message": status, "datetime": when}
            for status, when in details
        ],
    }


STATUS_TABLE = [
    ("unknown", S.PRE_TRANSIT),
    ("pre_transit", S.PRE_TRANSIT),
    ("in_transit", S.IN_TRANSIT),
    ("out_for_delivery", S.OUT_FOR_DELIVERY),
    ("delivered", S.DELIVERED),
    ("available_for_pickup", S.EXCEPTION),
    ("return_to_sender", S.RETURNED_TO_SENDER),
    ("failure", S.EXCEPTION),
    ("cancelled", S.EXCEPTION),
    ("error", S.EXCEPTION),
]
"""Every Tracker `status` docs.easypost.com/docs/trackers lists, and what it means here."""


@pytest.mark.parametrize(
    ("easypost_status", "ours"), [*STATUS_TABLE, ("not_documented", S.EXCEPTION)]
)
def test_each_easypost_status_has_its_normalised_status(
    easypost_status: str, ours: TrackingStatus
) -> None:
    # After the acceptance scan, so that an in_transit scan reads as plain transit.
    moved = tracker(
        ("in_transit", "2026-03-03T10:00:00Z"), (easypost_status, "2026-03-04T10:00:00")
    )
    [first, scan] = scans("easypost", moved)

    assert first.status == S.ACCEPTED and scan.status == ours
    assert scan.occurred_at == dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC), "no zone means UTC"
    assert scan.carrier_code == f"{easypost_status}/unknown"


def test_the_table_is_the_documented_list() -> None:
    assert dict(STATUS_TABLE) == EASYPOST_STATUSES


def test_scans_are_read_oldest_first_whatever_order_they_come_in() -> None:
    late = tracker(
        ("in_transit", "2026-03-04T06:00:00Z"),
        ("in_transit", "2026-03-03T13:00:00Z"),
        ("pre_transit", "2026-03-02T15:00:00Z"),
    )

    assert [s.status for s in scans("easypost", late)] == [S.PRE_TRANSIT, S.ACCEPTED, S.IN_TRANSIT]


async def test_polling_a_parcel_with_only_pre_transit_events_is_no_scan_yet(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    # EasyPost reports the label's creation as events: the carrier has not seen the parcel.
    polling = CarrierActivities(CarrierRegistry([carrier])).poll_parcel_scans
    label = await carrier.create_return_label(label_request())
    query = TrackingQuery(carrier=carrier.code, tracking_number=label.tracking_number)
    with pytest.raises(ApplicationError) as waiting:
        await ActivityEnvironment().run(polling, query)
    replay.accept_parcel(label.tracking_number)
    moving = await ActivityEnvironment().run(polling, query)

    assert waiting.value.type == FailureType.NO_SCAN_YET
    assert waiting.value.category is ApplicationErrorCategory.BENIGN
    assert [s.status for s in moving] == MOVING, "the earlier events come with the first scan"


async def test_the_destination_is_the_trackers_destination_location_when_filled_in(
    carrier: EasyPostCarrier, replay: EasyPostReplay
) -> None:
    label = await carrier.create_return_label(label_request())
    unknown_yet = await carrier.parcel_destination(label.tracking_number)
    replay.trackers[label.tracking_number]["carrier_detail"] = {
        "destination_tracking_location": {
            "city": "CHARLESTON",
            "state": "SC",
            "country": "us",
            "zip": "29401",
        }
    }

    where = await carrier.parcel_destination(label.tracking_number)

    assert unknown_yet is None
    assert where == ParcelDestination(country_code="US", postal_code="29401")
