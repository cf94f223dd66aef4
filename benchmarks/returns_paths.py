"""The returns of `benchmarks.returns_load`, each played end to end by those who act on it.

A real return goes through the doors production has: the order service's signed retract event
to the gateway; the customer, once the address email is in their mailbox (the stack's mail
sink), choosing a mailbox pickup with the customer app's token (`POST /v1/returns/{id}/method`,
the `choose_return_method` update); once the label email is in, the carrier (the sandbox)
scanning the parcel, whose signed tracking webhook reaches the return through the gateway. The
return has reached the proof of dispatch once the customer's pickup notice and the seller's
inbound notice are in the mail sink: `picked_up`, the refund requested, every activity of that
path done.

A bare return (`benchmarks.bare_return`) is started, chosen for and signalled with the
benchmark's own Temporal client, and is done when its workflow has completed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from temporalio.client import Client

from activities.notices.compose import notice_key
from benchmarks.bare_return import CARRIER, CHOOSE, SCANS, start_bare
from benchmarks.gateway_load import own_ids
from client.start import parse_event
from devstack.config import StackConfig
from devstack.demo import redate
from devstack.stack import DevStack
from domain.calendar import next_pickup_date
from domain.carriers import ReturnMethod
from domain.events import RetractEvent
from domain.notices import NoticeKind
from domain.returns import ReturnMethodChoice
from plumbing.signing import signed_headers

SAMPLE = Path("examples/events/01-mailbox-pickup.json")
CHOSEN_ON = NoticeKind.RETURN_ADDRESS
"""The email the customer chooses from."""
LABELLED = NoticeKind.RETURN_LABEL
"""The email with the label the parcel is sent with."""
DISPATCHED = frozenset({NoticeKind.PICKUP_CONFIRMED, NoticeKind.SELLER_PARCEL_INBOUND})
"""The notices sent last on the way to the proof of dispatch."""
NOTICES_PER_RETURN = len({CHOSEN_ON, LABELLED} | DISPATCHED)
"""The emails of a return on its way to the proof of dispatch."""
MAX_ATTEMPTS = 30
"""A player gives a request up after this many answers to send it again in a row."""
SENT_AGAIN_AFTER = (429, 500, 502, 503, 504)
"""Answers after which a request that carries its key (an event, a choice) is sent again, as
a client does: the key makes the second one the first one's duplicate."""


@dataclass
class Played:
    """One return as its players saw it (times from `time.monotonic`)."""

    return_id: str
    sent: float
    done: float | None = None
    choice_seconds: float | None = None
    """Choice sent → answer received, retries included (a real return's, by the customer)."""
    retried: Counter[str] = field(default_factory=Counter)
    """Requests sent again, by request and answer (`choice: 503`)."""
    choice_answered_later: bool = False
    """The gateway answered 202 (still running): the label email told the customer instead."""
    error: str | None = None


def withdrawals(prefix: str, count: int) -> list[RetractEvent]:
    """`count` withdrawals of the mailbox-pickup sample made now, with order numbers `prefix`*."""
    sample = parse_event(SAMPLE.read_bytes())
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    event = redate(sample, now, prefix)
    return [own_ids(event, prefix, i) for i in range(count)]


def mailbox_pickup() -> ReturnMethodChoice:
    return ReturnMethodChoice(
        method=ReturnMethod.MAILBOX_PICKUP,
        carrier=CARRIER,
        pickup_date=next_pickup_date(dt.datetime.now(dt.UTC)),
    )


