"""The customer looks for the nearest counter of the carrier they chose."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from carrier_sandbox.locator import all_sites, haversine_m, locate
from tests.carrier_sandbox.builders import RELAY, SANDBOX, error_of


async def offices(client: httpx.AsyncClient, api: str, **query: Any) -> list[dict[str, Any]]:
    response = await client.get(f"{api}/post-offices", params=query)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["post_offices"]
    return found


async def test_the_nearest_post_offices_come_first_with_their_distance(
    client: httpx.AsyncClient,
) -> None:
    found = await offices(client, SANDBOX, postal_code="69003", city="Lyon", country_code="FR")

    assert len(found) == 3
    assert all(o["city"] == "Lyon" and o["kind"] == "post_office" for o in found)
    distances = [o["distance_m"] for o in found]
    assert distances == sorted(distances) and distances[-1] < 5_000
    assert all(o["site_id"].startswith("SP-") for o in found)


async def test_relay_express_lists_its_relay_points(client: httpx.AsyncClient) -> None:
    found = await offices(client, RELAY, postal_code="69003", city="Lyon", limit=2)

    assert [o["kind"] for o in found] == ["relay_point", "relay_point"]
    assert all(o["site_id"].startswith("RX-") for o in found)


async def test_every_counter_tells_its_hours_for_each_day_of_the_week(
    client: httpx.AsyncClient,
) -> None:
    (office,) = await offices(client, SANDBOX, postal_code="75011", city="Paris", limit=1)

    assert set(office) == {
        "site_id",
        "name",
        "kind",
        "line1",
        "postal_code",
        "city",
        "country_code",
        "latitude",
        "longitude",
        "distance_m",
        "opening_hours",
    }
    assert [d["weekday"] for d in office["opening_hours"]] == [1, 2, 3, 4, 5, 6, 7]
    assert office["opening_hours"][6]["hours"] == "closed"
    assert office["opening_hours"][0]["hours"] in ("09:00-12:00 14:00-18:00", "09:00-19:00")


async def test_without_a_known_town_the_area_of_the_postal_code_is_used(
    client: httpx.AsyncClient,
) -> None:
    found = await offices(client, SANDBOX, postal_code="13008", limit=2)

    assert [o["city"] for o in found] == ["Marseille", "Marseille"]


async def test_a_belgian_customer_finds_the_brussels_office(client: httpx.AsyncClient) -> None:
    found = await offices(client, SANDBOX, postal_code="1050", city="Ixelles", country_code="BE")

    assert found[0]["site_id"] == "SP-BRU-01"
    assert found[0]["country_code"] == "BE"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"postal_code": "97400"}, "postal_code"),
        ({"postal_code": "75011", "country_code": "DE"}, "country_code"),
        ({"postal_code": "75011", "country_code": "fr"}, "country_code"),
        ({"postal_code": "75011", "limit": "0"}, "limit"),
        ({"city": "Paris"}, "postal_code"),
    ],
)
async def test_a_search_it_cannot_place_is_refused_naming_the_field(
    client: httpx.AsyncClient, query: dict[str, str], field: str
) -> None:
    response = await client.get(f"{SANDBOX}/post-offices", params=query)

    assert response.status_code == 422
    assert error_of(response)["field"] == field


def test_paris_to_lyon_is_about_390_km() -> None:
    assert 385_000 < haversine_m((48.8566, 2.3522), (45.7640, 4.8357)) < 395_000


def test_a_town_the_data_knows_is_placed_at_its_centre_only_with_its_own_postal_code() -> None:
    assert locate("69003", "Lyon", "FR") == (45.7640, 4.8357)
    # "Lyon" with a postal code of another area is placed by the postal code.
    assert locate("13008", "Lyon", "FR") == locate("13008", None, "FR")


def test_the_data_set_spreads_over_many_towns_and_both_networks() -> None:
    sites = all_sites()

    assert 25 <= len(sites) <= 40
    assert len({s.site_id for s in sites}) == len(sites)
    towns = {s.city for s in sites}
    assert {"Paris", "Lyon", "Marseille", "Lille", "Bordeaux", "Nantes"} <= towns
    assert {s.network for s in sites} == {"sandbox", "relay"}
    assert all(len(s.hours) == 7 for s in sites)
    for site in sites:
        # Every counter lies in its town, and its town in the area of its postal code.
        town = locate(site.postal_code, site.city, site.country_code)
        area = locate(site.postal_code, None, site.country_code)
        assert haversine_m(town, site.at) < 6_000, site.site_id
        assert haversine_m(area, site.at) < 60_000, site.site_id
