"""Temporal activities delivering a return's events to one subscriber, each as a signed
Standard Webhook: `deliver_events` the subscriber's next events in sequence, `deliver_event` one
(the feeds started before batches).

Each event's body is the event's `Webhook` (its personal fields only for a subscriber configured to
receive them), signed with each of the subscriber's secrets. The answer is classified as the
marketplace's services' are (`activities.marketplace_http`): a 2xx is delivered; 408, 425,
429, 5xx, a timeout or no connection is `FeedSubscriberUnavailable`, retried after
`Retry-After` when given; a 3xx or another 4xx is `FeedSubscriberRejected`, not retried: the
feed parks the delivery for operations. A subscriber this worker does not know (a rolling change
of the settings, or one removed) is unavailable: retried, then parked, never silently dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.marketplace_http import MarketplaceHttp
from domain.failures import FailureType
from domain.feed import (
    BatchDelivered,
    Delivery,
    DeliveryBatch,
    DeliveryOutcome,
    FeedEvent,
    webhook_body,
)
from domain.feed_plan import FeedPlan
from plumbing import metrics
from plumbing.standard_webhooks import signed_headers
from plumbing.subscribers import Subscriber

if TYPE_CHECKING:
    from plumbing.settings import Settings


def unavailable(message: str, retry_after: dt.timedelta | None = None) -> ApplicationError:
    return ApplicationError(
        message, type=FailureType.FEED_SUBSCRIBER_UNAVAILABLE, next_retry_delay=retry_after
    )


def rejected(message: str) -> ApplicationError:
    return ApplicationError(message, type=FailureType.FEED_SUBSCRIBER_REJECTED, non_retryable=True)


BATCH_ENDS_BY = 25.0
"""Seconds within which a batch ends, its last post included: inside the delivery activity's
start-to-close timeout (30 s, `workflows.policies.feed_delivery`)."""
TIME_SPENT = "the batch's time was spent"


class FeedActivities:
    def __init__(
        self,
        subscribers: dict[str, Subscriber],
        *,
        attempts: int = 12,
        timeout_seconds: float = 10.0,
        ca_file: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        batch_ends_by: float = BATCH_ENDS_BY,
    ) -> None:
        self._subscribers = subscribers
        self._attempts = attempts
        self._clock = clock
        self._monotonic = monotonic
        self._batch_ends_by = batch_ends_by
        self._post_seconds = timeout_seconds
        self._http = {
            name: MarketplaceHttp(
                f"subscriber {name}",
                "RETURNFLOW_EVENT_SUBSCRIBERS",
                sub.url,
                None,
                unavailable=unavailable,
                rejected=rejected,
                timeout_seconds=timeout_seconds,
                ca_file=ca_file,
                transport=transport,
            )
            for name, sub in subscribers.items()
        }

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedActivities:
        return cls(
            settings.subscribers(),
            attempts=settings.event_delivery_attempts,
            timeout_seconds=settings.marketplace_timeout_seconds,
            ca_file=settings.marketplace_ca_file,
        )

    async def aclose(self) -> None:
        for http in self._http.values():
            await http.aclose()

    def plan(self) -> FeedPlan | None:
        """Who a return starting now sends its events to; None when nobody subscribes."""
        if not self._subscribers:
            return None
        return FeedPlan(subscribers=sorted(self._subscribers), attempts=self._attempts)

    @activity.defn
    async def deliver_event(self, delivery: Delivery) -> DeliveryOutcome:
        """POST the event to the subscriber, signed; once per attempt, the same webhook-id."""
        await self._post(delivery.subscriber, delivery.event)
        return DeliveryOutcome.DELIVERED

    @activity.defn
    async def deliver_events(self, batch: DeliveryBatch) -> BatchDelivered:
        """POST the subscriber's next events one after the other, each as `deliver_event` does.

        A failure on the first event fails the activity (retried, then parked by the feed).
        A failure on a later one ends the batch with the events acknowledged before it, and so
        does the batch's time: a later post starts only while one post's timeout is left before
        `batch_ends_by` seconds, and is cut off there. The feed's next batch starts with the
        event that failed, at once: a subscriber that refused it, or asked to wait, gets it once
        more before the retry policy applies (and the feed parks it)."""
        ends_at = self._monotonic() + self._batch_ends_by
        for done, event in enumerate(batch.events):
            if not done:
                # Cut off at the batch's end too: a post's own deadline (twice the timeout
                # setting) could outlast the activity's.
                try:
                    async with asyncio.timeout(self._batch_ends_by):
                        await self._post(batch.subscriber, event)
                except TimeoutError:
                    raise unavailable(
                        f"subscriber {batch.subscriber} timed out: no whole answer within "
                        f"{self._batch_ends_by:g}s"
                    ) from None
                continue
            left = ends_at - self._monotonic()
            if left < self._post_seconds:
                return BatchDelivered(delivered=done, stopped_by=TIME_SPENT)
            try:
                async with asyncio.timeout(left):
                    await self._post(batch.subscriber, event)
            except TimeoutError:
                return BatchDelivered(delivered=done, stopped_by=TIME_SPENT)
            except Exception as err:
                # Whatever stops it, the events before are acknowledged: the next batch goes
                # on from this one, which the feed parks if it keeps failing.
                reason = err.message if isinstance(err, ApplicationError) else type(err).__name__
                return BatchDelivered(delivered=done, stopped_by=reason)
        return BatchDelivered(delivered=len(batch.events))

    async def _post(self, subscriber_name: str, event: FeedEvent) -> None:
        subscriber = self._subscribers.get(subscriber_name)
        http = self._http.get(subscriber_name)
        fields = {"subscriber": subscriber_name, "event_id": event.event_id}
        if subscriber is None or http is None:
            # A worker configured otherwise (a rolling change), or a subscriber removed: retried,
            # then parked, where operations see it.
            raise unavailable(
                f"subscriber {subscriber_name} is not in RETURNFLOW_EVENT_SUBSCRIBERS of this "
                "worker"
            )
        body = webhook_body(event, personal_data=subscriber.personal_data)
        raw = body.model_dump_json().encode()
        headers = signed_headers(
            subscriber.secrets, event.event_id, raw, timestamp=int(self._clock())
        )
        headers |= {"User-Agent": "returnflow"}
        labels = {"subscriber": subscriber_name}
        try:
            response = await http.send(
                "POST", subscriber.url, json_body=raw.decode(), headers=headers
            )
            if not 200 <= response.status_code < 300:
                http.fail(response)
        except BaseException:
            metrics.count(metrics.EVENT_DELIVERIES, labels | {"outcome": "failed"})
            raise
        metrics.count(metrics.EVENT_DELIVERIES, labels | {"outcome": "delivered"})
        activity.logger.info("event delivered", extra=fields | {"type": body.type})
