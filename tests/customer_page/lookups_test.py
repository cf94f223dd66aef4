"""The carriers' answers the return page shows: asked once per carrier and address for a few
minutes, and a carrier that could not be asked told apart from one with nothing to offer."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from activities.carriers.registry import CarrierRegistry
from customer_page.lookups import KEPT_FOR_SECONDS, CarrierAnswers
from domain.carriers import PickupDatesRequest, PostOfficeQuery
from tests.factories import HOME

MONDAY = dt.date(2026, 12, 14)


class Carrier:
    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.asked = 0

    async def mailbox_pickup_dates(self, request: PickupDatesRequest) -> list[dt.date]:
        self.asked += 1
        if self.fails:
            raise TimeoutError
        return [MONDAY]

    async def find_post_offices(self, query: PostOfficeQuery) -> list[Any]:
        self.asked += 1
        return []


class Registry:
    def __init__(self, **carriers: Carrier) -> None:
        self.carriers = carriers

    def get(self, code: str) -> Carrier:
        return self.carriers[code]


def answers_of(registry: Registry, clock: list[float]) -> CarrierAnswers:
    return CarrierAnswers(cast(CarrierRegistry, registry), clock=lambda: clock[0])


async def test_a_page_opened_again_does_not_ask_the_carrier_again_for_a_while() -> None:
    post, clock = Carrier(), [0.0]
    answers = answers_of(Registry(post=post), clock)

    first = await answers.pickup_days("post", HOME)
    again = await answers.pickup_days("post", HOME)
    clock[0] += KEPT_FOR_SECONDS
    later = await answers.pickup_days("post", HOME)
    elsewhere = await answers.pickup_days("post", HOME.model_copy(update={"postal_code": "69001"}))

    assert first == again == later == elsewhere == [MONDAY]
    assert post.asked == 3, "once, once the answer is old, once for another address"


async def test_a_carrier_that_could_not_be_asked_is_none_and_asked_again_next_time() -> None:
    down, clock = Carrier(fails=True), [0.0]
    answers = answers_of(Registry(post=down), clock)

    first = await answers.pickup_days("post", HOME)
    again = await answers.pickup_days("post", HOME)
    offices = await answers.nearest_offices("post", HOME)

    assert first is None and again is None and down.asked == 3
    assert offices == [], "no post office near: an answer, not a failure"
