"""Mailbox pickup ("Colissimo retour en boîte aux lettres"): SLS getListMailBoxPickingDates
tells the days a postman can collect at an address and the hour the parcel must be in the
mailbox by; SLS planPickup books the collection of an announced return parcel (CORE or CORF).

The Swagger allows only "FR" as the sender's country for both methods.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from activities.carriers.colissimo.labels import FRANCE, PARIS
from activities.carriers.colissimo.wire import SlsAnswer, UnreadableAnswer, address
from domain.addresses import PostalAddress

_DATES_SENDER_FIELDS = ("line0", "line1", "line2", "line3", "city", "zipCode", "countryCode")
"""The Swagger's GetListMailBoxPickingDatesSender: an address without names."""


@dataclass(frozen=True)
class PickingDates:
    """What getListMailBoxPickingDates answered for one address."""

    dates: list[dt.date]
    deposit_before: dt.time
    """`mailBoxPickingDateMaxHour`: the parcel must be in the mailbox by then that day."""


def dates_body(where: PostalAddress) -> dict[str, Any]:
    """getListMailBoxPickingDates: the sender block only (zipCode required, country FR)."""
    block = address(where)
    return {"sender": {k: v for k, v in block.items() if k in _DATES_SENDER_FIELDS}}


def plan_body(tracking_number: str, day: dt.date, where: PostalAddress) -> dict[str, Any]:
    """planPickup: the announced parcel, the chosen day (the Swagger's "2022-06-25" form) and
    the sender's address.

    Not in the published documentation as mandatory: `email` (some SDKs require it; the
    Swagger lists only zipCode as required). The workflow has no e-mail address in the
    pickup request, so none is sent.
    """
    return {
        "parcelNumber": tracking_number,
        "mailBoxPickingDate": day.isoformat(),
        "sender": address(where),
    }


def picking_dates(answer: SlsAnswer) -> PickingDates:
    """The offered days, in order, and the deposit hour.

    The Swagger types `mailBoxPickingDates` as date-times; Colissimo's own WooCommerce module
    reads them as epoch milliseconds. Both forms are read, as days in France.
    """
    raw = answer.data.get("mailBoxPickingDates") or []
    if not isinstance(raw, list):
        raise UnreadableAnswer("mailBoxPickingDates is not a list")
    dates = sorted({_day(value) for value in raw})
    return PickingDates(dates, _hour(answer.data.get("mailBoxPickingDateMaxHour")))


def is_served(where: PostalAddress) -> bool:
    return where.country_code == FRANCE


def _day(value: object) -> dt.date:
    if isinstance(value, bool):
        raise UnreadableAnswer("a picking date is not a date")
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, PARIS).date()
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value)
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UnreadableAnswer("a picking date is not a date") from None
        return moment.astimezone(PARIS).date() if moment.tzinfo else moment.date()
    raise UnreadableAnswer("a picking date is not a date")


def _hour(value: object) -> dt.time:
    # "HH:MM" (five characters in the SDKs' models), e.g. "08:00".
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise UnreadableAnswer("mailBoxPickingDateMaxHour is not an hour")
