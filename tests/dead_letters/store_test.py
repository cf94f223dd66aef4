"""Dead letters keep their bodies sealed with the payload keys: nothing personal on disk in clear,
no plain digest of a body anywhere, old letters (kept in clear) still read, found and sealed."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from dead_letters.store import DeadLetter, DeadLetterStore, LetterKeyError, LetterState
from plumbing.encryption import EncryptionCodec, Keyring
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
    """A file's bytes, and every string in it decoded from base64 where it is base64: what
    anyone reading the file learns without a key."""
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


def write_legacy(
    store: DeadLetterStore, body: bytes, letter_id: str = "dl-20250101T000000-0a0b0c0d"
) -> Path:
    """A letter as the store wrote it before bodies were sealed: the body in clear, a plain
    SHA-256 of it, and its index named from that."""
    digest = hashlib.sha256(body).hexdigest()
    letter = {
        "letter_id": letter_id,
        "source": "events",
        "received_at": "2025-01-01T00:00:00Z",
        "last_received_at": "2025-01-01T00:00:00Z",
        "times_received": 1,
        "status_code": 422,
        "reason": "invalid_event",
        "problems": [],
        "authenticated": True,
        "headers": {},
        "body_sha256": digest,
        "body_size": len(body),
        "body_base64": base64.b64encode(body).decode(),
        "truncated": False,
        "state": "pending",
        "replays": [],
    }
    (store.directory / "index").mkdir(parents=True, exist_ok=True)
    path = store.directory / f"{letter_id}.json"
    path.write_text(json.dumps(letter))
    index_name = hashlib.sha256(f"events\n{digest}".encode()).hexdigest()
    (store.directory / "index" / index_name).write_text(letter_id)
    return path


@pytest.fixture
def store(tmp_path: Path) -> DeadLetterStore:
    return DeadLetterStore(tmp_path / "dead-letters", codec_for_tests())


def test_a_letter_on_disk_holds_nothing_personal_and_no_digest_of_its_body(
    store: DeadLetterStore,
) -> None:
    body = event_body()
    letter = keep(store, body)

    raw = (store.directory / f"{letter.letter_id}.json").read_bytes()
    on_disk = readable(raw)
    index = list((store.directory / "index").iterdir())
    assert all(secret.encode() not in on_disk for secret in PERSONAL)
    assert body not in on_disk
    assert hashlib.sha256(body).hexdigest().encode() not in raw
    assert hashlib.sha256(body).hexdigest() not in {path.name for path in index}
    assert b"Bearer secret" not in raw
    stored = json.loads(raw)
    assert "body_base64" not in stored and "body_sha256" not in stored
    assert stored["body_key_id"] == TEST_KEYRING.current
    assert (store.directory / f"{letter.letter_id}.json").stat().st_mode & 0o777 == 0o600
    assert store.body(store.get(letter.letter_id)) == body
    assert store.get(letter.letter_id).body == body


def test_a_retried_body_is_counted_on_its_letter_and_the_index_needs_the_key(
    store: DeadLetterStore, tmp_path: Path
) -> None:
    body = b'{"type": "order.test_ping"}'
    first = keep(store, body)
    again = keep(store, body)
    other = keep(store, body, source="carrier:sandbox")

    assert again.letter_id == first.letter_id
    assert store.get(first.letter_id).times_received == 2
    assert other.letter_id != first.letter_id
    # Under other keys, the same body names another index entry: the index confirms nothing
    # about a body to whoever lacks the key.
    elsewhere = DeadLetterStore(
        tmp_path / "elsewhere", EncryptionCodec(Keyring.parse(OTHER_KEYS, source="test"))
    )
    keep(elsewhere, body)
    names = {p.name for p in (store.directory / "index").iterdir()}
    assert not names & {p.name for p in (elsewhere.directory / "index").iterdir()}


def test_a_letter_kept_before_bodies_were_sealed_is_read_found_and_sealed_when_touched(
    store: DeadLetterStore,
) -> None:
    body = event_body()
    path = write_legacy(store, body)
    legacy_index = {p.name for p in (store.directory / "index").iterdir()}

    old = store.get(path.stem)
    assert (old.sealed, old.body) == (False, body)
    # The sender retries: counted on the old letter, which is sealed on the way.
    again = keep(store, body)

    assert again.letter_id == path.stem and again.times_received == 2
    on_disk = readable(path.read_bytes())
    assert all(secret.encode() not in on_disk for secret in PERSONAL)
    assert hashlib.sha256(body).hexdigest().encode() not in path.read_bytes()
    names = {p.name for p in (store.directory / "index").iterdir()}
    assert not names & legacy_index
    assert store.body(store.get(path.stem)) == body
    assert keep(store, body).times_received == 3


def test_seal_all_seals_old_letters_and_re_seals_under_the_current_key(tmp_path: Path) -> None:
    old_keys = EncryptionCodec(TEST_KEYRING)
    rotated = EncryptionCodec(TEST_KEYRING.with_current(NEXT_KEY_ID, base64.b64decode(NEXT_KEY)))
    before = DeadLetterStore(tmp_path, old_keys)
    body, legacy_body = b'{"n": 1}', event_body()
    sealed_before = keep(before, body)
    legacy = write_legacy(before, legacy_body)

    after = DeadLetterStore(tmp_path, rotated)
    assert keep(after, body).letter_id == sealed_before.letter_id  # found under the old key
    changed, failed = after.seal_all()

    assert {letter.letter_id for letter in changed} == {sealed_before.letter_id, legacy.stem}
    assert failed == []
    only_new = DeadLetterStore(tmp_path, EncryptionCodec(Keyring.parse(OTHER_KEYS, source="t")))
    assert only_new.body(only_new.get(sealed_before.letter_id)) == body
    assert only_new.body(only_new.get(legacy.stem)) == legacy_body
    assert keep(only_new, legacy_body).letter_id == legacy.stem
    assert after.seal_all() == ([], [])


def test_a_body_under_a_key_this_process_lacks_is_an_error_naming_the_key(
    store: DeadLetterStore,
) -> None:
    letter = keep(store, event_body())
    stranger = DeadLetterStore(
        store.directory, EncryptionCodec(Keyring.parse(OTHER_KEYS, source="t"))
    )

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
    keyless = DeadLetterStore(store.directory, None)

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
    path = store.directory / f"{second.letter_id}.json"
    stored = json.loads(path.read_text())
    stored["body_sealed"] = first.body_sealed
    path.write_text(json.dumps(stored))

    with pytest.raises(LetterKeyError, match="belongs to another letter"):
        store.body(store.get(second.letter_id))

    sealed = bytearray(base64.b64decode(stored["body_sealed"]))
    sealed[-1] ^= 1
    stored["body_sealed"] = base64.b64encode(bytes(sealed)).decode()
    path.write_text(json.dumps(stored))
    with pytest.raises(LetterKeyError, match="failed authentication"):
        store.body(store.get(second.letter_id))