class MailWatch:
    """The mail sink's directory, read by file name as it fills (`{time}-{sequence}-{the
    Message-ID's left part}.eml`): which notices each return has had."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._seen: set[str] = set()
        self._had: dict[str, set[NoticeKind]] = {}
        self._waiting: dict[str, list[tuple[frozenset[NoticeKind], asyncio.Future[None]]]] = {}
        self._arrived = asyncio.Event()
        """Set when messages have arrived since it was cleared."""

    def had(self, return_id: str) -> set[NoticeKind]:
        return self._had.get(return_id, set())

    def count(self, kind: NoticeKind, prefix: str) -> int:
        """Returns whose ID starts with `prefix` that have had a `kind` notice."""
        return sum(1 for r, kinds in self._had.items() if r.startswith(prefix) and kind in kinds)

    def notices(self, prefix: str) -> int:
        """Notices received by the returns whose ID starts with `prefix`."""
        return sum(len(kinds) for r, kinds in self._had.items() if r.startswith(prefix))

    async def until_notices(self, prefix: str, count: int) -> None:
        """Once `notices(prefix)` has reached `count`."""
        while self.notices(prefix) < count:
            self._arrived.clear()
            await self._arrived.wait()

    async def count_until(self, kind: NoticeKind, prefix: str, expected: int, within: float) -> int:
        """`count(kind, prefix)` once it reaches `expected`, or when `within` seconds are up."""
        deadline = time.monotonic() + within
        while (found := self.count(kind, prefix)) < expected:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)
        return found

    async def until(self, return_id: str, kinds: frozenset[NoticeKind]) -> None:
        if kinds <= self.had(return_id):
            return
        arrived = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(return_id, []).append((kinds, arrived))
        await arrived

    async def watch(self, interval: float = 0.1) -> None:
        """Read the directory every `interval` seconds until cancelled."""
        while True:
            await self.read()
            await asyncio.sleep(interval)

    async def read(self) -> None:
        """Take the messages that have arrived since the last read."""
        self._take(await asyncio.to_thread(self._new_names))

    def _new_names(self) -> list[str]:
        try:
            with os.scandir(self.directory) as entries:
                names = [e.name for e in entries if e.name.endswith(".eml")]
        except FileNotFoundError:
            return []
        return [name for name in names if name not in self._seen]

    def _take(self, names: list[str]) -> None:
        if names:
            self._arrived.set()
        touched = set()
        for name in names:
            self._seen.add(name)
            parts = name.removesuffix(".eml").split("-", 2)
            key = notice_key(parts[2]) if len(parts) == 3 else None
            if key is not None:
                self._had.setdefault(key.return_id, set()).add(key.kind)
                touched.add(key.return_id)
        for return_id in touched & self._waiting.keys():
            waiting = []
            for kinds, arrived in self._waiting.pop(return_id):
                if kinds <= self._had[return_id]:
                    if not arrived.done():
                        arrived.set_result(None)
                else:
                    waiting.append((kinds, arrived))
            if waiting:
                self._waiting[return_id] = waiting


class RealReturns:
    """The order service, the customer app and the carrier of real returns, over HTTP."""

    def __init__(
        self,
        config: StackConfig,
        gateway: httpx.AsyncClient,
        sandbox: httpx.AsyncClient,
        mail: MailWatch,
        retry_pause: float = 1.0,
    ) -> None:
        self.config = config
        self.gateway = gateway
        self.sandbox = sandbox
        self.mail = mail
        self.retry_pause = retry_pause

    async def play(self, event: RetractEvent) -> Played:
        """Withdraw; choose a mailbox pickup once the address email is in; the carrier scans
        the parcel once the label email is; done once the dispatch notices are out."""
        played = Played("", time.monotonic())
        played.return_id = await self.withdraw(event, played)
        await self.mail.until(played.return_id, frozenset({CHOSEN_ON}))
        tracking_number = await self.choose(played)
        # The parcel leaves with the label the customer printed from its email.
        await self.mail.until(played.return_id, frozenset({LABELLED}))
        await self.scan(tracking_number, played)
        await self.mail.until(played.return_id, DISPATCHED)
        played.done = time.monotonic()
        return played

    async def leave_waiting(self, event: RetractEvent) -> Played:
        """Withdraw, and leave the return waiting for its customer's choice (done once the
        gateway has started it)."""
        played = Played("", time.monotonic())
        played.return_id = await self.withdraw(event, played)
        played.done = time.monotonic()
        return played

    async def withdraw(self, event: RetractEvent, played: Played) -> str:
        """The order service's signed event; the ID of the return it started."""
        body = event.model_dump_json().encode()

        async def send() -> httpx.Response:
            headers = {"Content-Type": "application/json"}
            headers |= signed_headers(self.config.event_secret, body)
            return await self.gateway.post("/v1/events", content=body, headers=headers)

        answer = await self._until_taken(send, (200, 202), "event", played, SENT_AGAIN_AFTER)
        return_id: str = answer.json()["return_id"]
        return return_id

    async def choose(self, played: Played) -> str:
        """The customer's choice, sent again with its Idempotency-Key after a server error; the
        parcel's tracking number."""
        began = time.monotonic()
        body = mailbox_pickup().model_dump(mode="json")
        headers = {"Authorization": f"Bearer {self.config.customer_token}"}
        headers["Idempotency-Key"] = "benchmark-choice"
        path = f"/v1/returns/{played.return_id}/method"

        async def send() -> httpx.Response:
            return await self.gateway.post(path, json=body, headers=headers)

        answer = await self._until_taken(send, (200, 202), "choice", played, SENT_AGAIN_AFTER)
        played.choice_seconds = time.monotonic() - began
        if answer.status_code == 202:
            played.choice_answered_later = True
            await self.mail.until(played.return_id, frozenset({LABELLED}))

            async def read() -> httpx.Response:
                return await self.gateway.get(f"/v1/returns/{played.return_id}", headers=headers)

            answer = await self._until_taken(read, (200,), "status", played, SENT_AGAIN_AFTER)
        tracking: str = answer.json()["tracking_number"]
        return tracking

    async def scan(self, tracking_number: str, played: Played) -> None:
        """The carrier's acceptance scan; its webhook goes to the gateway."""

        async def send() -> httpx.Response:
            return await self.sandbox.post(f"/sandbox/parcels/{tracking_number}/scans", json={})

        await self._until_taken(send, (201,), "scan", played)

    async def _until_taken(
        self,
        send: Callable[[], Awaitable[httpx.Response]],
        taken: tuple[int, ...],
        what: str,
        played: Played,
        again: tuple[int, ...] = (503,),
    ) -> httpx.Response:
        """Send until answered with one of `taken`, sending again after one of `again` or a
        lost connection (each counted in `played.retried`)."""
        last = ""
        for _attempt in range(MAX_ATTEMPTS):
            try:
                answer = await send()
            except httpx.TransportError as err:
                last = f"{type(err).__name__}: {err}"
                played.retried[f"{what}: connection lost"] += 1
                await asyncio.sleep(self.retry_pause)
                continue
            if answer.status_code in taken:
                return answer
            if answer.status_code not in again:
                raise RuntimeError(f"{what}: {answer.status_code} {answer.text[:300]}")
            last = str(answer.status_code)
            played.retried[f"{what}: {answer.status_code}"] += 1
            await asyncio.sleep(self.retry_pause)
        raise RuntimeError(f"{what}: given up after {MAX_ATTEMPTS} attempts (last: {last})")


