"""What carriers tell us is checked like what the order service does: a scan dated where no
clock can count from is refused, naming its field."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from domain.carriers import TrackingScan


def scan(occurred_at: str) -> str:
    """A scan as a carrier's webhook gives it, in JSON."""
    return json.dumps(
        {
            "carrier": "sandbox",
            "tracking_number": "SB123456789FR",
            "scan_id": "scan-1",
            "status": "accepted",
            "occurred_at": occurred_at,
        }
    )


def test_a_scan_of_today_is_believed() -> None:
    assert TrackingScan.model_validate_json(scan("2026-12-05T08:12:00+01:00")).scan_id == "scan-1"


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:30:00+02:00"])
def test_a_scan_dated_outside_any_plausible_year_is_refused_naming_its_time(moment: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TrackingScan.model_validate_json(scan(moment))

    (problem,) = refused.value.errors()
    assert problem["loc"] == ("occurred_at",)
    assert problem["msg"] == "Value error, outside the years 2000 to 2099"
