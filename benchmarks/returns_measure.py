"""What `benchmarks.returns_load` reads besides its own clocks: the processes' memory and CPU
from /proc, each return's history (events, billable actions), what the sandboxes and the mail
sink made per return (duplicates), and the worker killed and started again."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import random
import re
import resource
import signal
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from typing import Any

import httpx
from pydantic import SecretStr
from temporalio.client import Client, WorkflowHandle

from activities.notices.compose import notice_key
from benchmarks import actions, bare_return
from benchmarks.gateway_load import percentiles, proc_status, process_cpu_seconds
from benchmarks.returns_paths import MailWatch
from devstack import probes
from devstack.process import ManagedProcess
from devstack.stack import DevStack, StackError, service_environment
from mail_sink import read_mailbox
from plumbing import metrics
from plumbing.settings import Settings
from store import open_store
from store.database import as_datetime

SCRIPT = "benchmark script"


def pids(stack: DevStack, more: dict[str, int] | None = None) -> dict[str, int]:
    """The running processes by name: the stack's services, and `more`."""
    running = {p.name: p.pid for p in stack.processes if p.pid is not None and not p.exited}
    return {**running, **(more or {})}


def rss_mb(processes: dict[str, int], key: str = "VmHWM") -> dict[str, float]:
    """Each process's peak RSS (`VmHWM`) or current RSS (`VmRSS`), in MB, and this script's."""
    found = {}
    for name, pid in processes.items():
        try:
            found[name] = round(proc_status(pid, key), 1)
        except OSError:
            continue  # gone meanwhile
    if key == "VmHWM":
        found[SCRIPT] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return found


def cpu_seconds(processes: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds each process has used so far, and this script."""
    used = {}
    for name, pid in processes.items():
        try:
            used[name] = process_cpu_seconds(pid)
        except OSError:
            continue  # gone meanwhile
    own = resource.getrusage(resource.RUSAGE_SELF)
    used[SCRIPT] = own.ru_utime + own.ru_stime
    return used


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: round(after[name] - before.get(name, 0.0), 1) for name in after}


@dataclass
class Cost:
    """The mean history of a sample of workflows: events, bytes, billable actions by kind."""

    workflows: int = 0
    events: float = 0.0
    history_kb: float = 0.0
    actions: float = 0.0
    actions_min: int = 0
    actions_max: int = 0
    by_kind: dict[str, float] = field(default_factory=dict)


async def history_cost(client: Client, workflow_ids: list[str], sample: int) -> Cost:
    """The cost of up to `sample` of the workflows, taken evenly through the list."""
    if not workflow_ids:
        return Cost()
    step = max(1, len(workflow_ids) // max(sample, 1))
    chosen = workflow_ids[::step][:sample]
    counted = []
    sizes = []
    for workflow_id in chosen:
        handle = client.get_workflow_handle(workflow_id)
        await settled(handle)
        history = await handle.fetch_history()
        sizes.append(sum(e.ByteSize() for e in history.events))
        counted.append(actions.count(history.to_json()))
    kinds = {k for c in counted for k, n in c.by_kind.items() if n}
    return Cost(
        workflows=len(counted),
        events=round(statistics.mean(c.events for c in counted), 1),
        history_kb=round(statistics.mean(sizes) / 1024, 1),
        actions=round(statistics.mean(c.actions for c in counted), 2),
        actions_min=min(c.actions for c in counted),
        actions_max=max(c.actions for c in counted),
        by_kind={
            k: round(statistics.mean(c.by_kind.get(k, 0) for c in counted), 2)
            for k in actions.KINDS
            if k in kinds
        },
    )


METRICS_EVERY = 1.5
"""Seconds after which a request Temporal served is in its metrics (it reports them every
second)."""


async def temporal_requests(stack: DevStack) -> Counter[str]:
    """The requests Temporal's frontend has served so far, by operation (its own metrics,
    `service_requests`): those of the workers, the gateway and the benchmark's client."""
    port = stack.config.temporal_metrics_port
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"http://{stack.config.host}:{port}/metrics")).text
    return served_by_frontend(text)


