"""The post-office locator: a carrier's counters nearest to a postal code, over built-in data.

Where the customer is comes from `postal_areas.json`: the centre of the postal code's area (a
French département by its first two digits, a Belgian province or city by its first digits),
or of the town when the data knows it. Counters come from `post_offices.json`, each tagged with
the network (the carrier) it belongs to. Distances are great-circle (haversine), in metres.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from carrier_sandbox.errors import invalid

_HERE = Path(__file__).parent
EARTH_RADIUS_M = 6_371_000.0

LatLon = tuple[float, float]


@dataclass(frozen=True)
class Site:
    site_id: str
    network: str
    kind: str
    name: str
    line1: str
    postal_code: str
    city: str
    country_code: str
    at: LatLon
    hours: tuple[str, ...]
    """Monday first, Sunday last: '09:00-12:00 14:00-18:00' or 'closed'."""

    def as_json(self, distance_m: int) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "name": self.name,
            "kind": self.kind,
            "line1": self.line1,
            "postal_code": self.postal_code,
            "city": self.city,
            "country_code": self.country_code,
            "latitude": self.at[0],
            "longitude": self.at[1],
            "distance_m": distance_m,
            "opening_hours": [
                {"weekday": weekday, "hours": hours}
                for weekday, hours in enumerate(self.hours, start=1)
            ],
        }


@dataclass(frozen=True)
class PostalAreas:
    areas: dict[str, dict[str, LatLon]]
    """Country code → postal-code prefix → centre."""
    towns: dict[tuple[str, str], tuple[str, LatLon]]
    """(country code, folded town name) → the prefix of its postal codes, and its centre."""


def haversine_m(a: LatLon, b: LatLon) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def locate(postal_code: str, city: str | None, country_code: str) -> LatLon:
    """Where a postal code (and town) is, roughly; 422 naming the field it cannot place."""
    areas = postal_areas()
    prefixes = areas.areas.get(country_code)
    if prefixes is None:
        raise invalid(
            f"country_code {country_code} is not served by the locator "
            f"(served: {', '.join(sorted(areas.areas))}).",
            "country_code",
        )
    code = postal_code.replace(" ", "")
    area = next((code[:n] for n in range(len(code), 0, -1) if code[:n] in prefixes), None)
    if area is not None:
        town = areas.towns.get((country_code, _fold(city or "")))
        # A town's centre is used only if the postal code is one of the town's.
        if town is not None and code.startswith(town[0]):
            return town[1]
        return prefixes[area]
    raise invalid(f"postal_code {postal_code} is not a known postal code.", "postal_code")


def nearest(network: str, origin: LatLon, limit: int) -> list[dict[str, Any]]:
    """The network's counters nearest to `origin`, nearest first, with their distance."""
    ranked = sorted(
        ((round(haversine_m(origin, site.at)), site) for site in sites(network)),
        key=lambda pair: (pair[0], pair[1].site_id),
    )
    return [site.as_json(distance) for distance, site in ranked[:limit]]


@cache
def all_sites() -> tuple[Site, ...]:
    raw = json.loads((_HERE / "post_offices.json").read_text(encoding="utf-8"))
    schedules: dict[str, list[str]] = raw["schedules"]
    return tuple(
        Site(
            site_id=s["site_id"],
            network=s["network"],
            kind=s["kind"],
            name=s["name"],
            line1=s["line1"],
            postal_code=s["postal_code"],
            city=s["city"],
            country_code=s["country_code"],
            at=(float(s["at"][0]), float(s["at"][1])),
            hours=tuple(schedules[s["hours"]] if isinstance(s["hours"], str) else s["hours"]),
        )
        for s in raw["sites"]
    )


def sites(network: str) -> list[Site]:
    return [s for s in all_sites() if s.network == network]


@cache
def postal_areas() -> PostalAreas:
    raw = json.loads((_HERE / "postal_areas.json").read_text(encoding="utf-8"))
    areas = {
        country: {prefix: (float(at[0]), float(at[1])) for prefix, at in prefixes.items()}
        for country, prefixes in raw["areas"].items()
    }
    towns = {
        (t["country_code"], _fold(t["city"])): (t["area"], (float(t["at"][0]), float(t["at"][1])))
        for t in raw["towns"]
    }
    return PostalAreas(areas=areas, towns=towns)


def _fold(name: str) -> str:
    """A town's name for comparison: no case, no accents, hyphens as spaces."""
    plain = unicodedata.normalize("NFKD", name.casefold().replace("-", " "))
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).split())
