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

import asyncio
import datetime as dt

from temporalio import activity

from domain.notices import NoticeKind
from store import Store
from store.database import as_datetime, as_timestamp

RECORD_ATTEMPTS = 5
"""How many times the ledger write after an accepted send is tried before the attempt fails."""

WITHDRAWAL_ACKNOWLEDGEMENT = "withdrawal_acknowledgement"
"""The kind under which the acknowledgement of a withdrawal is kept (it is no return's notice)."""


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

    async def record_accepted(self, message_id: str, return_id: str, kind: str) -> None:
        """`record`, from the activity that has just seen the relay accept: a store that does
        not answer is tried again a few times (a retry of the activity would send again)."""
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            try:
                await self.record(message_id, return_id, kind)
                return
            except Exception as error:
                if attempt == RECORD_ATTEMPTS:
                    raise
                activity.logger.warning(
                    "sent-notices ledger not written: trying again",
                    extra={"return_id": return_id, "error": type(error).__name__},
                )
                await asyncio.sleep(0.2 * 2**attempt)

    async def record(self, message_id: str, return_id: str, kind: str) -> None:
        """Note that the relay accepted the notice of `message_id` (again: the first time
        stays). `return_id` is the workflow the email is about (a withdrawal's acknowledgement:
        the withdrawal's), `kind` its `NoticeKind` or `WITHDRAWAL_ACKNOWLEDGEMENT`."""
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
            "SELECT message_id, kind, sent_at FROM sent_notices WHERE return_id = ? AND kind <> ?"
            " ORDER BY sent_at, message_id",
            (return_id, WITHDRAWAL_ACKNOWLEDGEMENT),
        )
        return [(row[0], NoticeKind(row[1]), as_datetime(row[2])) for row in rows]


def sent_by_earlier_attempts() -> list[str]:
    """The Message-IDs an earlier attempt of this activity saw the relay accept: its last
    heartbeat's details. They hold even when that attempt could not write the ledger."""
    return [detail for detail in activity.info().heartbeat_details if isinstance(detail, str)]
