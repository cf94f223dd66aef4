"""EasyPost Trackers read as our scans: one table from EasyPost's statuses to ours.

docs.easypost.com/docs/trackers: a Tracker carries the parcel's whole history in
`tracking_details` (oldest first), each with `status`, `status_detail`, `message`, `datetime` and
`tracking_location` (city, state, country, zip; any may be null). A Tracker is made when a
label is bought; `POST /trackers` makes one for a code EasyPost does not know yet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import partial
from typing import Any

from activities.carriers.easypost.wire import EasyPostApi, Json, timestamp
from activities.carriers.scans import carrier_text, readable_scan
from domain.base import EARLIEST, LATEST
from domain.carriers import ParcelDestination, TrackingScan, TrackingStatus

S = TrackingStatus

EASYPOST_STATUSES: dict[str, TrackingStatus] = {
    # Nothing meaningful from the carrier yet: the parcel has not moved.
    "unknown": S.PRE_TRANSIT,
    "pre_transit": S.PRE_TRANSIT,
    # The first of these is the acceptance scan (see `scans`), later ones are transit.
    "in_transit": S.IN_TRANSIT,
    "out_for_delivery": S.OUT_FOR_DELIVERY,
    "delivered": S.DELIVERED,
    # Held at a counter for the seller to collect: not delivered, someone has to act.
    "available_for_pickup": S.EXCEPTION,
    "return_to_sender": S.RETURNED_TO_SENDER,
    "failure": S.EXCEPTION,
    "cancelled": S.EXCEPTION,
    "error": S.EXCEPTION,
}
"""Every `status` the Tracker docs list. A status they do not list is read as an exception, so
that a person looks at the return rather than the workflow ignoring the scan."""

_ACCEPTANCE = "in_transit"
"""The first `in_transit` detail is the carrier's acceptance scan, whatever its
`status_detail`: EasyPost publishes no mapping from `status_detail` to `status`, and carriers
fill it unevenly (FedEx's "Picked up" comes as `arrived_at_facility`, other scans as `unknown`).
The first time the carrier has the parcel moving is the proof of dispatch the workflow needs."""


class Trackers:
    def __init__(self, api: EasyPostApi) -> None:
        self._api = api

    async def destination(self, tracking_number: str) -> ParcelDestination | None:
        """The Tracker's `carrier_detail.destination_tracking_location` (`country`, `zip`), as
        far as the carrier filled it in (docs.easypost.com/docs/trackers)."""
        detail = (await self._tracker(tracking_number)).get("carrier_detail")
        where = detail.get("destination_tracking_location") if isinstance(detail, dict) else None
        if not isinstance(where, dict):
            return None
        country = where.get("country")
        if not isinstance(country, str) or len(country) != 2 or not country.isalpha():
            return None
        zip_code = where.get("zip")
        postal = zip_code.strip()[:12] if isinstance(zip_code, str) and zip_code.strip() else None
        return ParcelDestination(country_code=country.upper(), postal_code=postal)

    async def track(self, tracking_number: str) -> list[TrackingScan]:
        return scans(self._api.carrier, await self._tracker(tracking_number), tracking_number)

    async def _tracker(self, tracking_number: str) -> Json:
        # The Tracker made when the label was bought is found by its code (`tracking_code`
        # filter of GET /trackers); only a code EasyPost does not know gets a new Tracker,
        # with the carrier left to EasyPost's detection (docs.easypost.com/guides/tracking-guide).
        listed = await self._api.get(
            "trackers", {"tracking_code": tracking_number, "page_size": "1"}
        )
        trackers = [t for t in listed.get("trackers") or [] if isinstance(t, dict)]
        if trackers:
            tracker = trackers[0]
        else:
            tracker = await self._api.post(
                "trackers", {"tracker": {"tracking_code": tracking_number}}
            )
        return tracker


def scans(carrier: str, tracker: Json, tracking_number: str | None = None) -> list[TrackingScan]:
    """Every scan of a Tracker, oldest first, with stable IDs; a detail that cannot be a scan
    (its date unreadable, for one) is left out (`activities.carriers.scans`). The Tracker's
    code, or `tracking_number` when asked for one; a Tracker with neither is unreadable
    (ValueError)."""
    code = tracker.get("tracking_code") or tracking_number
    if not isinstance(code, str) or not code:
        raise ValueError("a Tracker without its tracking_code")
    listed = tracker.get("tracking_details")
    dated = [
        (when, detail)
        for detail in (listed if isinstance(listed, list) else [])
        if isinstance(detail, dict) and (when := _when(detail)) is not None
    ]
    dated.sort(key=lambda pair: pair[0])
    first_move = next((i for i, (_, d) in enumerate(dated) if d.get("status") == _ACCEPTANCE), None)
    found = [
        readable_scan(
            carrier, code, partial(_scan, carrier, code, when, detail, accepted=i == first_move)
        )
        for i, (when, detail) in enumerate(dated)
    ]
    return [scan for scan in found if scan is not None]


def _when(detail: Json) -> dt.datetime | None:
    """When a detail happened, or None when EasyPost gives no readable time, or one outside the
    years returnflow counts in (such a detail is no scan, and not the acceptance either)."""
    try:
        when = timestamp(str(detail["datetime"])) if detail.get("datetime") else None
        plausible = when is not None and EARLIEST <= when < LATEST
    except (ValueError, OverflowError):  # an offset taking the year past 1 or 9999 in UTC
        return None
    return when if plausible else None


def normalised(status: str) -> TrackingStatus:
    return EASYPOST_STATUSES.get(status, S.EXCEPTION)


def _scan(
    carrier: str, code: str, when: dt.datetime, detail: Json, *, accepted: bool
) -> TrackingScan:
    status = str(detail.get("status") or "unknown")
    status_detail = str(detail.get("status_detail") or "unknown")
    written = detail.get("message")
    as_written = str(written).strip()[:200] if written is not None else ""
    # Details have no ID of their own. The tracking code (not the Tracker's ID: a poll may find
    # another Tracker than the webhook's) with the detail's own fields names it across calls:
    # the message as EasyPost wrote it (its first 200 characters, as scan IDs have always been
    # made), so that a scan keeps its ID whatever we show of it.
    fingerprint = "|".join((code, str(detail["datetime"]), status, status_detail, as_written))
    return TrackingScan(
        carrier=carrier,
        tracking_number=code,
        scan_id="ep-" + hashlib.sha256(fingerprint.encode()).hexdigest()[:32],
        status=S.ACCEPTED if accepted else normalised(status),
        occurred_at=when,
        location=_location(detail.get("tracking_location")),
        description=carrier_text(detail.get("message")),
        carrier_code=f"{status}/{status_detail}",
    )


def _location(location: Any) -> str | None:
    if not isinstance(location, dict):
        return None
    parts = [location.get(key) for key in ("city", "state", "zip", "country")]
    return carrier_text(" ".join(str(part) for part in parts if part))
