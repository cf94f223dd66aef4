"""The product's store: what returnflow keeps outside Temporal, behind one small interface.

Temporal keeps each return's state; a few things cannot live there because they must be known
before or beyond a workflow's own history, and by every worker and gateway alike:

- the carrier ledger (`activities.carriers.ledger`): what a carrier without idempotency keys
  sold under a step's key, and the label PDFs Colissimo hands over once;
- the sent-notices ledger (`activities.notices.sent`): each notice's (and each withdrawal
  acknowledgement's) Message-ID once the relay accepted it, so no worker sends it again;
- the dead letters (`dead_letters.store`): payloads the gateways refused, with why.

`open_store(settings)` gives a `Store` on SQLite (one file, the embedded default: one host) or
PostgreSQL (`RETURNFLOW_STORE_URL=postgresql://...`: any number of workers and gateways on any
number of hosts), with its schema brought to this build's version (`store.migrations`).
"""

from store.database import Database, Dialect, Session, StoreError, StoreUnavailable
from store.opening import Store, open_store, store_url

__all__ = [
    "Database",
    "Dialect",
    "Session",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "open_store",
    "store_url",
]
