"""Gateways on several hosts share one store: one set of letters, listed together, and a body
two of them receive at once filed once. Each test runs with two stores opened on the same
database (PostgreSQL, or the SQLite file of one host)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from dead_letters.store import DeadLetter, DeadLetterStore, LetterState
from plumbing.settings import Settings
from store import open_store
from tests.keys import codec_for_tests


def refused(store: DeadLetterStore, body: bytes, *, authenticated: bool = True) -> DeadLetter:
    return store.keep(
        source="events",
        body=body,
        headers={"content-type": "application/json"},
        status_code=422 if authenticated else 401,
        reason="invalid_event" if authenticated else "bad_signature",
        authenticated=authenticated,
    )


@pytest.fixture
def gateways(store_settings: Settings) -> Iterator[tuple[DeadLetterStore, DeadLetterStore]]:
    """The dead letters of two gateways, each with its own connection(s) to the store."""
    stores = [open_store(store_settings) for _ in range(2)]
    try:
        first, second = (DeadLetterStore(store, codec_for_tests()) for store in stores)
        yield first, second
    finally:
        for store in stores:
            store.close()


def test_gateways_sharing_the_store_list_one_set_of_letters_and_count_a_repeat_once(
    gateways: tuple[DeadLetterStore, DeadLetterStore],
) -> None:
    here, there = gateways
    body = b'{"event_id": "EVT-SHARED"}'
    signed = refused(here, body)
    stranger = refused(there, b'{"who": "knows"}', authenticated=False)

    retried_there = refused(there, body)

    both = {letter.letter_id for letter in here.letters()}
    assert both == {letter.letter_id for letter in there.letters()}
    assert both == {signed.letter_id, stranger.letter_id}
    assert retried_there.letter_id == signed.letter_id
    assert here.get(signed.letter_id).times_received == 2
    assert there.body(there.get(signed.letter_id)) == body
    # Discarded here, the letter no longer counts repeats there: the next one is a new letter,
    # and a repeat here counts on that one.
    here.discard(here.get(signed.letter_id), "ops-alice", "a test event")
    anew = refused(there, body)
    assert anew.letter_id != signed.letter_id
    assert refused(here, body).letter_id == anew.letter_id
    assert there.get(signed.letter_id).state is LetterState.DISCARDED
    assert [letter.letter_id for letter in here.letters(LetterState.PENDING)] == [
        stranger.letter_id,
        anew.letter_id,
    ]


def test_the_same_body_received_at_once_by_two_gateways_is_one_letter_counting_each(
    gateways: tuple[DeadLetterStore, DeadLetterStore],
) -> None:
    bodies = [b'{"event_id": "EVT-AT-ONCE-%d"}' % n for n in range(15)]
    times = 3
    together = threading.Barrier(len(gateways))

    def receive(gateway: DeadLetterStore) -> dict[bytes, set[str]]:
        kept: dict[bytes, set[str]] = {}
        for body in bodies:
            together.wait(timeout=30)
            for _ in range(times):
                kept.setdefault(body, set()).add(refused(gateway, body).letter_id)
        return kept

    def one_letter_each() -> set[str]:
        with ThreadPoolExecutor(len(gateways)) as pool:
            here, there = pool.map(receive, gateways)
        for body in bodies:
            (letter_id,) = here[body] | there[body]
            kept = gateways[1].get(letter_id)
            assert gateways[1].body(kept) == body
            assert kept.times_received == times * len(gateways)
        return {letter.letter_id for letter in gateways[0].letters(LetterState.PENDING)}

    first = one_letter_each()
    for letter in gateways[0].letters():
        gateways[0].discard(letter, "ops-alice", "seen")
    # Received again once their letters were discarded: a new letter each, still one.
    second = one_letter_each()

    assert len(first) == len(second) == len(bodies) and not first & second
