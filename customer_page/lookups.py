"""What the return page asks the carriers while the customer may still choose or send: the
pickup days of each carrier offering a mailbox pickup, the nearest counters of each offering a
post office.

Each answer is kept `KEPT_FOR_SECONDS` per carrier and address, so that a page opened again
(reloaded, a form refused, someone else holding the link) does not ask the carrier again. A
lookup that failed or took longer than `LOOKUP_SECONDS` is `None`, told apart from an answer
with nothing in it, and not kept: the next page asks again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from activities.carriers.registry import CarrierRegistry
from domain.addresses import PostalAddress
from domain.calendar import country_time_zone, pickup_date_problem
from domain.carriers import (
    CarrierCapability,
    Label,
    PickupDatesRequest,
    PostOffice,
    PostOfficeQuery,
    ReturnMethod,
)
from domain.events import RetractEvent
from domain.returns import ReturnStatus
from workflows.transitions import Message, refusal

logger = logging.getLogger(__name__)

LOOKUP_SECONDS = 5.0
"""How long the page waits for a carrier's pickup days or post offices before doing without."""
KEPT_FOR_SECONDS = 300.0
"""How long a carrier's answer for an address is shown again without asking."""
KEPT_AT_MOST = 10_000
"""Answers kept at most (the oldest go first): a few MB, however many returns are open."""
PDFS_KEPT = 64
"""Label PDFs kept at most, apart from the other answers (the oldest go first): a few MB."""

Key = tuple[str, str, str]
"""What an answer is kept under: its kind, the carrier, and the address or label."""

PickupDays = dict[str, list[dt.date] | None]
"""Each carrier's days a pickup can be booked for; None: it could not be asked."""
Offices = dict[str, list[PostOffice] | None]
"""Each carrier's counters nearest the customer; None: it could not be asked."""


class CarrierAnswers:
    """The carriers' answers to the pages, each kept a few minutes."""

    def __init__(
        self, registry: CarrierRegistry, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._registry = registry
        self._clock = clock
        self._kept: OrderedDict[Key, tuple[float, Any]] = OrderedDict()
        self._pdfs: OrderedDict[Key, tuple[float, Any]] = OrderedDict()

    async def for_page(
        self, status: ReturnStatus, event: RetractEvent
    ) -> tuple[PickupDays, Offices]:
        """What the page of a return shows of the carriers: nothing once the customer may no
        longer choose (or the refund is settled)."""
        if refusal(status.stage, Message.CHOOSE) is not None or status.refund is not None:
            return {}, {}
        home = event.customer.address
        now = dt.datetime.now(dt.UTC)
        zone = country_time_zone(home.country_code)
        day_codes = [
            o.code for o in status.carriers_offered if ReturnMethod.MAILBOX_PICKUP in o.methods()
        ]
        # Where a post office is part of the way: the carriers that can say which are nearest.
        office_codes = [
            o.code
            for o in status.carriers_offered
            if CarrierCapability.POST_OFFICE_LOCATOR in o.capabilities
            and {ReturnMethod.POST_OFFICE_DROP_OFF, ReturnMethod.POST_OFFICE_COUNTER}
            & set(o.methods())
        ]
        offered, nearest = await asyncio.gather(
            asyncio.gather(*(self.pickup_days(code, home) for code in day_codes)),
            asyncio.gather(*(self.nearest_offices(code, home) for code in office_codes)),
        )
        pickup_days: PickupDays = {
            code: (
                None
                if days is None
                else [d for d in days if pickup_date_problem(d, now, status.ship_by, zone) is None]
            )
            for code, days in zip(day_codes, offered, strict=True)
        }
        offices: Offices = dict(zip(office_codes, nearest, strict=True))
        return pickup_days, offices

    async def pickup_days(self, code: str, home: PostalAddress) -> list[dt.date] | None:
        request = PickupDatesRequest(carrier=code, address=home)
        return await self._answer(
            ("days", code, home.model_dump_json()),
            lambda: self._registry.get(code).mailbox_pickup_dates(request),
        )

    async def nearest_offices(self, code: str, home: PostalAddress) -> list[PostOffice] | None:
        query = PostOfficeQuery(carrier=code, near=home, limit=3)
        return await self._answer(
            ("offices", code, home.model_dump_json()),
            lambda: self._registry.get(code).find_post_offices(query),
        )

    async def label_pdf(self, label: Label) -> bytes:
        """The label's PDF from its carrier, kept as the other answers are (at most
        `PDFS_KEPT` of them): a customer downloading it again, or a link holder asking for it
        again and again, does not fetch it from the carrier each time."""
        key = ("label", label.carrier, label.label_id)
        kept = self._fresh(self._pdfs, key)
        if kept is not None:
            pdf: bytes = kept
            return pdf
        pdf = await self._registry.label_pdf(label)
        self._keep(self._pdfs, key, pdf, PDFS_KEPT)
        return pdf

    def _fresh(self, store: OrderedDict[Key, tuple[float, Any]], key: Key) -> Any | None:
        kept = store.get(key)
        return kept[1] if kept is not None and self._clock() - kept[0] < KEPT_FOR_SECONDS else None

    def _keep(
        self, store: OrderedDict[Key, tuple[float, Any]], key: Key, value: Any, most: int
    ) -> None:
        store[key] = (self._clock(), value)
        store.move_to_end(key)
        while len(store) > most:
            store.popitem(last=False)

    async def _answer(self, key: Key, ask: Callable[[], Awaitable[Any]]) -> Any | None:
        kept = self._fresh(self._kept, key)
        if kept is not None:
            return kept
        try:
            answer = list(await asyncio.wait_for(ask(), timeout=LOOKUP_SECONDS))
        except Exception as err:
            logger.warning(
                "carrier lookup for the return page failed", extra={"error": type(err).__name__}
            )
            return None
        self._keep(self._kept, key, answer, KEPT_AT_MOST)
        return answer
