"""The carriers' answers the return page shows: asked once per carrier and address for a few
minutes, and a carrier that could not be asked told apart from one with nothing to offer."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from activities.carriers.registry import CarrierRegistry
from customer_page.lookups import KEPT_FOR_SECONDS, PDFS_KEPT, CarrierAnswers
from domain.carriers import Label, PickupDatesRequest, PostOfficeQuery
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
        self.pdfs_fetched: list[str] = []

    def get(self, code: str) -> Carrier:
        return self.carriers[code]

    async def label_pdf(self, label: Label) -> bytes:
        self.pdfs_fetched.append(label.label_id)
        return b"%PDF-1.7 " + label.label_id.encode()


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


def label(n: int) -> Label:
    return Label(
        carrier="post",
        label_id=f"L{n}",
        tracking_number=f"SB{n:09d}FR",
        created_at=dt.datetime(2026, 12, 7, tzinfo=dt.UTC),
    )


async def test_a_label_downloaded_again_is_not_fetched_from_the_carrier_again() -> None:
    registry, clock = Registry(post=Carrier()), [0.0]
    answers = answers_of(registry, clock)

    first = await answers.label_pdf(label(1))
    again = await answers.label_pdf(label(1))
    for n in range(2, PDFS_KEPT + 2):  # as many others as are kept: the first goes
        await answers.label_pdf(label(n))
    after_many = await answers.label_pdf(label(1))

    assert first == again == after_many == b"%PDF-1.7 L1"
    assert registry.pdfs_fetched.count("L1") == 2 and len(registry.pdfs_fetched) == PDFS_KEPT + 2
