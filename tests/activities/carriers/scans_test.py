"""A carrier's odd detail never hides the parcel's other scans: text written over several lines
is kept on one, and a detail no clock can count from is left out, for every carrier's reading
of its tracking answer."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from activities.carriers.colissimo import tracking
from activities.carriers.easypost import trackers
from activities.carriers.sandbox import SandboxCarrier
from activities.carriers.scans import carrier_text
from domain.carriers import TrackingStatus

FIXTURES = Path(__file__).parent / "fixtures"
EASYPOST_CODE = "9400100000000000000042"


def easypost_tracker() -> dict[str, Any]:
    tracker: dict[str, Any] = json.loads(
        (FIXTURES / "easypost" / "tracker_in_transit.json").read_text()
    )
    return tracker


def colissimo_answer() -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(
        (FIXTURES / "colissimo" / "tracking_accepted.json").read_text()
    )
    return answer


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("Pre-Shipment Info\nSent to USPS", "Pre-Shipment Info Sent to USPS"),
        ("Votre colis est\tpris en charge\r\n", "Votre colis est pris en charge"),
        ("\u202eLYON", "LYON"),
        (" \n ", None),
        (None, None),
        ("x" * 300, "x" * 200),
    ],
)
def test_a_carriers_text_is_kept_on_one_line(raw: str | None, kept: str | None) -> None:
    assert carrier_text(raw) == kept


def test_easypost_a_message_over_two_lines_and_an_unreadable_date_hide_no_scan() -> None:
    tracker = easypost_tracker()
    details = tracker["tracking_details"]
    details[0]["message"] = "Pre-Shipment Info\nSent to USPS"
    details[1]["datetime"] = "not a date"
    details.append({**details[-1], "datetime": "1970-01-01T00:00:00Z", "message": "replayed"})

    scans = trackers.scans("easypost", tracker, EASYPOST_CODE)

    assert [s.description for s in scans] == [
        "Pre-Shipment Info Sent to USPS",
        "USPS picked up item",
        "Departed USPS Regional Facility",
    ]
    assert scans[1].status is TrackingStatus.ACCEPTED  # the proof of dispatch is kept
    assert {s.tracking_number for s in scans} == {EASYPOST_CODE}


def test_easypost_a_scan_keeps_its_id_whatever_is_shown_of_its_message() -> None:
    """The ID names the detail as EasyPost wrote it (code, time, status, message), so that a
    scan seen again is the same scan, however its message is shown."""
    tracker = easypost_tracker()
    detail = tracker["tracking_details"][-1]
    detail["message"] = "Departed  USPS\tRegional Facility "
    written = "|".join(
        (
            EASYPOST_CODE,
            detail["datetime"],
            detail["status"],
            detail["status_detail"],
            "Departed  USPS\tRegional Facility",
        )
    )

    scan = trackers.scans("easypost", tracker, EASYPOST_CODE)[-1]

    assert scan.scan_id == "ep-" + hashlib.sha256(written.encode()).hexdigest()[:32]
    assert scan.description == "Departed USPS Regional Facility"


def test_easypost_a_tracker_without_its_code_is_unreadable_unless_asked_for_one() -> None:
    tracker = easypost_tracker()
    tracker.pop("tracking_code", None)

    with pytest.raises(ValueError, match="tracking_code"):
        trackers.scans("easypost", tracker)
    assert trackers.scans("easypost", tracker, EASYPOST_CODE)


def test_colissimo_a_label_with_a_tab_and_a_date_of_1970_hide_no_scan() -> None:
    answer = colissimo_answer()
    number = answer["shipment"]["idShip"]
    deposited, prepared = answer["shipment"]["event"]
    deposited["label"] = "Votre colis a été\tdéposé"
    prepared["date"] = "1970-01-01T00:00:00+01:00"

    scans = tracking.scans("colissimo", number, answer)

    assert [(s.status, s.description) for s in scans] == [
        (TrackingStatus.ACCEPTED, "Votre colis a été déposé")
    ]


def test_the_sandbox_an_event_missing_a_field_or_on_two_lines_hides_no_scan() -> None:
    carrier = SandboxCarrier("http://127.0.0.1:9", "sandbox", "key")
    events: list[dict[str, Any]] = [
        {"scan_id": "s1", "status": "accepted", "occurred_at": "2026-03-01T10:00:00+00:00"},
        {"status": "in_transit", "occurred_at": "2026-03-02T10:00:00+00:00"},
        {"scan_id": "s2", "status": ["in_transit"], "occurred_at": "2026-03-02T11:00:00+00:00"},
        {
            "scan_id": "s3",
            "status": "in_transit",
            "occurred_at": "2026-03-03T10:00:00+00:00",
            "description": "sorted\nat Lyon",
        },
    ]

    scans = carrier._scans("SB1", events)

    assert [(s.scan_id, s.description) for s in scans] == [("s1", None), ("s3", "sorted at Lyon")]
