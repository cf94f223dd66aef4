"""`python starter.py feed parked|show|replay`: the event feed's deliveries, as operations see
them and set them going again.

- `parked` lists every feed with a parked delivery (the `FeedParked` search attribute): the
  return, the subscriber, the event and why its last attempt failed;
- `show ORDER_ID-LINE` prints one return's feed: events published, each subscriber's progress;
- `replay ORDER_ID-LINE --subscriber NAME --by operations:NAME` delivers the parked event again,
  once the subscriber is fixed; the subscriber's later events follow in sequence.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from client.reading import UpdateNotTaken, execute_taken_update, update_refusal
from domain import search_attributes as sa
from domain.base import field_problems
from domain.feed import FeedView, ForgetRequest, ReplayRequest
from domain.ids import PREFIX
from plumbing.errors import first_line
from workflows.event_feed import EventFeedWorkflow, feed_id

REFUSED, BAD_INPUT = 1, 2
PARKED_QUERY = f"{sa.FEED_PARKED.name} = true AND ExecutionStatus = 'Running'"
"""Feeds holding a parked delivery: a feed operations terminated keeps its search attribute,
and nothing can be replayed on it."""


QUERY_TIMEOUT = dt.timedelta(seconds=10)
"""How long `feed parked` waits for one feed's view: a feed whose workers are gone is named as
not read, and the others listed."""


class FeedCommandError(Exception):
    def __init__(self, message: str, code: int = REFUSED) -> None:
        super().__init__(message)
        self.code = code


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    top = sub.add_parser(
        "feed",
        help="the event feed's deliveries: list the parked ones, show a return's, replay, "
        "forget a subscriber",
        description="Each return's events go to the subscribers of RETURNFLOW_EVENT_SUBSCRIBERS; "
        "a delivery that failed its every attempt is parked until it is replayed.",
    )
    verbs = top.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("parked", help="every return whose feed has a parked delivery")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p = verbs.add_parser("show", help="one return's feed: events published, each subscriber's")
    p.add_argument("ref", metavar="ORDER_ID-LINE", help="the order line or return ID")
    p.add_argument("--json", action="store_true", help="print the feed as JSON")
    p = verbs.add_parser("replay", help="deliver a parked event again; the later ones follow")
    p.add_argument("ref", metavar="ORDER_ID-LINE", help="the order line or return ID")
    p.add_argument("--subscriber", required=True, help="whose parked delivery")
    p.add_argument("--by", required=True, help="who asks: operations:<name>")
    p = verbs.add_parser(
        "forget",
        help="take a subscriber removed for good off a feed where its delivery is parked",
        description="The feed delivers nothing more to that subscriber and ends without it; "
        "the other subscribers' deliveries go on.",
    )
    p.add_argument("ref", metavar="ORDER_ID-LINE", help="the order line or return ID")
    p.add_argument("--subscriber", required=True, help="the subscriber removed for good")
    p.add_argument("--reason", required=True, help="why, kept in the feed's view")
    p.add_argument("--by", required=True, help="who asks: operations:<name>")


def _feed(client: Client, ref: str) -> WorkflowHandle[EventFeedWorkflow, FeedView]:
    return_id = ref if ref.startswith(PREFIX) else f"{PREFIX}{ref}"
    return client.get_workflow_handle_for(EventFeedWorkflow.run, feed_id(return_id))


async def _view(handle: WorkflowHandle[EventFeedWorkflow, FeedView], ref: str) -> FeedView:
    try:
        return await handle.query(EventFeedWorkflow.view)
    except WorkflowQueryFailedError as err:
        raise FeedCommandError(f"the event feed of {ref!r} cannot be read ({err})") from err
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise FeedCommandError(f"no event feed for {ref!r}") from err
        # No worker to answer the query (one stopped, a deploy under way), or Temporal's own
        # refusal: said as `status` says it.
        raise FeedCommandError(f"the event feed of {ref!r} cannot be read ({err.message})") from err


def render(view: FeedView) -> str:
    state = "ended" if view.ended else "running"
    lines = [f"{view.return_id}: {view.published} events published, return {state}"]
    for s in view.subscribers:
        line = f"  {s.subscriber}: {s.delivered} of {view.published} delivered"
        if s.forgotten is not None:
            line += f", taken off by {s.forgotten.by}: {s.forgotten.reason}"
        elif s.parked is not None:
            p = s.parked
            line += (
                f", PARKED at #{p.sequence} {p.type} since {p.parked_at:%Y-%m-%d %H:%M} UTC: "
                f"{p.reason}"
            )
        lines.append(line)
    return "\n".join(lines)


async def _ask(
    handle: WorkflowHandle[EventFeedWorkflow, FeedView], update: Any, request: Any, ref: str
) -> Any:
    """An operations update of a feed: its result, or `FeedCommandError` saying why not."""
    try:
        return await execute_taken_update(handle, update, request)
    except WorkflowUpdateFailedError as err:
        raise FeedCommandError(f"refused: {update_refusal(err)}") from err
    except UpdateNotTaken as err:
        raise FeedCommandError(f"the event feed of {ref!r}: {err}") from err
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        raise FeedCommandError(
            f"the event feed of {ref!r} has ended: its deliveries are over"
        ) from err


async def run(args: argparse.Namespace, connect: Callable[[], Awaitable[Client]]) -> int:
    if args.verb in ("replay", "forget"):
        try:
            request: ReplayRequest | ForgetRequest = (
                ReplayRequest(subscriber=args.subscriber, by=args.by)
                if args.verb == "replay"
                else ForgetRequest(subscriber=args.subscriber, by=args.by, reason=args.reason)
            )
        except ValidationError as err:
            raise FeedCommandError("; ".join(field_problems(err)), BAD_INPUT) from err
        client = await connect()
        handle = _feed(client, args.ref)
        await _view(handle, args.ref)
        if isinstance(request, ReplayRequest):
            result = await _ask(handle, EventFeedWorkflow.replay, request, args.ref)
            print(
                f"replaying {result.subscriber}'s deliveries from #{result.from_sequence}: "
                f"see `feed show {args.ref}`"
            )
        else:
            view = await _ask(handle, EventFeedWorkflow.forget, request, args.ref)
            print(render(view))
        return 0
    client = await connect()
    if args.verb == "show":
        view = await _view(_feed(client, args.ref), args.ref)
        print(view.model_dump_json(indent=2) if args.json else render(view))
        return 0
    found = unread = 0
    async for execution in client.list_workflows(PARKED_QUERY):
        handle = client.get_workflow_handle_for(EventFeedWorkflow.run, execution.id)
        try:
            view = await handle.query(EventFeedWorkflow.view, rpc_timeout=QUERY_TIMEOUT)
        except (RPCError, WorkflowQueryFailedError) as err:
            # A feed whose build no worker runs any more, say: said, and the others listed.
            unread += 1
            print(f"{execution.id}: not read: {first_line(err)}", file=sys.stderr)
            continue
        for s in view.subscribers:
            if s.parked is None:
                continue
            found += 1
            if args.json:
                row: dict[str, Any] = {"return_id": view.return_id}
                print(json.dumps(row | s.parked.model_dump(mode="json")))
            else:
                print(
                    f"{view.return_id}  {s.subscriber}  #{s.parked.sequence} {s.parked.type}  "
                    f"{s.parked.parked_at:%Y-%m-%d %H:%M}  {s.parked.reason}"
                )
    if not found and not unread and not args.json:
        print("no parked delivery")
    return 1 if unread else 0