def served_by_frontend(text: str) -> Counter[str]:
    """The frontend's `service_requests` in a Prometheus text exposition, by operation."""
    served: Counter[str] = Counter()
    for line in text.splitlines():
        found = _SERVED.match(line)
        if found is None:
            continue
        labels = dict(_LABEL.findall(found["labels"]))
        if labels.get("service_name") == "frontend" and "operation" in labels:
            served[labels["operation"]] += int(float(found["value"]))
    return served


_SERVED = re.compile(r"^service_requests\{(?P<labels>[^}]*)\} (?P<value>\S+)")
"""A sample of the counter (`name{labels} value [timestamp]`)."""
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def per_return(before: Counter[str], after: Counter[str], returns: int) -> dict[str, float]:
    """What was served between `before` and `after`, per return (0 when none was)."""
    return {
        operation: round((after[operation] - before[operation]) / max(returns, 1), 2)
        for operation in sorted(after)
        if after[operation] > before[operation]
    }


async def settled(handle: WorkflowHandle[Any, Any], within: float = 5.0) -> None:
    """Once the workflow has no workflow task nor activity pending (its work at the end of the
    path is done; it may wait for more), or after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        described = (await handle.describe()).raw_description
        if not described.HasField("pending_workflow_task") and not described.pending_activities:
            return
        await asyncio.sleep(0.1)


@dataclass
class Duplicates:
    """What was made more than once for one return (or one Message-ID)."""

    returns: int = 0
    labels_bought_twice: int = 0
    pickups_booked_twice: int = 0
    refunds_requested_twice: int = 0
    emails_sent_twice: int = 0
    """Message-IDs the mail sink received more than once."""
    email_copies_extra: int = 0
    labels: int = 0
    pickups: int = 0
    refunds: int = 0
    emails: int = 0
    examples: list[str] = field(default_factory=list)


async def duplicates(stack: DevStack, return_ids: list[str]) -> Duplicates:
    """Labels and pickups per return as the carrier sandbox created them (per idempotency key),
    refunds per return as the order service recorded them, and the Message-IDs of the returns'
    notices as the mail sink received them, counted."""
    found = Duplicates(returns=len(return_ids))
    ours = set(return_ids)
    async with httpx.AsyncClient(timeout=60) as http:
        keys = (await http.get(f"{stack.config.sandbox_url}/sandbox/idempotency-keys")).json()
        refunds = (await http.get(f"{stack.config.marketplace_url}/sandbox/refunds")).json()
    labels: Counter[str] = Counter()
    pickups: Counter[str] = Counter()
    for key in keys["keys"]:
        return_id, _, rest = str(key["key"]).partition(":")
        if return_id not in ours:
            continue
        if rest.startswith("label:"):
            labels[return_id] += int(key["created"])
        elif rest.startswith("pickup:"):
            pickups[return_id] += int(key["created"])
    refunded = Counter(str(r["return_id"]) for r in refunds if r["return_id"] in ours)
    messages = await asyncio.to_thread(read_mailbox, stack.config.mail_dir)
    sent = Counter(
        message_id
        for message_id in (str(m["Message-ID"]).strip() for m in messages)
        if (key := notice_key(message_id)) is not None and key.return_id in ours
    )
    found.labels, found.pickups = sum(labels.values()), sum(pickups.values())
    found.refunds, found.emails = sum(refunded.values()), sum(sent.values())
    found.labels_bought_twice = sum(1 for n in labels.values() if n > 1)
    found.pickups_booked_twice = sum(1 for n in pickups.values() if n > 1)
    found.refunds_requested_twice = sum(1 for n in refunded.values() if n > 1)
    twice = {m: n for m, n in sent.items() if n > 1}
    found.emails_sent_twice = len(twice)
    found.email_copies_extra = sum(n - 1 for n in twice.values())
    found.examples = [
        *(f"{r}: {n} labels" for r, n in labels.items() if n > 1),
        *(f"{r}: {n} pickups" for r, n in pickups.items() if n > 1),
        *(f"{r}: {n} refunds" for r, n in refunded.items() if n > 1),
        *(f"{m}: received {n} times" for m, n in twice.items()),
    ][:20]
    return found


def send_window_ms(stack: DevStack, return_ids: list[str]) -> dict[str, float]:
    """For each notice of `return_ids` in both, the time from its arrival in the mail sink (the
    relay accepting it) to its Message-ID in the sent-notices ledger: the window in which a
    worker that dies sends the notice again. Percentiles in milliseconds, and how many."""
    ours = set(return_ids)
    received: dict[str, dt.datetime] = {}
    for path in sorted(stack.config.mail_dir.glob("*.eml")):
        with path.open("rb") as file:
            message_id = str(BytesHeaderParser().parse(file)["Message-ID"] or "").strip()
        key = notice_key(message_id)
        if key is None or key.return_id not in ours or message_id in received:
            continue
        stamp = path.name.split("-", 1)[0]
        received[message_id] = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=dt.UTC)
    url = stack.config.store_url
    settings = Settings(var_dir=stack.config.var_dir, store_url=SecretStr(url) if url else None)
    store = open_store(settings)
    try:
        rows = store.database.fetch_all("SELECT message_id, sent_at FROM sent_notices")
    finally:
        store.close()
    windows = [
        (as_datetime(sent_at) - received[message_id]).total_seconds()
        for message_id, sent_at in rows
        if message_id in received
    ]
    return {**percentiles(windows), "notices": len(windows)}


async def events_delivered(stack: DevStack) -> int:
    """Events the worker has delivered to the feeds' subscribers (its metrics)."""
    address = stack.config.metrics_addresses()["worker"]
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"http://{address}/metrics")).text
    return round(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(metrics.EVENT_DELIVERIES.name + "{")
            and 'outcome="delivered"' in line
        )
    )


