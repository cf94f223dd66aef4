"""Post offices near an address, from Colissimo's "Point Retrait" web service (REST v2,
`findRDVPointRetraitAcheminement`), as Colissimo's WooCommerce and Magento modules call it:
a JSON POST with the credentials, the address, `shippingDate` as dd/mm/yyyy, `filterRelay`
("0" post offices only, "1" every kind of point) and `optionInter` ("1" outside France).
The answer: `errorCode` (0 is success), `errorMessage`, `listePointRetraitAcheminement[]`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from activities.carriers.protocol import CarrierAuthFailed, CarrierRejected, CarrierUnavailable
from domain.carriers import OpeningHours, PostOffice, PostOfficeQuery

NO_POINT_CODES = frozenset({203, 300, 301})
"""errorCode values the official modules read as "no point around here" (an empty list)."""

AUTH_CODES = frozenset({201, 202})
"""Not in the published documentation found here: the codes for a refused account (201) or
an account without this service (202) come from Colissimo's PDF specification of the
service, which could not be read in full; an HTTP 401/403 counts as refused credentials too."""

POST_OFFICE, RELAY_POINT, LOCKER = "post_office", "relay_point", "locker"

KIND_OF_POINT = {
    # The official WooCommerce module groups BDP and BPR as "post offices", A2P and PCS as
    # "pickup points" (Relais Pickup shops and Pickup Station lockers).
    "BPR": POST_OFFICE,
    "BDP": POST_OFFICE,
    "A2P": RELAY_POINT,
    "PCS": LOCKER,
    # Not in the published documentation found here: ACP (Agence ColiPoste) and CDI (centre
    # de distribution) are La Poste's own counters; CMT (a partner shop abroad) is a relay.
    "ACP": POST_OFFICE,
    "CDI": POST_OFFICE,
    "CMT": RELAY_POINT,
}

OPENING_FIELDS = (
    "horairesOuvertureLundi",
    "horairesOuvertureMardi",
    "horairesOuvertureMercredi",
    "horairesOuvertureJeudi",
    "horairesOuvertureVendredi",
    "horairesOuvertureSamedi",
    "horairesOuvertureDimanche",
)
"""Monday to Sunday: each "HH:MM-HH:MM HH:MM-HH:MM" (morning, afternoon)."""

CLOSED_SLOT = "00:00-00:00"
"""An unused slot; a day of two unused slots is a closed day (as the official modules read)."""


def search_body(query: PostOfficeQuery, today: dt.date, *, include_relays: bool) -> dict[str, Any]:
    """The search, credentials added by the caller."""
    near = query.near
    return {
        "address": near.line1,
        "zipCode": near.postal_code,
        "city": near.city,
        "countryCode": near.country_code,
        "shippingDate": today.strftime("%d/%m/%Y"),
        "filterRelay": "1" if include_relays else "0",
        "optionInter": "0" if near.country_code == "FR" else "1",
    }


def offices_from(
    carrier: str, status: int, data: dict[str, Any], query: PostOfficeQuery
) -> list[PostOffice]:
    """The counters of an answer, nearest first, at most `query.limit`; or its error."""
    code = error_code(data)
    if code == 0:
        return post_offices(carrier, data, query)
    if code in NO_POINT_CODES:
        return []
    if code in AUTH_CODES:
        raise CarrierAuthFailed(carrier, error_text(data), status=status)
    if code is None:
        raise CarrierUnavailable(carrier, "findRDVPointRetraitAcheminement: no errorCode")
    # Not in the published documentation found here: which codes blame which field (the
    # official modules show the message of 104, 105, 117, 125, 129, 143-146 to the buyer).
    raise CarrierRejected(carrier, error_text(data), status=status)


def post_offices(carrier: str, data: dict[str, Any], query: PostOfficeQuery) -> list[PostOffice]:
    """The counters of a successful answer, nearest first, at most `query.limit`."""
    points = data.get("listePointRetraitAcheminement") or []
    offices = [_office(carrier, p, query) for p in points if isinstance(p, dict)]
    found = [o for o in offices if o is not None]
    found.sort(key=lambda o: (o.distance_m is None, o.distance_m or 0))
    return found[: query.limit]


def error_code(data: dict[str, Any]) -> int | None:
    """`errorCode` as a number (it comes as 0 or "0"), None when absent or unreadable."""
    try:
        return int(data["errorCode"])
    except (KeyError, TypeError, ValueError):
        return None


def error_text(data: dict[str, Any]) -> str:
    return f"{data.get('errorCode')}: {data.get('errorMessage') or 'no message'}"[:300]


def _office(carrier: str, point: dict[str, Any], query: PostOfficeQuery) -> PostOffice | None:
    site_id, name = str(point.get("identifiant") or ""), str(point.get("nom") or "").strip()
    line1 = next(
        (str(point[k]).strip() for k in ("adresse1", "adresse2", "adresse3") if point.get(k)), ""
    )
    postal_code, city = str(point.get("codePostal") or ""), str(point.get("localite") or "")
    if not (site_id and name and line1 and postal_code and city.strip()):
        return None  # not a point anyone could walk to
    return PostOffice(
        carrier=carrier,
        site_id=site_id,
        name=name,
        # An unknown type is most likely a partner shop, not a La Poste counter.
        kind=KIND_OF_POINT.get(str(point.get("typeDePoint") or ""), RELAY_POINT),
        line1=line1,
        postal_code=postal_code,
        city=city,
        country_code=str(point.get("codePays") or query.near.country_code).upper(),
        distance_m=_metres(point.get("distanceEnMetre")),
        opening_hours=[
            OpeningHours(weekday=day, hours=_hours(point.get(field)))
            for day, field in enumerate(OPENING_FIELDS, start=1)
        ],
    )


def _metres(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return max(0, int(float(value)))
    except (ValueError, OverflowError):  # "nan", "inf": no distance
        return None


def _hours(value: object) -> str:
    slots = [s for s in str(value or "").split() if s and s != CLOSED_SLOT]
    return " ".join(slots) or "closed"
