"""Dead letters as the tests look at them: the store's rows, and directories of letter files (one
JSON document each, with `unauthenticated/` and `index/`) as `import_directory` reads them."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from dead_letters.letters import DeadLetter
from dead_letters.sealing import index_names, seal_body
from dead_letters.store import DeadLetterStore
from plumbing.encryption import EncryptionCodec

LEGACY_ID = "dl-20250101T000000000000-0a0b0c0d"


def stored(letters: DeadLetterStore, letter_id: str) -> bytes:
    """The letter's document as the store holds it."""
    row = letters.store.database.fetch_one(
        "SELECT document FROM dead_letters WHERE letter_id = ?", (letter_id,)
    )
    assert row is not None, letter_id
    return str(row[0]).encode()


def rewrite(letters: DeadLetterStore, letter_id: str, document: dict[str, Any]) -> None:
    """Replace the letter's document in the store, as someone with the database's password
    could."""
    letters.store.database.execute(
        "UPDATE dead_letters SET document = ? WHERE letter_id = ?",
        (json.dumps(document), letter_id),
    )


def remove(letters: DeadLetterStore, letter_id: str) -> None:
    letters.store.database.execute("DELETE FROM dead_letters WHERE letter_id = ?", (letter_id,))


def index_entries(letters: DeadLetterStore) -> set[str]:
    """The names of the store's dedupe index."""
    rows = letters.store.database.fetch_all("SELECT name FROM dead_letter_index")
    return {row[0] for row in rows}


def write_legacy(
    directory: Path,
    body: bytes,
    letter_id: str = LEGACY_ID,
    **fields: Any,
) -> str:
    """A letter file as kept before bodies were sealed: the body in clear, a plain SHA-256 of
    it, and its index file named from that. Its ID."""
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
        **fields,
    }
    (directory / "index").mkdir(parents=True, exist_ok=True)
    (directory / f"{letter_id}.json").write_text(json.dumps(letter))
    index_name = hashlib.sha256(f"{letter['source']}\n{digest}".encode()).hexdigest()
    (directory / "index" / index_name).write_text(letter_id)
    return letter_id


def write_sealed(
    directory: Path,
    codec: EncryptionCodec,
    body: bytes,
    letter_id: str,
    *,
    authenticated: bool = True,
) -> str:
    """A letter file with its body sealed: an authenticated sender's with its index file, an
    unauthenticated one's under `unauthenticated/`. Its ID."""
    at = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    sealed, key_id = seal_body(codec, letter_id, "events", body)
    letter = DeadLetter(
        letter_id=letter_id,
        source="events",
        received_at=at,
        last_received_at=at,
        status_code=422 if authenticated else 401,
        reason="invalid_event" if authenticated else "bad_signature",
        authenticated=authenticated,
        body_size=len(body),
        body_sealed=sealed,
        body_key_id=key_id,
    )
    place = directory if authenticated else directory / "unauthenticated"
    place.mkdir(parents=True, exist_ok=True)
    (place / f"{letter_id}.json").write_text(json.dumps(json.loads(letter.document()), indent=2))
    if authenticated:
        (directory / "index").mkdir(exist_ok=True)
        (directory / "index" / index_names(codec, "events", body)[0]).write_text(letter_id)
    return letter_id
