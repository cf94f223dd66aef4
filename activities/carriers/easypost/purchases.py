"""Buying at EasyPost once per step, though EasyPost takes no idempotency key.

Neither docs.easypost.com nor the official clients' requests know an `Idempotency-Key`, so a
step's progress is kept in the `CarrierLedger` under the step's key. Labels (a Shipment) and
pickups (a Pickup) are bought the same way:

1. `POST /{objects}` (free: EasyPost charges only the purchase) -> the object's ID is recorded
   at once, so a retry never makes a second object once the first answer was read; of two
   attempts that overlap (one timed out with its answer on its way), the object recorded first
   is the one both go on with, and the other stays unbought;
2. before buying, a retry reads the object back (`GET /{objects}/{id}`): if it is bought, the
   purchase went through and only its answer was lost -- it is not bought again;
3. `POST /{objects}/{id}/buy` with the cheapest fitting rate -> the result is recorded and given
   back as is on any later retry, without asking EasyPost. A purchase EasyPost refuses is read
   back too: an attempt that overlapped this one (timed out while its purchase was on its way)
   may have bought it, and EasyPost buys an object once.

A retry can still make a second, unbought object when the very first answer was lost; it costs
nothing and is never bought.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from activities.carriers.easypost.wire import EasyPostApi, Json, cheapest
from activities.carriers.ledger import CarrierLedger
from activities.carriers.protocol import CarrierRejected

Result = TypeVar("Result", bound=BaseModel)


@dataclass(frozen=True)
class Purchase:
    """How one kind of EasyPost object is made, told bought, and bought."""

    objects: str
    """The collection: "shipments" or "pickups"."""
    rates: str
    """Where the object lists what it can be bought at: "rates" or "pickup_rates"."""
    is_bought: Callable[[Json], bool]
    buy_body: Callable[[Json], Json]
    """The body of `POST /{objects}/{id}/buy` for the chosen rate."""
    only_carrier: str | None = None
    only_service: str | None = None


async def buy_once(
    api: EasyPostApi,
    ledger: CarrierLedger,
    key: str,
    purchase: Purchase,
    body: Callable[[], Json],
    result: type[Result],
    read: Callable[[Json], Result],
) -> Result:
    """The step's result: recalled, or made by creating (`body()`) and buying one object."""
    key = f"{purchase.objects}:{key}"  # a label's key can never find a pickup, nor back
    progress = await ledger.recall(api.carrier, key) or {}
    if "result" in progress:
        return result.model_validate_json(progress["result"])
    object_id = progress.get("object_id")
    if object_id is None:
        found = await api.post(purchase.objects, body())
        object_id = str(found["id"])
        # An overlapping attempt (one Temporal timed out while its creation was on its way)
        # may have recorded its own object meanwhile: the first recorded is the one bought.
        progress = await ledger.claim(api.carrier, key, {"object_id": object_id})
        if "result" in progress:
            return result.model_validate_json(progress["result"])
        if progress["object_id"] != object_id:
            object_id = str(progress["object_id"])
            found = await api.get(f"{purchase.objects}/{object_id}")
    else:
        found = await api.get(f"{purchase.objects}/{object_id}")
    if not purchase.is_bought(found):
        rate = cheapest(
            api.carrier,
            list(found.get(purchase.rates) or []),
            only_carrier=purchase.only_carrier,
            only_service=purchase.only_service,
            messages=list(found.get("messages") or []),
            what=purchase.rates.removesuffix("s"),
        )
        try:
            found = await api.post(f"{purchase.objects}/{object_id}/buy", purchase.buy_body(rate))
        except CarrierRejected:
            # Another attempt of the step (one Temporal timed out while its purchase was on
            # its way) may have bought it meanwhile: EasyPost then refuses a second purchase.
            found = await api.get(f"{purchase.objects}/{object_id}")
            if not purchase.is_bought(found):
                raise
    made = read(found)
    await ledger.remember(
        api.carrier, key, {"object_id": object_id, "result": made.model_dump_json()}
    )
    return made