async def settled_deliveries(stack: DevStack, within: float, quiet: float = 6.0) -> int:
    """`events_delivered` once it has not moved for `quiet` seconds (or `within` is up): the
    feeds of returns done at their last email still deliver their last events after it."""
    deadline = time.monotonic() + within
    found, since = await events_delivered(stack), time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        await asyncio.sleep(2)
        now = await events_delivered(stack)
        if now != found:
            found, since = now, time.monotonic()
    return found


async def until_delivered(stack: DevStack, expected: int, within: float) -> int:
    """`events_delivered` once it reaches `expected`, or when `within` seconds are up."""
    deadline = time.monotonic() + within
    found = await events_delivered(stack)
    while found < expected and time.monotonic() < deadline:
        await asyncio.sleep(2)  # a scrape of the worker's metrics, every 2 s
        found = await events_delivered(stack)
    return found


async def start_bare_worker(stack: DevStack) -> ManagedProcess:
    """The bare returns' worker (benchmarks/bare_return.py) in a process of its own, with the
    stack's environment, once it polls its task queue."""
    worker = ManagedProcess(
        "bare-worker",
        [sys.executable, "-m", "benchmarks.bare_return"],
        stack.config.log_dir / "bare-worker.log",
        service_environment(os.environ, stack.env),
    )
    await worker.start()
    deadline = time.monotonic() + stack.config.startup_timeout_seconds
    assert worker.pid is not None
    while not await probes.worker_polling(stack.client, bare_return.TASK_QUEUE, worker.pid):
        if worker.exited or time.monotonic() > deadline:
            await worker.stop()
            raise StackError(f"the bare worker did not start:\n{worker.log_tail()}")
        await asyncio.sleep(0.1)
    return worker


KILL_PAUSE_SECONDS = 0.5
"""Up to how long after its mark a kill falls."""


