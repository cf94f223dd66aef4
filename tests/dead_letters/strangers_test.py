"""What strangers' refusals cost: a sample of them is kept within a quota of the store, oldest
removed first, the rest counted; letters of authenticated senders are never removed, and a
stranger cannot add to their count. The store's tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from dead_letters.store import DeadLetter, DeadLetterStore
from gateway.guard import Samples
from plumbing.settings import Settings
from store import Store
from tests.gateway.door import gateway_settings, open_door
from tests.keys import codec_for_tests
from tests.workflows.harness import ReturnHarness, return_harness


def refused(store: DeadLetterStore, body: bytes, *, authenticated: bool) -> DeadLetter:
    return store.keep(
        source="events",
        body=body,
        headers={"content-type": "application/json"},
        status_code=401 if not authenticated else 422,
        reason="bad_signature" if not authenticated else "invalid_event",
        authenticated=authenticated,
    )


def test_strangers_letters_stay_within_their_quota_and_the_oldest_go_first(
    product_store: Store,
) -> None:
    store = DeadLetterStore(product_store, codec_for_tests(), unauthenticated_quota_bytes=20_000)
    signed = [refused(store, b'{"signed": %d}' % n, authenticated=True) for n in range(3)]
    strangers = [
        refused(store, os.urandom(1500).hex().encode(), authenticated=False) for _ in range(40)
    ]

    kept = {letter.letter_id for letter in store.letters()}
    assert store.unauthenticated_bytes() <= 20_000
    assert {letter.letter_id for letter in signed} <= kept, "never removed"
    assert strangers[-1].letter_id in kept and strangers[0].letter_id not in kept
    remaining = [s.letter_id for s in strangers if s.letter_id in kept]
    assert remaining == [s.letter_id for s in strangers[-len(remaining) :]], "the newest stay"
    assert len(remaining) > 1


def test_a_stranger_sending_a_refused_body_again_does_not_count_on_its_letter(
    product_store: Store,
) -> None:
    store = DeadLetterStore(product_store, codec_for_tests())
    body = b'{"event_id": "EVT-1"}'
    original = refused(store, body, authenticated=True)

    replayed_by_a_stranger = refused(store, body, authenticated=False)

    assert replayed_by_a_stranger.letter_id != original.letter_id
    after = store.get(original.letter_id)
    assert (after.times_received, after.authenticated) == (1, True)
    assert store.get(replayed_by_a_stranger.letter_id).authenticated is False


def test_refusals_beyond_the_samples_a_minute_are_counted_and_logged_by_door_and_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    samples = Samples(Settings(dead_letter_unauthenticated_samples_per_minute=2))

    taken = [samples.take("carrier:nowhere", "unknown_carrier") for _ in range(4)]
    taken.append(samples.take("events", "bad_signature"))
    with caplog.at_level(logging.WARNING, logger="gateway.guard"):
        samples.log()

    assert taken == [True, True, False, False, False]
    (record,) = [
        r for r in caplog.records if r.getMessage() == "refusals of unauthenticated senders"
    ]
    said = record.__dict__
    assert said["refused"] == {"carrier/unknown_carrier": 4, "events/bad_signature": 1}
    assert said["kept"] == 2


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[ReturnHarness]:
    async with return_harness(time_skipping_env.client) as harness:
        yield harness


async def test_unsigned_events_beyond_the_sample_are_refused_alike_but_not_kept(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    settings = gateway_settings(
        harness.settings.task_queue,
        tmp_path,
        dead_letter_unauthenticated_samples_per_minute=2,
        gateway_refusals_per_minute=100,
    )
    async with open_door(harness.client, settings) as door:
        answers = [await door.send_event(b'{"n": %d}' % n, signed=False) for n in range(5)]
        kept = sorted(letter.letter_id for letter in door.dead_letters.letters())

    assert [a.status_code for a in answers] == [401] * 5
    assert {a.json()["error"]["code"] for a in answers} == {"bad_signature"}
    letter_ids = [a.json().get("dead_letter_id") for a in answers]
    assert letter_ids[2:] == [None, None, None]
    assert kept == sorted(letter_ids[:2])
