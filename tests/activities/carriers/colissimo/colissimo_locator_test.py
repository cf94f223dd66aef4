"""Colissimo's post office and relay point locator."""

from __future__ import annotations

from pathlib import Path

import pytest

from activities.carriers.colissimo.locator import _metres
from activities.carriers.protocol import CarrierRejected
from domain.carriers import PostOfficeQuery
from tests.activities.carriers.colissimo.builders import (
    Colissimo,
    open_colissimo,
    paris_today,
    sent,
)
from tests.activities.carriers.replay.colissimo import CONTRACT_NUMBER, PASSWORD, replay_config
from tests.factories import HOME


async def test_the_nearest_post_offices_come_first(colissimo: Colissimo) -> None:
    offices = await colissimo.carrier.find_post_offices(
        PostOfficeQuery(carrier="colissimo", near=HOME, limit=2)
    )

    (call,) = colissimo.replay.calls("findRDVPointRetraitAcheminement")
    body = sent(call)
    assert str(call.url) == (
        "https://ws.colissimo.fr/pointretrait-ws-cxf/rest/v2/pointretrait/"
        "findRDVPointRetraitAcheminement"
    )
    assert (body["accountNumber"], body["password"]) == (CONTRACT_NUMBER, PASSWORD)
    assert body["shippingDate"] == paris_today().strftime("%d/%m/%Y")
    assert (body["filterRelay"], body["optionInter"]) == ("0", "0")
    assert (body["zipCode"], body["city"], body["countryCode"]) == ("69003", "Lyon", "FR")
    assert [(o.site_id, o.distance_m, o.kind) for o in offices] == [
        ("693390", 610, "post_office"),
        ("692010", 1150, "post_office"),
    ]
    bellecour = offices[1]
    assert (bellecour.line1, bellecour.postal_code, bellecour.city) == (
        "10 PLACE ANTONIN PONCET",
        "69002",
        "LYON",
    )
    hours = {h.weekday: h.hours for h in bellecour.opening_hours}
    assert hours == {
        1: "08:30-18:30",
        2: "08:30-18:30",
        3: "08:30-18:30",
        4: "08:30-18:30",
        5: "08:30-18:30",
        6: "09:00-12:30",
        7: "closed",
    }


async def test_relay_points_and_lockers_are_listed_when_configured(tmp_path: Path) -> None:
    opened = await open_colissimo(tmp_path, replay_config(include_relay_points=True))
    try:
        offices = await opened.carrier.find_post_offices(
            PostOfficeQuery(carrier="colissimo", near=HOME, limit=5)
        )
    finally:
        await opened.carrier.aclose()
        opened.ledger.close()

    assert sent(opened.replay.requests[0])["filterRelay"] == "1"
    assert [(o.kind, o.distance_m) for o in offices] == [
        ("relay_point", 240),
        ("post_office", 610),
        ("locker", 980),
        ("post_office", 1150),
        ("post_office", 1320),
    ]


async def test_no_point_around_is_an_empty_list(colissimo: Colissimo) -> None:
    colissimo.replay.answer_next("point_retrait_no_point.json")

    offices = await colissimo.carrier.find_post_offices(
        PostOfficeQuery(carrier="colissimo", near=HOME)
    )

    assert offices == []


async def test_a_locator_error_is_a_rejection(colissimo: Colissimo) -> None:
    colissimo.replay.answer_next("point_retrait_zip_missing.json")

    with pytest.raises(CarrierRejected, match="104"):
        await colissimo.carrier.find_post_offices(PostOfficeQuery(carrier="colissimo", near=HOME))


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("1250", 1250),
        ("12.7", 12),
        ("-3", 0),
        ("inf", None),
        ("nan", None),
        ("far", None),
        (True, None),
    ],
)
def test_a_distance_colissimo_gives_is_read_in_metres_or_not_at_all(
    given: object, read: int | None
) -> None:
    """One point's distance that is no number of metres leaves that point without one, rather
    than failing the whole answer."""
    assert _metres(given) == read
