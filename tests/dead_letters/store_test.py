"""Dead letters keep their bodies sealed with the payload keys: nothing personal in the store in
clear, no plain digest of a body anywhere, old letters (kept in clear) still read, found and
sealed. Each test runs on the embedded SQLite file and on PostgreSQL."""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from dead_letters.replay import ReplayResult
from dead_letters.store import DeadLetter, DeadLetterStore, LetterKeyError, LetterState, Replay
from gateway.http import unavailable
from plumbing.encryption import EncryptionCodec, Keyring
from store import Store
from store.sqlite import SqliteDatabase
from tests.dead_letters.files import index_entries, rewrite, stored, write_legacy
from tests.factories import CUSTOMER_EMAIL, CUSTOMER_NAME, CUSTOMER_STREET, retract_event
from tests.keys import NEXT_KEY, NEXT_KEY_ID, TEST_KEYRING, codec_for_tests

PERSONAL = [CUSTOMER_NAME, CUSTOMER_EMAIL, CUSTOMER_STREET]
OTHER_KEYS = f"{NEXT_KEY_ID}={NEXT_KEY}"


def event_body() -> bytes:
    return retract_event().model_dump_json().encode()


def keep(store: DeadLetterStore, body: bytes, source: str = "events") -> DeadLetter:
    return store.keep(
        source=source,
        body=body,
        headers={"Content-Type": "application/json", "Authorization": "Bearer secret"},
        status_code=422,
        reason="invalid_event",
        problems=["order.line_id: too short"],
        authenticated=True,
    )


def readable(raw: bytes) -> bytes:
    """A document's bytes, and every string in it decoded from base64 where it is base64: what
    anyone reading the store learns without a key."""
    found = [raw]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            with contextlib.suppress(binascii.Error, ValueError):
                found.append(base64.b64decode(value, validate=True))

    walk(json.loads(raw))
    return b"\n".join(found)


@pytest.fixture
def store(product_store: Store) -> DeadLetterStore:
    return DeadLetterStore(product_store, codec_for_tests())


def test_a_letter_in_the_store_holds_nothing_personal_and_no_digest_of_its_body(
    store: DeadLetterStore,
) -> None:
    body = event_body()
    letter = keep(store, body)

    raw = stored(store, letter.letter_id)
    in_store = readable(raw)
    assert all(secret.encode() not in in_store for secret in PERSONAL)
    assert body not in in_store
    assert hashlib.sha256(body).hexdigest().encode() not in raw
    assert hashlib.sha256(body).hexdigest() not in index_entries(store)
    assert b"Bearer secret" not in raw
    document = json.loads(raw)
    assert "body_base64" not in document and "body_sha256" not in document
    assert document["body_key_id"] == TEST_KEYRING.current
    assert store.body(store.get(letter.letter_id)) == body
    assert store.get(letter.letter_id).body == body
    database = store.store.database
    if isinstance(database, SqliteDatabase):  # the file and its write-ahead log, as on disk
        on_disk = b"".join(p.read_bytes() for p in database.path.parent.glob("returnflow.sqlite*"))
        assert all(secret.encode() not in on_disk for secret in PERSONAL)


def test_a_retried_body_is_counted_on_its_letter_and_the_index_needs_the_key(
    store: DeadLetterStore,
) -> None:
    body = b'{"type": "order.test_ping"}'
    first = keep(store, body)
    again = keep(store, body)
    other = keep(store, body, source="carrier:sandbox")
    names = index_entries(store)

    assert again.letter_id == first.letter_id
    assert store.get(first.letter_id).times_received == 2
    assert other.letter_id != first.letter_id
    # Under other keys, the same body names another index entry: the index confirms nothing
    # about a body to whoever lacks the key.
    elsewhere = DeadLetterStore(
        store.store, EncryptionCodec(Keyring.parse(OTHER_KEYS, source="test"))
    )
    assert keep(elsewhere, body).letter_id != first.letter_id
    added = index_entries(store) - names
    assert len(added) == 1 and not added & names


def test_a_letter_kept_before_bodies_were_sealed_is_read_found_and_sealed_when_touched(
    store: DeadLetterStore, product_store: Store, tmp_path: Path
) -> None:
    body = event_body()
    letter_id = write_legacy(tmp_path / "dead-letters", body)
    # Imported by a process without the payload keys: kept in clear until touched.
    DeadLetterStore(product_store, None).import_directory(tmp_path / "dead-letters")
    legacy_index = index_entries(store)

    old = store.get(letter_id)
    assert (old.sealed, old.body) == (False, body)
    # The sender retries: counted on the old letter, which is sealed on the way.
    again = keep(store, body)

    assert again.letter_id == letter_id and again.times_received == 2
    raw = stored(store, letter_id)
    assert all(secret.encode() not in readable(raw) for secret in PERSONAL)
    assert hashlib.sha256(body).hexdigest().encode() not in raw
    assert not index_entries(store) & legacy_index
    assert store.body(store.get(letter_id)) == body
    assert keep(store, body).times_received == 3