async def play_bare(client: Client, event: RetractEvent, *, with_feed: bool = False) -> Played:
    """A bare return (`with_feed`: and its bare event feed): started, chosen for at once,
    scanned once answered, completed."""
    order = event.order
    played = Played(f"bare-{order.order_id}-{order.line_id}", time.monotonic())
    ship_by = event.occurred_at + dt.timedelta(days=14)
    handle = await start_bare(client, event, ship_by, with_feed=with_feed)
    began = time.monotonic()
    await handle.execute_update(CHOOSE, mailbox_pickup(), result_type=str)
    played.choice_seconds = time.monotonic() - began
    await handle.signal(SCANS, {"carrier": CARRIER})
    await handle.result()
    played.done = time.monotonic()
    return played


async def play_all(
    play: Callable[[RetractEvent], Awaitable[Played]],
    events: list[RetractEvent],
    concurrency: int,
    within: float,
) -> list[Played]:
    """Every event's return played, `concurrency` at a time, each within `within` seconds; a
    return that fails or times out is reported in its `Played` (under its order number), not
    raised."""
    queue: asyncio.Queue[RetractEvent] = asyncio.Queue()
    for event in events:
        queue.put_nowait(event)
    results: list[Played] = []

    async def player() -> None:
        while not queue.empty():
            event = queue.get_nowait()
            sent = time.monotonic()
            try:
                async with asyncio.timeout(within):
                    played = await play(event)
            except Exception as err:  # reported with the return, the batch goes on
                reason = "timed out" if isinstance(err, TimeoutError) else f"{err}"
                played = Played(event.order.order_id, sent, error=reason)
            results.append(played)

    await asyncio.gather(*(player() for _ in range(concurrency)))
    return results


@asynccontextmanager
async def real_players(stack: DevStack, concurrency: int) -> AsyncIterator[RealReturns]:
    """The players of real returns on `stack`, with the mail sink watched meanwhile."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    mail = MailWatch(stack.config.mail_dir)
    watching = asyncio.create_task(mail.watch())
    try:
        async with (
            httpx.AsyncClient(
                base_url=stack.config.gateway_url, timeout=60, limits=limits
            ) as gateway,
            httpx.AsyncClient(
                base_url=stack.config.sandbox_url, timeout=60, limits=limits
            ) as sandbox,
        ):
            yield RealReturns(stack.config, gateway, sandbox, mail)
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
