"""Letters kept as files (one JSON document each, `unauthenticated/` and `index/` beside them)
are imported into the store once: found by ID and by body afterwards, the directory renamed
`*.imported`. Each test runs on the embedded SQLite file and on PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dead_letters.store import DeadLetter, DeadLetterStore, LetterState
from store import Store
from tests.dead_letters.files import write_legacy, write_sealed
from tests.keys import codec_for_tests

SEALED_ID = "dl-20250601T000000000000-01010101"
STRANGER_ID = "dl-20250601T000001000000-02020202"


def retried(store: DeadLetterStore, body: bytes) -> DeadLetter:
    return store.keep(
        source="events",
        body=body,
        headers={},
        status_code=422,
        reason="invalid_event",
        authenticated=True,
    )


@pytest.fixture
def store(product_store: Store) -> DeadLetterStore:
    return DeadLetterStore(product_store, codec_for_tests())


def test_letter_files_are_imported_once_and_found_by_id_and_by_body(
    store: DeadLetterStore, tmp_path: Path
) -> None:
    directory = tmp_path / "dead-letters"
    sealed_body, legacy_body, stranger_body = b'{"n": 1}', b'{"n": 2}', b'{"n": 3}'
    write_sealed(directory, codec_for_tests(), sealed_body, SEALED_ID)
    legacy_id = write_legacy(directory, legacy_body)
    write_sealed(directory, codec_for_tests(), stranger_body, STRANGER_ID, authenticated=False)
    (directory / "dl-20250601T000002000000-03030303.json").write_text("{not a letter")

    copied = store.import_directory(directory)

    assert copied == 3
    assert not directory.exists()
    kept_aside = tmp_path / "dead-letters.imported"
    assert (kept_aside / f"{SEALED_ID}.json").is_file(), "the files stay, set aside"
    assert [letter.letter_id for letter in store.letters()] == [legacy_id, SEALED_ID, STRANGER_ID]
    assert store.body(store.get(SEALED_ID)) == sealed_body
    legacy = store.get(legacy_id)
    assert legacy.sealed and legacy.body_base64 is None, "sealed as it is imported"
    assert store.body(legacy) == legacy_body
    stranger = store.get(STRANGER_ID)
    assert (stranger.authenticated, store.body(stranger)) == (False, stranger_body)
    assert store.unauthenticated_bytes() > 0
    # Found by body through the imported index: a sender retrying counts on its letter.
    assert retried(store, sealed_body).letter_id == SEALED_ID
    assert retried(store, legacy_body).letter_id == legacy_id
    assert store.get(SEALED_ID).times_received == 2
    assert store.import_directory(directory) is None


def test_an_import_keeps_what_the_store_holds_under_the_same_ids(
    store: DeadLetterStore, tmp_path: Path
) -> None:
    directory = tmp_path / "dead-letters"
    letter_id = write_legacy(directory, b'{"n": 1}')
    shutil.copytree(directory, tmp_path / "copy")
    store.import_directory(directory)
    store.discard(store.get(letter_id), "ops-alice", "seen")

    # The same letters again (the directory of a host that had a copy).
    (tmp_path / "copy").rename(directory)
    again = store.import_directory(directory)

    assert again == 1
    after = store.get(letter_id)
    assert (after.state, after.sealed) == (LetterState.DISCARDED, True)
    assert [letter.letter_id for letter in store.letters()] == [letter_id]
    assert (tmp_path / "dead-letters.imported").is_dir()
    assert (tmp_path / "dead-letters.imported-2").is_dir() and not directory.exists()
