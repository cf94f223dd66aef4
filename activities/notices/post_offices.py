"""The post-office finder of the notices, over the configured carriers' locators."""

from __future__ import annotations

from activities.carriers.registry import CarrierRegistry
from domain.carriers import PostOffice, PostOfficeQuery


class CarrierPostOffices:
    """`PostOfficeFinder` asking the query's carrier in the registry (the same call as the
    carriers' `find_post_offices` activity, without its error classification: a notice only
    needs to know that the lookup did not answer)."""

    def __init__(self, registry: CarrierRegistry) -> None:
        self._registry = registry

    async def find_post_offices(self, query: PostOfficeQuery) -> list[PostOffice]:
        return await self._registry.get(query.carrier).find_post_offices(query)