def test_seal_all_seals_old_letters_and_re_seals_under_the_current_key(
    product_store: Store, tmp_path: Path
) -> None:
    old_keys = EncryptionCodec(TEST_KEYRING)
    rotated = EncryptionCodec(TEST_KEYRING.with_current(NEXT_KEY_ID, base64.b64decode(NEXT_KEY)))
    before = DeadLetterStore(product_store, old_keys)
    body, legacy_body = b'{"n": 1}', event_body()
    sealed_before = keep(before, body)
    legacy_id = write_legacy(tmp_path / "dead-letters", legacy_body)
    before.import_directory(tmp_path / "dead-letters")

    after = DeadLetterStore(product_store, rotated)
    assert keep(after, body).letter_id == sealed_before.letter_id  # found under the old key
    changed, failed = after.seal_all()

    assert {letter.letter_id for letter in changed} == {sealed_before.letter_id, legacy_id}
    assert failed == []
    only_new = DeadLetterStore(
        product_store, EncryptionCodec(Keyring.parse(OTHER_KEYS, source="t"))
    )
    assert only_new.body(only_new.get(sealed_before.letter_id)) == body
    assert only_new.body(only_new.get(legacy_id)) == legacy_body
    assert keep(only_new, legacy_body).letter_id == legacy_id
    assert after.seal_all() == ([], [])


def test_a_body_under_a_key_this_process_lacks_is_an_error_naming_the_key(
    store: DeadLetterStore,
) -> None:
    letter = keep(store, event_body())
    stranger = DeadLetterStore(store.store, EncryptionCodec(Keyring.parse(OTHER_KEYS, source="t")))

    with pytest.raises(LetterKeyError, match=f"sealed under key '{TEST_KEYRING.current}'") as err:
        stranger.body(stranger.get(letter.letter_id))
    assert letter.letter_id in str(err.value) and "RETURNFLOW_PAYLOAD_KEYS" in str(err.value)
    changed, failed = stranger.seal_all()
    assert changed == [] and len(failed) == 1
    assert store.body(store.get(letter.letter_id))  # left as it was


def test_without_keys_letters_are_listed_but_never_opened_nor_kept(
    store: DeadLetterStore,
) -> None:
    letter = keep(store, event_body())
    keyless = DeadLetterStore(store.store, None)

    assert [listed.letter_id for listed in keyless.letters(LetterState.PENDING)] == [
        letter.letter_id
    ]
    with pytest.raises(LetterKeyError, match=TEST_KEYRING.current):
        keyless.body(keyless.get(letter.letter_id))
    with pytest.raises(LetterKeyError, match="RETURNFLOW_PAYLOAD_KEYS"):
        keep(keyless, b"{}")


def test_a_sealed_body_cannot_be_moved_to_another_letter_nor_altered(
    store: DeadLetterStore,
) -> None:
    first, second = keep(store, b'{"a": 1}'), keep(store, b'{"b": 2}')
    document = json.loads(stored(store, second.letter_id))
    document["body_sealed"] = first.body_sealed
    rewrite(store, second.letter_id, document)

    with pytest.raises(LetterKeyError, match="belongs to another letter"):
        store.body(store.get(second.letter_id))

    sealed = bytearray(base64.b64decode(document["body_sealed"]))
    sealed[-1] ^= 1
    document["body_sealed"] = base64.b64encode(bytes(sealed)).decode()
    rewrite(store, second.letter_id, document)
    with pytest.raises(LetterKeyError, match="failed authentication"):
        store.body(store.get(second.letter_id))


def test_a_replay_that_failed_never_puts_back_a_letter_another_replay_took(
    store: DeadLetterStore,
) -> None:
    """Two operators replay one letter at once: the first is accepted, the second finds Temporal
    out of reach. The letter stays replayed, with both attempts on record."""
    letter = keep(store, event_body())
    seen_by_bob = store.get(letter.letter_id)
    now = dt.datetime.now(dt.UTC)

    store.record_replay(
        letter, Replay(at=now, by="alice", outcome="accepted"), LetterState.REPLAYED
    )
    store.record_replay(
        seen_by_bob,
        Replay(at=now, by="bob", outcome="temporal_unavailable"),
        LetterState.PENDING,
    )

    kept = store.get(letter.letter_id)
    assert kept.state is LetterState.REPLAYED
    assert [(r.by, r.outcome) for r in kept.replays] == [
        ("alice", "accepted"),
        ("bob", "temporal_unavailable"),
    ]


def test_a_discard_never_hides_a_letter_another_operator_replayed_meanwhile(
    store: DeadLetterStore,
) -> None:
    """Bob reads a pending letter to discard it; Alice's replay goes through first. The letter
    stays replayed, the discard is recorded and said not to have happened."""
    letter = keep(store, event_body())
    seen_by_bob = store.get(letter.letter_id)
    now = dt.datetime.now(dt.UTC)
    store.record_replay(
        letter, Replay(at=now, by="alice", outcome="accepted"), LetterState.REPLAYED
    )

    discarded = store.discard(seen_by_bob, "bob", "a test ping")

    kept = store.get(letter.letter_id)
    assert discarded is False
    assert kept.state is LetterState.REPLAYED
    assert [(r.by, r.outcome) for r in kept.replays] == [
        ("alice", "accepted"),
        ("bob", "discarded"),
    ]


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("temporal_unavailable", "Temporal unreachable: nothing done, the letter stays pending"),
        ("carrier_unavailable", "the carrier unreachable: nothing done, the letter stays pending"),
    ],
)
def test_a_replay_answered_503_says_what_was_out_of_reach(
    store: DeadLetterStore, code: str, said: str
) -> None:
    letter = keep(store, event_body(), source="carrier:sandbox")
    outcome = unavailable(code, "try again")

    assert ReplayResult(letter, outcome).describe() == said


def test_a_source_with_a_nul_character_is_kept_as_any_other(store: DeadLetterStore) -> None:
    """A stranger's `POST /v1/carriers/%00ups/webhooks`: PostgreSQL's text refuses NUL."""
    letter = keep(store, b"{}", source="carrier:\x00ups")

    assert store.get(letter.letter_id).source == "carrier:\\x00ups"
    assert [kept.letter_id for kept in store.letters()] == [letter.letter_id]
