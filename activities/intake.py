"""The lookups a return makes when it starts, as one local activity.

Six quick reads on the worker (the configured clocks, the eligibility rule, the customer's
country's working days, the seller's address, the carriers configured, the event feed's
subscribers) in one activity: one marker
in the history, one billable action, whatever queries arrive meanwhile (separate local
activities can be split across workflow tasks by a query, and each part is billed).
"""

from __future__ import annotations

from temporalio import activity

from activities.carriers.activities import CarrierActivities
from activities.orders import OrderActivities
from activities.sellers.activities import SellerActivities
from domain.eligibility import return_calendar
from domain.events import RetractEvent
from domain.feed_plan import FeedPlan
from domain.returns import AcceptanceLookups, ReturnIntake


class IntakeActivities:
    def __init__(
        self,
        orders: OrderActivities,
        sellers: SellerActivities,
        carriers: CarrierActivities,
        feed: FeedPlan | None = None,
    ) -> None:
        self._orders = orders
        self._sellers = sellers
        self._carriers = carriers
        self._feed = feed

    @activity.defn
    async def take_in(self, event: RetractEvent) -> ReturnIntake:
        """Everything a new return needs to know before it decides anything."""
        decision = await self._orders.check_eligibility(event)
        timings = await self._orders.return_timings()
        calendar = return_calendar(event)
        if not decision.accepted or decision.cancellation:
            # Nothing to send back (yet): the address and carriers are read if overridden.
            return ReturnIntake(
                timings=timings, decision=decision, calendar=calendar, feed=self._feed
            )
        return ReturnIntake(
            timings=timings,
            decision=decision,
            calendar=calendar,
            feed=self._feed,
            return_address=await self._sellers.get_seller_return_address(event.order.seller_id),
            offers=await self._carriers.list_carrier_offers(),
        )

    @activity.defn
    async def lookups_for_acceptance(self, seller_id: str) -> AcceptanceLookups:
        """What the intake does not read for a rejected return, read once operations accept it."""
        return AcceptanceLookups(
            return_address=await self._sellers.get_seller_return_address(seller_id),
            offers=await self._carriers.list_carrier_offers(),
        )
