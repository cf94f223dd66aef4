"""The dead-letter store: every payload the gateways refused or could not process, with why.

Letters live in the product's store (`store`): one row of `dead_letters` per letter, holding the
letter as a JSON document. On PostgreSQL every gateway of every host files its letters there and
lists them all; on the embedded SQLite file, the gateways of one host. A letter keeps the body
as it came, the headers needed to check its signature again, the HTTP answer given and the
reason, and every later replay. The same body refused again from the same source (a sender
retrying, to whichever gateway) is counted on the existing letter instead of filed twice.

Letters of unauthenticated senders (each gateway keeps a sample of them) are never looked up to
count a repeat, and stay within `unauthenticated_quota_bytes` (the size of their documents, all
gateways together): the oldest are removed to make room, never the one just kept. Letters of
authenticated senders are never removed.

Bodies hold customers' personal data, so they are kept **sealed** with the payload keys
(`dead_letters.sealing`, the keys every Temporal payload is encrypted with): `body_sealed` is
the encrypted payload (AES-256-GCM, the letter's ID and source inside it so a body cannot be
moved to another letter), `body_key_id` names its key. Only the store opens a body
(`DeadLetterStore.body`), with any key the process knows; a body under a key it lacks is a
`LetterKeyError` naming that key. Listing letters never opens a body (and needs no key).

The dedupe index (`dead_letter_index`) names each pending letter by an HMAC-SHA256 of its source
and body, keyed by a key derived from a payload key: without that key, the index confirms
nothing about a body. Letters kept before bodies were sealed (`body_base64`, in clear, and a
plain SHA-256 index name) are still read, found and replayed, and are sealed the next time they
are touched or by `DeadLetterStore.seal_all`.

A directory of letter files (`RETURNFLOW_DEAD_LETTER_DIR`, one JSON file per letter) is copied
into the store by `DeadLetterStore.import_directory`, then renamed `*.imported`.

`python starter.py dead-letters list|show|replay|discard|seal` reads and replays them; see
`dead_letters.replay`.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dead_letters import carry_over
from dead_letters.letters import KEPT_HEADERS, DeadLetter, LetterState, Replay
from dead_letters.sealing import (
    LetterKeyError,
    index_names,
    legacy_index_name,
    open_body,
    seal_body,
)
from plumbing.encryption import EncryptionCodec
from store import Dialect, Session, Store
from store.database import as_timestamp
from store.imported import set_aside

__all__ = [
    "KEPT_HEADERS",
    "DeadLetter",
    "DeadLetterStore",
    "LetterKeyError",
    "LetterState",
    "Replay",
]

logger = logging.getLogger(__name__)

EVICTION_LOCK = 7_204_811_023
"""PostgreSQL's advisory lock a gateway holds while it evicts strangers' letters (one of ours,
beside `store.migrations.LOCK_ID`)."""


class DeadLetterStore:
    """The letters of the product's store, shared by every gateway and operator using it.

    `codec` seals new bodies (with its current key) and opens sealed ones (with any of its
    keys). `None` gives a store that can only list letters and read what is around the body
    (`dead-letters list`): keeping a letter or opening a body then fails with a
    `LetterKeyError`.
    """

    def __init__(
        self,
        store: Store,
        codec: EncryptionCodec | None,
        *,
        unauthenticated_quota_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.store = store
        self.codec = codec
        self.unauthenticated_quota_bytes = unauthenticated_quota_bytes
        self._db = store.database
        postgres = self._db.dialect is Dialect.POSTGRESQL
        # SQLite's transactions take the write lock when they begin: rows need no lock of theirs.
        self._for_update = " FOR UPDATE" if postgres else ""

    def describe(self) -> str:
        """Where the letters are, never with a password."""
        return self.store.describe()

    def keep(
        self,
        *,
        source: str,
        body: bytes,
        headers: Mapping[str, str],
        status_code: int,
        reason: str,
        problems: list[str] | None = None,
        authenticated: bool,
        truncated: bool = False,
        now: dt.datetime | None = None,
    ) -> DeadLetter:
        """File a refused payload (or count it again on its pending letter); its letter."""
        codec = self._codec()
        # The source names what the path named (a stranger's `/v1/carriers/%00x/webhooks`):
        # PostgreSQL's text refuses the NUL character, which is kept written out.
        source = source.replace("\x00", "\\x00")
        at = now or dt.datetime.now(dt.UTC)
        letter_id = f"dl-{at:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
        sealed, key_id = seal_body(codec, letter_id, source, body)
        letter = self._bound(
            DeadLetter(
                letter_id=letter_id,
                source=source,
                received_at=at,
                last_received_at=at,
                status_code=status_code,
                reason=reason,
                problems=problems or [],
                authenticated=authenticated,
                headers={k: v for k, v in headers.items() if k.lower() in KEPT_HEADERS},
                body_size=len(body),
                body_sealed=sealed,
                body_key_id=key_id,
                truncated=truncated,
            )
        )
        if not authenticated:
            # A stranger varies a body for free: their letters are not looked up, only bounded.
            with self._db.transaction() as session:
                self._insert(session, letter)
            self._evict_for(letter)
            return letter
        names = index_names(codec, source, body)
        with self._db.transaction() as session:
            earlier = self._pending(session, names)
            if earlier is None:
                self._insert(session, letter)
                claimed = session.execute(
                    "INSERT INTO dead_letter_index (name, letter_id) VALUES (?, ?)"
                    " ON CONFLICT (name) DO NOTHING",
                    (names[0], letter_id),
                )
                if claimed:
                    return letter
                # The name is taken: by a letter no longer pending, or by the one another
                # gateway filed for the same body a moment ago (waited for, then seen here).
                earlier = self._pending(session, names[:1], lock_index=True)
                if earlier is None:
                    session.execute(
                        "UPDATE dead_letter_index SET letter_id = ? WHERE name = ?",
                        (letter_id, names[0]),
                    )
                    return letter
                session.execute("DELETE FROM dead_letters WHERE letter_id = ?", (letter_id,))
            earlier.times_received += 1
            earlier.last_received_at = at
            earlier.status_code, earlier.reason = status_code, reason
            earlier.problems = problems or []
            earlier.authenticated = earlier.authenticated or authenticated
            self._save(session, earlier)
            return earlier

    def unauthenticated_bytes(self) -> int:
        """The size the letters of unauthenticated senders take (their documents')."""
        row = self._db.fetch_one(
            "SELECT COALESCE(SUM(size), 0) FROM dead_letters WHERE authenticated = ?", (False,)
        )
        return int(row[0]) if row else 0

    def body(self, letter: DeadLetter) -> bytes:
        """The letter's body as it came: opened with the key it names (a `LetterKeyError` naming
        that key if this process lacks it), or read as it is from a letter kept before bodies
        were sealed."""
        if letter.body_base64 is not None:
            return base64.b64decode(letter.body_base64)
        if self.codec is None:
            raise LetterKeyError(
                f"{letter.letter_id}: its body is sealed under key {letter.body_key_id!r} and no "
                "payload key is configured: set RETURNFLOW_PAYLOAD_KEYS or "
                "RETURNFLOW_PAYLOAD_KEY_FILE"
            )
        assert letter.body_sealed is not None
        return open_body(self.codec, letter.letter_id, letter.source, letter.body_sealed)

    def letters(self, state: LetterState | None = None) -> Iterator[DeadLetter]:
        """Every letter (or those in `state`), oldest first. No body is opened."""
        if state is None:
            rows = self._db.fetch_all("SELECT document FROM dead_letters ORDER BY letter_id")
        else:
            rows = self._db.fetch_all(
                "SELECT document FROM dead_letters WHERE state = ? ORDER BY letter_id",
                (state.value,),
            )
        for (document,) in rows:
            yield self._letter(document)

    def get(self, letter_id: str) -> DeadLetter:
        row = self._db.fetch_one(
            "SELECT document FROM dead_letters WHERE letter_id = ?", (letter_id,)
        )
        if row is None:
            raise KeyError(letter_id)
        return self._letter(row[0])

    def record_replay(self, letter: DeadLetter, replay: Replay, state: LetterState) -> None:
        """Add `replay` to the letter and put it in `state` (sealing its body if it is still in
        clear); `letter` is brought up to date with the store's copy. A letter another replay
        or a discard took out of `pending` meanwhile is never put back in it: the attempt is
        recorded, its state kept; nor is a discard applied to a letter no longer pending (a
        replay that went through meanwhile stays the letter's state)."""

        def replayed(stored: DeadLetter) -> None:
            stored.replays.append(replay)
            only_if_pending = state in (LetterState.PENDING, LetterState.DISCARDED)
            if not only_if_pending or stored.state is LetterState.PENDING:
                stored.state = state

        try:
            stored = self._change(letter.letter_id, replayed)
        except KeyError:  # a stranger's, evicted meanwhile: filed again, with its replay
            replayed(letter)
            with self._db.transaction() as session:
                self._insert(session, letter, keep_existing=True)
            return
        self._refresh(letter, stored)

    def discard(self, letter: DeadLetter, by: str, why: str) -> bool:
        """Drop a pending letter on purpose; it stays on file, marked, with who and why. False
        when it was no longer pending (replayed meanwhile): the attempt is recorded, the letter
        keeps its state."""
        replay = Replay(at=dt.datetime.now(dt.UTC), by=by, outcome="discarded", detail=why)
        self.record_replay(letter, replay, LetterState.DISCARDED)
        return letter.state is LetterState.DISCARDED

    def seal_all(self) -> tuple[list[DeadLetter], list[LetterKeyError]]:
        """Seal every letter still in clear (kept before bodies were sealed) and re-seal those
        under another key than the current one (after a rotation, so the old key can be
        retired): the letters changed, and why others could not be (a key this process
        lacks)."""
        current = self._codec().keyring.current
        changed: list[DeadLetter] = []
        failed: list[LetterKeyError] = []
        for letter in self.letters():
            if letter.body_key_id == current:
                continue
            try:
                changed.append(self._change(letter.letter_id, None, reseal=True))
            except LetterKeyError as err:
                failed.append(err)
            except KeyError:  # removed meanwhile (a stranger's, evicted)
                continue
        return changed, failed

    def import_directory(self, directory: Path) -> int | None:
        """Copy the letter files of `directory` (and its `unauthenticated/` ones and `index/`
        names) into the store, keeping what the store already holds under the same IDs and
        names, sealing the bodies still in clear (with the keys), then rename the directory
        `*.imported`: how many letters it held, or None when there is no such directory.
        Unreadable files are logged and left in it."""
        found = carry_over.read(directory)
        if found is None:
            return None
        letters, unreadable = [], []
        for path, document in found.documents:
            try:
                letters.append(DeadLetter.model_validate_json(document))
            except ValidationError:
                unreadable.append(str(path))
        with self._db.transaction() as session:
            for letter in letters:
                self._insert(session, letter, keep_existing=True)
            for name, letter_id in found.index:
                session.execute(
                    "INSERT INTO dead_letter_index (name, letter_id) VALUES (?, ?)"
                    " ON CONFLICT (name) DO NOTHING",
                    (name, letter_id),
                )
        if self.codec is not None:
            # Letters kept before bodies were sealed are sealed now, not when next touched:
            # the store (and its backups) holds no body in clear.
            for letter in letters:
                if letter.body_base64 is not None:
                    with contextlib.suppress(KeyError, LetterKeyError):
                        self._change(letter.letter_id, None)
        renamed = set_aside(directory)
        logger.warning(
            "dead letters imported into the store",
            extra={
                "letters": len(letters),
                "unreadable": unreadable,
                "directory": str(renamed or directory),
                "store": self.describe(),
            },
        )
        return len(letters)

    # --- rows --------------------------------------------------------------------------------

    def _codec(self) -> EncryptionCodec:
        if self.codec is None:
            raise LetterKeyError(
                "the dead-letter store needs the payload keys to seal bodies: set "
                "RETURNFLOW_PAYLOAD_KEYS or RETURNFLOW_PAYLOAD_KEY_FILE"
            )
        return self.codec

    def _bound(self, letter: DeadLetter) -> DeadLetter:
        letter._store = self
        return letter

    def _letter(self, document: str) -> DeadLetter:
        return self._bound(DeadLetter.model_validate_json(document))

    def _read(
        self, session: Session, letter_id: str, *, pending: bool = False
    ) -> DeadLetter | None:
        """The letter `letter_id` (only if pending, with `pending`), locked until the end of
        the transaction."""
        sql = "SELECT document FROM dead_letters WHERE letter_id = ?"
        args: tuple[Any, ...] = (letter_id,)
        if pending:
            sql, args = f"{sql} AND state = ?", (*args, LetterState.PENDING.value)
        row = session.fetch_one(sql + self._for_update, args)
        return self._letter(row[0]) if row is not None else None

    def _pending(
        self, session: Session, names: list[str], *, lock_index: bool = False
    ) -> DeadLetter | None:
        """The pending letter the first of `names` that has one names, locked."""
        marks = ", ".join("?" * len(names))
        lock = self._for_update if lock_index else ""
        rows = session.fetch_all(
            f"SELECT name, letter_id FROM dead_letter_index WHERE name IN ({marks}){lock}",  # noqa: S608 (placeholders)
            names,
        )
        named: dict[str, str] = dict(rows)
        for name in names:
            if name in named:
                letter = self._read(session, named[name], pending=True)
                if letter is not None:
                    return letter
        return None

    def _insert(self, session: Session, letter: DeadLetter, *, keep_existing: bool = False) -> None:
        document = letter.document()
        session.execute(
            "INSERT INTO dead_letters"  # noqa: S608 (no value in the text)
            " (letter_id, source, state, authenticated, received_at, size, document)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            + (" ON CONFLICT (letter_id) DO NOTHING" if keep_existing else ""),
            (
                letter.letter_id,
                letter.source,
                letter.state.value,
                letter.authenticated,
                as_timestamp(self._db.dialect, letter.received_at),
                len(document.encode()),
                document,
            ),
        )

    def _change(
        self,
        letter_id: str,
        change: Callable[[DeadLetter], None] | None,
        *,
        reseal: bool = False,
    ) -> DeadLetter:
        """Apply `change` to the store's copy of the letter, in one transaction: the letter as
        saved (a `KeyError` if there is none)."""
        with self._db.transaction() as session:
            letter = self._read(session, letter_id)
            if letter is None:
                raise KeyError(letter_id)
            if change is not None:
                change(letter)
            self._save(session, letter, reseal=reseal)
            return letter

    def _save(self, session: Session, letter: DeadLetter, *, reseal: bool = False) -> None:
        """Write `letter` back, sealing its body first if it is still in clear (or, with
        `reseal`, under another key than the current one) and the store has the keys."""
        clear = letter.body_base64 is not None
        codec = self.codec
        if codec is not None and (
            clear or (reseal and letter.body_key_id != codec.keyring.current)
        ):
            body = self.body(letter)
            legacy = letter.body_sha256
            letter.body_sealed, letter.body_key_id = seal_body(
                codec, letter.letter_id, letter.source, body
            )
            letter.body_base64 = letter.body_sha256 = None
            if letter.state is LetterState.PENDING:
                session.execute(
                    "INSERT INTO dead_letter_index (name, letter_id) VALUES (?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET letter_id = excluded.letter_id",
                    (index_names(codec, letter.source, body)[0], letter.letter_id),
                )
            if legacy is not None:
                session.execute(
                    "DELETE FROM dead_letter_index WHERE name = ? AND letter_id = ?",
                    (legacy_index_name(letter.source, legacy), letter.letter_id),
                )
        document = letter.document()
        session.execute(
            "UPDATE dead_letters SET state = ?, authenticated = ?, size = ?, document = ?"
            " WHERE letter_id = ?",
            (
                letter.state.value,
                letter.authenticated,
                len(document.encode()),
                document,
                letter.letter_id,
            ),
        )

    def _evict_for(self, kept: DeadLetter) -> None:
        """Remove the oldest unauthenticated letters until they fit their quota again (never
        the one just kept)."""
        room = self.unauthenticated_quota_bytes - len(kept.document().encode())
        with self._db.transaction() as session:
            if self._db.dialect is Dialect.POSTGRESQL:
                # One gateway evicts at a time, each seeing the letters the others kept.
                session.execute("SELECT pg_advisory_xact_lock(?)", (EVICTION_LOCK,))
            # Each letter with the size of those newer than it: beyond the room left, it goes.
            session.execute(
                "DELETE FROM dead_letters WHERE letter_id IN ("
                " SELECT letter_id FROM ("
                "  SELECT letter_id, SUM(size) OVER"
                "   (ORDER BY letter_id DESC ROWS UNBOUNDED PRECEDING) AS newer"
                "  FROM dead_letters WHERE authenticated = ? AND letter_id <> ?"
                " ) AS ranked WHERE newer > ?)",
                (False, kept.letter_id, room),
            )

    @staticmethod
    def _refresh(letter: DeadLetter, stored: DeadLetter) -> None:
        for name in DeadLetter.model_fields:
            setattr(letter, name, getattr(stored, name))
