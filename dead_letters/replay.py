"""Replaying a dead letter through the same checks and steps as when it first came.

- A letter is replayed as it came, its signature checked again *as of when it came*: fixing a
  secret that was misconfigured is enough to bring back what its mismatch refused, and
  nothing unsigned ever gets in by a replay.
- An event whose signature was good when it came (refused for its content) may be replayed
  with a corrected body (`--body`): the operator vouches for the correction, recorded in the
  letter.
- A truncated body (over the size limit) cannot be replayed: the sender must send it again.
- A letter's body is opened by the store (it is kept sealed with the payload keys): a body under
  a key this process lacks is a `LetterKeyError` naming the key, and nothing is replayed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dead_letters.store import DeadLetter, LetterState, Replay
from gateway.events import EVENTS_SOURCE, take_event
from gateway.http import Gateway, Outcome
from gateway.tracking import take_webhook

UNAVAILABLE = {
    "temporal_unavailable": "Temporal unreachable",
    "carrier_unavailable": "the carrier unreachable",
}
"""What a 503 says was out of reach, by its error code."""


class NotReplayable(ValueError):
    """This letter cannot be replayed this way; the message says what to do instead."""


@dataclass(frozen=True)
class ReplayResult:
    letter: DeadLetter
    outcome: Outcome

    @property
    def accepted(self) -> bool:
        return self.outcome.accepted

    def describe(self) -> str:
        body = self.outcome.body
        if self.outcome.accepted:
            return_id = body.get("return_id")
            what = "duplicate, already there" if body.get("created") is False else "accepted"
            return f"{what}" + (f": {return_id}" if return_id else f": {body}")
        error = body.get("error", {})
        if self.outcome.status == 503:
            why = UNAVAILABLE.get(error.get("code"), "unavailable")
            return f"{why}: nothing done, the letter stays pending"
        problems = "; ".join(error.get("problems", []))
        return f"refused again ({self.outcome.status} {error.get('code')}): " + (
            problems or error.get("message", "")
        )


async def replay(
    gateway: Gateway, letter: DeadLetter, by: str, fixed_body: bytes | None = None
) -> ReplayResult:
    """Replay `letter` (or its corrected body) and record the attempt in the letter."""
    if letter.state is not LetterState.PENDING:
        raise NotReplayable(f"{letter.letter_id} is {letter.state}: nothing to replay")
    if letter.truncated and fixed_body is None:
        raise NotReplayable(
            f"{letter.letter_id} was over the size limit and only its start was kept: "
            "ask the sender to send it again, within the limit"
        )
    if fixed_body is not None and not (letter.authenticated and letter.source == EVENTS_SOURCE):
        raise NotReplayable(
            f"{letter.letter_id}: only an event whose signature was good may be replayed with a "
            "corrected body; this one must be replayed as it came (fix the signing secret "
            "first) or sent again by its sender"
        )
    body = fixed_body if fixed_body is not None else gateway.dead_letters.body(letter)
    received_at = letter.received_at
    if letter.source == EVENTS_SOURCE:
        outcome = await take_event(
            gateway,
            body,
            letter.headers,
            signed_as_of=received_at.timestamp(),
            check_signature=fixed_body is None,
        )
    elif letter.source.startswith("carrier:"):
        carrier = letter.source.removeprefix("carrier:")
        outcome = await take_webhook(
            gateway, carrier, body, letter.headers, received_at=received_at
        )
    else:
        raise NotReplayable(f"{letter.letter_id}: unknown source {letter.source!r}")
    result = ReplayResult(letter, outcome)
    if outcome.accepted:
        label = "duplicate" if outcome.body.get("created") is False else "accepted"
        state = LetterState.REPLAYED
    else:
        label = outcome.reason or str(outcome.body.get("error", {}).get("code") or "unavailable")
        state = LetterState.PENDING
    gateway.dead_letters.record_replay(
        letter,
        Replay(
            at=dt.datetime.now(dt.UTC),
            by=by,
            outcome=label,
            detail=result.describe(),
            edited_body=fixed_body is not None,
        ),
        state,
    )
    return result