@dataclass
class Crash:
    """The worker killed with SIGKILL mid-batch, and started again."""

    at_notices: int
    """The batch's emails in the mail sink when it was killed."""
    seconds_to_polling: float
    """From the kill to the new worker polling its task queue."""


class WorkerKiller:
    """Kills the stack's worker without warning and starts it again as the stack does."""

    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.spec = next(s for s in stack.specs if s.name == "worker")
        self.crashes: list[Crash] = []
        self.peak_mb = 0.0
        """The highest peak RSS of the workers it killed."""
        self._restarting: asyncio.Task[Crash] | None = None

    async def kill_and_restart(self, at_notices: int) -> None:
        """Kill the worker and start it again; a cancellation waits for the new worker (the
        stack must not be left without one, nor with one it does not know)."""
        self._restarting = asyncio.create_task(self._kill_and_restart(at_notices))
        self.crashes.append(await asyncio.shield(self._restarting))

    async def restarted(self) -> None:
        """Once a restart under way, if any, is over."""
        if self._restarting is not None and not self._restarting.done():
            crash = await self._restarting
            self.crashes.append(crash)

    async def _kill_and_restart(self, at_notices: int) -> Crash:
        stack = self.stack
        old = next(p for p in stack.processes if p.name == self.spec.name)
        assert old.pid is not None
        peak = rss_mb({"worker": old.pid}).get("worker", 0.0)
        self.peak_mb = max(self.peak_mb, peak)
        began = time.monotonic()
        os.kill(old.pid, signal.SIGKILL)
        await old.wait()
        new = ManagedProcess(
            self.spec.name,
            self.spec.argv,
            stack.config.log_dir / f"{self.spec.name}.log",
            service_environment(os.environ, {**stack.env, **self.spec.env}),
            stop_grace=self.spec.stop_grace,
        )
        await new.start()
        stack.processes[stack.processes.index(old)] = new
        deadline = began + stack.config.startup_timeout_seconds
        while not await self.spec.ready(stack, new):
            if new.exited or time.monotonic() > deadline:
                raise StackError(f"the worker did not start again:\n{new.log_tail()}")
            await asyncio.sleep(0.1)
        return Crash(at_notices, round(time.monotonic() - began, 2))


def start_killing(
    killer: WorkerKiller,
    kills: int,
    mail: MailWatch,
    prefix: str,
    notices: int,
    rng: random.Random,
) -> asyncio.Task[None]:
    """`kill_meanwhile` in the background."""
    return asyncio.create_task(kill_meanwhile(killer, kills, mail, prefix, notices, rng))


async def stop_killing(killing: asyncio.Task[None], killer: WorkerKiller) -> None:
    """Stop killing (the batch has ended) once the worker is up again, and raise what went
    wrong with a restart."""
    if not killing.done():
        killing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await killing
    await killer.restarted()


async def kill_meanwhile(
    killer: WorkerKiller,
    kills: int,
    mail: MailWatch,
    prefix: str,
    notices: int,
    rng: random.Random,
) -> None:
    """Kill the worker `kills` times, each once the share k/(kills + 1) of the `notices` emails
    the batch sends (returns whose ID starts with `prefix`) is in the mail sink, so that every
    kill falls while returns are on their way; then after a random pause of up to
    `KILL_PAUSE_SECONDS`, so that a kill does not follow the arrival of an email (which would
    catch the worker in the moment after every send)."""
    for k in range(1, kills + 1):
        await mail.until_notices(prefix, max(1, round(notices * k / (kills + 1))))
        await asyncio.sleep(rng.uniform(0.0, KILL_PAUSE_SECONDS))
        await killer.kill_and_restart(mail.notices(prefix))
        crash = killer.crashes[-1]
        print(
            f"  worker killed with {crash.at_notices} of the batch's {notices} emails sent; "
            f"polling again after {crash.seconds_to_polling:.1f} s"
        )
