"""What the carrier contract suite needs of each carrier it checks.

The sandbox is checked over real HTTP; Colissimo and EasyPost, which cannot be reached from
here, through replays of the requests and responses their documentation publishes. Each provides
a `ContractSubject`; `contract_test.py` runs the same checks on all of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from activities.carriers.protocol import Carrier
from domain.addresses import PostalAddress
from domain.carriers import CarrierCapability, Parcel


@dataclass
class ContractSubject:
    carrier: Carrier
    capabilities: frozenset[CarrierCapability]
    """What the carrier must declare in `describe()`."""
    customer: PostalAddress
    """Where the parcel leaves from (the customer's home), in a country the carrier serves."""
    seller: PostalAddress
    """Where it goes back to."""
    parcel: Parcel
    accept_parcel: Callable[[str], Awaitable[None]]
    """Make the carrier scan the parcel with this tracking number as accepted (the sandbox: a
    scan on command; a replay: its tracking answer moves on to the documented accepted event)."""
    signed_webhook: Callable[[str], tuple[dict[str, str], bytes]] | None = None
    """Headers (lower-case keys) and raw body of a correctly signed tracking webhook about the
    parcel with this tracking number, showing it accepted. None without `tracking_webhook`."""
    break_credentials: Callable[[], Awaitable[None]] | None = None
    """From now on the carrier refuses our credentials (documented 401 answer)."""
    fail_next: Callable[[int, float | None], Awaitable[None]] | None = None
    """The carrier's next answer is this HTTP status (5xx or 429), with this Retry-After."""
