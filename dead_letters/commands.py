"""`python starter.py dead-letters list|show|replay|discard|seal`: what the gateway refused, and
bringing it back once fixed.

Bodies are sealed with the payload keys (`dead_letters.store`): `show --body`, `replay`,
`discard` and `seal` need them (RETURNFLOW_PAYLOAD_KEYS or RETURNFLOW_PAYLOAD_KEY_FILE), `list`
and `show` without `--body` do not. A missing key is a configuration error (exit status 2)
naming the key."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from temporalio.client import Client

from activities.carriers.registry import CarrierRegistry
from dead_letters.replay import NotReplayable, replay
from dead_letters.store import DeadLetter, DeadLetterStore, LetterKeyError, LetterState
from gateway.auth import TokenBook
from gateway.guard import Samples
from gateway.http import Gateway
from plumbing import terminal
from plumbing.encryption import PayloadKeyError
from plumbing.settings import Settings
from plumbing.temporal import codec_from_settings
from store import StoreError, open_store


class DeadLetterCommandError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


REFUSED, BAD_INPUT = 1, 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    top = sub.add_parser(
        "dead-letters",
        help="what the gateway refused or could not process: list, show, replay, discard, seal",
        description="Payloads the gateways refused (bad signature, unknown type, invalid, too "
        "large) or could not deliver (unknown parcel), kept in the product's store "
        "(RETURNFLOW_STORE_URL).",
    )
    verbs = top.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", help="the letters waiting (or all with --all)")
    p.add_argument("--all", action="store_true", help="also those replayed or discarded")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p = verbs.add_parser("show", help="one letter: why it was refused, its headers and body")
    p.add_argument("letter_id", metavar="LETTER_ID")
    p.add_argument(
        "--body",
        action="store_true",
        help="print only the body (to read it: control characters shown escaped)",
    )
    p.add_argument(
        "--output",
        metavar="FILE",
        help="with --body: write the body to FILE as it came, byte for byte (to fix it)",
    )
    p = verbs.add_parser(
        "replay", help="process a letter again, as it came or with a corrected body"
    )
    p.add_argument("letter_ids", metavar="LETTER_ID", nargs="*")
    p.add_argument("--all-pending", action="store_true", help="every letter still waiting")
    p.add_argument(
        "--body", metavar="FILE", help="a corrected body (events whose signature was good only)"
    )
    p.add_argument("--by", default=None, help="who replays it (default: the login name)")
    p = verbs.add_parser("discard", help="drop a letter on purpose (kept on file, marked)")
    p.add_argument("letter_id", metavar="LETTER_ID")
    p.add_argument("--reason", required=True, help="why, kept in the letter")
    p.add_argument("--by", default=None, help="who discards it (default: the login name)")
    verbs.add_parser(
        "seal",
        help="seal the bodies still in clear (letters kept before bodies were encrypted) and "
        "re-seal those under an older key with the current one",
    )


@contextmanager
def _store(settings: Settings, *, keys: bool = True) -> Iterator[DeadLetterStore]:
    """The dead letters of the configured store, with the payload keys to seal and open bodies
    (or without, for what never opens a body); letters still kept as files under
    RETURNFLOW_DEAD_LETTER_DIR are copied into the store first, sealed, where the keys are
    configured."""
    codec = None
    if keys:
        try:
            codec = codec_from_settings(settings)
        except PayloadKeyError as err:
            raise DeadLetterCommandError(str(err), BAD_INPUT) from err
    try:
        # The gateways create the store; a command run where there is none creates nothing.
        store = open_store(settings, create=False)
    except StoreError as err:
        raise DeadLetterCommandError(str(err), BAD_INPUT) from err
    try:
        quota = settings.dead_letter_unauthenticated_quota_bytes
        letters = DeadLetterStore(store, codec, unauthenticated_quota_bytes=quota)
        # Files are copied with their bodies sealed, so with the keys though this command
        # opens no body; without them they are left to a gateway or a command that has them.
        sealing = codec
        if sealing is None:
            with contextlib.suppress(PayloadKeyError):
                sealing = codec_from_settings(settings)
        if sealing is not None:
            DeadLetterStore(store, sealing, unauthenticated_quota_bytes=quota).import_directory(
                settings.dead_letter_path
            )
        yield letters
    finally:
        store.close()


def _body(store: DeadLetterStore, letter: DeadLetter) -> bytes:
    try:
        return store.body(letter)
    except LetterKeyError as err:
        raise DeadLetterCommandError(str(err), BAD_INPUT) from err


def _letter(store: DeadLetterStore, letter_id: str) -> DeadLetter:
    try:
        return store.get(letter_id)
    except KeyError:
        raise DeadLetterCommandError(f"no dead letter {letter_id!r}", REFUSED) from None


def _line(letter: DeadLetter) -> str:
    first = letter.problems[0] if letter.problems else ""
    times = f" x{letter.times_received}" if letter.times_received > 1 else ""
    return terminal.line(
        f"{letter.letter_id}  {letter.state:<9} {letter.source:<16} "
        f"{letter.status_code} {letter.reason}{times}  {first}"
    )


def list_letters(args: argparse.Namespace, settings: Settings) -> int:
    with _store(settings, keys=False) as store:
        letters = list(store.letters(None if args.all else LetterState.PENDING))
        where = store.describe()
    for letter in letters:
        if args.json:
            hidden = {"body_sealed", "body_base64", "headers"}
            summary = letter.model_dump(mode="json", exclude=hidden)
            print(json.dumps(summary))
        else:
            print(_line(letter))
    if not args.json:
        what = "letters" if args.all else "letters pending"
        print(f"{len(letters)} {what} in {where}")
    return 0


def show_letter(args: argparse.Namespace, settings: Settings) -> int:
    if args.output and not args.body:
        raise DeadLetterCommandError(
            "--output goes with --body: the body is what it writes", BAD_INPUT
        )
    with _store(settings, keys=args.body) as store:
        letter = _letter(store, args.letter_id)
        if args.body:
            body = _body(store, letter)
            if args.output:
                try:
                    Path(args.output).write_bytes(body)
                except OSError as err:
                    raise DeadLetterCommandError(
                        f"{args.output}: {err.strerror}", BAD_INPUT
                    ) from err
                print(f"{len(body)} bytes written to {args.output}")
            else:
                print(terminal.block(body.decode("utf-8", "replace")))
            return 0
    print(_line(letter))
    print(f"  received {letter.received_at:%Y-%m-%d %H:%M:%S} UTC", end="")
    if letter.times_received > 1:
        print(f", {letter.times_received} times, last {letter.last_received_at:%H:%M:%S}", end="")
    print()
    print(f"  signature good when it came: {'yes' if letter.authenticated else 'no'}")
    for problem in letter.problems:
        print(f"  problem: {terminal.line(problem)}")
    for name, value in sorted(letter.headers.items()):
        print(f"  header {terminal.line(name)}: {terminal.line(value)}")
    size = f"{letter.body_size} bytes" + (" (truncated)" if letter.truncated else "")
    if letter.sealed:
        kept = f"sealed under key {letter.body_key_id}"
    else:
        kept = "in clear, kept before bodies were sealed; `dead-letters seal` seals it"
    print(f"  body ({size}, {kept}): `dead-letters show --body`")
    for attempt in letter.replays:
        edited = ", corrected body" if attempt.edited_body else ""
        said = terminal.line(f"{attempt.by}: {attempt.outcome}{edited}")
        print(f"  {attempt.at:%Y-%m-%d %H:%M} {said}")
        if attempt.detail:
            print(f"      {terminal.line(attempt.detail)}")
    return 0


def discard_letter(args: argparse.Namespace, settings: Settings) -> int:
    with _store(settings) as store:
        letter = _letter(store, args.letter_id)
        if letter.state is not LetterState.PENDING:
            raise DeadLetterCommandError(f"{letter.letter_id} is {letter.state} already", REFUSED)
        if not store.discard(letter, args.by or getpass.getuser(), args.reason):
            raise DeadLetterCommandError(
                f"{letter.letter_id} became {letter.state} meanwhile: not discarded", REFUSED
            )
    print(f"{letter.letter_id} discarded")
    return 0


def seal_letters(args: argparse.Namespace, settings: Settings) -> int:
    with _store(settings) as store:
        sealed, failed = store.seal_all()
        where = store.describe()
    for letter in sealed:
        print(f"{letter.letter_id}: sealed under key {letter.body_key_id}")
    print(f"{len(sealed)} letters sealed in {where}")
    if failed:
        raise DeadLetterCommandError("; ".join(str(err) for err in failed), BAD_INPUT)
    return 0


async def replay_letters(
    args: argparse.Namespace, connect: Callable[[], Awaitable[Client]], settings: Settings
) -> int:
    if args.all_pending == bool(args.letter_ids):
        raise DeadLetterCommandError("give LETTER_ID(s) or --all-pending", BAD_INPUT)
    with _store(settings) as store:
        return await _replay_letters(args, connect, settings, store)


async def _replay_letters(
    args: argparse.Namespace,
    connect: Callable[[], Awaitable[Client]],
    settings: Settings,
    store: DeadLetterStore,
) -> int:
    letters = (
        list(store.letters(LetterState.PENDING))
        if args.all_pending
        else [_letter(store, letter_id) for letter_id in args.letter_ids]
    )
    fixed: bytes | None = None
    if args.body:
        if len(letters) != 1:
            raise DeadLetterCommandError("--body corrects one letter at a time", BAD_INPUT)
        try:
            fixed = await asyncio.to_thread(Path(args.body).read_bytes)
        except OSError as err:
            raise DeadLetterCommandError(f"{args.body}: {err.strerror}", BAD_INPUT) from err
    # A body this process cannot open (a key it lacks) is said before anything is replayed.
    unopened = _unopened(store, letters) if fixed is None else {}
    letters = [letter for letter in letters if letter.letter_id not in unopened]
    if unopened and not letters:
        raise DeadLetterCommandError("; ".join(unopened.values()), BAD_INPUT)
    client = await connect()
    registry = CarrierRegistry.from_settings(settings, store.store)
    gateway = Gateway(client, settings, registry, store, TokenBook([]), Samples(settings))
    by = args.by or getpass.getuser()
    failed = 0
    try:
        for letter in letters:
            try:
                result = await replay(gateway, letter, by, fixed)
            except NotReplayable as err:
                print(f"{letter.letter_id}: {err}")
                failed += 1
                continue
            except LetterKeyError as err:
                unopened[letter.letter_id] = str(err)
                continue
            print(f"{letter.letter_id}: {result.describe()}")
            failed += 0 if result.accepted else 1
    finally:
        await registry.aclose()
    if unopened:
        raise DeadLetterCommandError("; ".join(unopened.values()), BAD_INPUT)
    return 0 if failed == 0 else REFUSED


def _unopened(store: DeadLetterStore, letters: list[DeadLetter]) -> dict[str, str]:
    """The pending letters whose body this process cannot open (a key it lacks), and why."""
    unopened: dict[str, str] = {}
    for letter in letters:
        if letter.state is not LetterState.PENDING:
            continue
        try:
            store.body(letter)
        except LetterKeyError as err:
            unopened[letter.letter_id] = str(err)
    return unopened


SYNC_VERBS = {
    "list": list_letters,
    "show": show_letter,
    "discard": discard_letter,
    "seal": seal_letters,
}
