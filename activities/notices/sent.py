"""The sent-notices ledger: each email's Message-ID once the relay has accepted it.

SMTP has no idempotency key: a relay that accepted a message cannot be asked whether it did.
So a notice's Message-ID is written here the moment the relay accepts it, and looked up before
any attempt composes it, by whichever worker runs the attempt. A notice is sent twice only when
the sending process dies between the relay's acceptance and this write: one round trip to the
store (longer while the store does not answer and the write is tried again), which `make
bench-returns`'s crash mode measures.

Rows name the return, the notice's kind and when it went; never its reader.
"""

from __future__ import annotations

import datetime as dt

from domain.notices import NoticeKind
from store import Store
from store.database import as_datetime, as_timestamp


class SentNotices:
    def __init__(self, store: Store) -> None:
        self._db = store.database

    async def sent_at(self, message_id: str) -> dt.datetime | None:
        """When the relay accepted the notice of `message_id`, or None if it has not."""
        row = await self._db.run(
            self._db.fetch_one,
            "SELECT sent_at FROM sent_notices WHERE message_id = ?",
            (message_id,),
        )
        return as_datetime(row[0]) if row is not None else None

    async def record(self, message_id: str, return_id: str, kind: NoticeKind) -> None:
        """Note that the relay accepted the notice of `message_id` (again: the first time
        stays)."""
        at = as_timestamp(self._db.dialect, dt.datetime.now(dt.UTC))
        await self._db.run(
            self._db.execute,
            "INSERT INTO sent_notices (message_id, return_id, kind, sent_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (message_id) DO NOTHING",
            (message_id, return_id, str(kind), at),
        )

    async def of_return(self, return_id: str) -> list[tuple[str, NoticeKind, dt.datetime]]:
        """The notices sent for `return_id`, oldest first: Message-ID, kind, when."""
        rows = await self._db.run(
            self._db.fetch_all,
            "SELECT message_id, kind, sent_at FROM sent_notices WHERE return_id = ?"
            " ORDER BY sent_at, message_id",
            (return_id,),
        )
        return [(row[0], NoticeKind(row[1]), as_datetime(row[2])) for row in rows]
