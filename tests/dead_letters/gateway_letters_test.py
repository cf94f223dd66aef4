"""Operations bring refused payloads back with `starter.py dead-letters`, once fixed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from dead_letters.store import DeadLetterStore, LetterState
from domain.events import RetractEvent
from domain.ids import return_id
from domain.returns import ReturnStage
from plumbing.encryption import EncryptionCodec, Keyring
from plumbing.settings import Settings
from starter import run
from store import open_store
from tests.dead_letters.files import remove, stored, write_legacy
from tests.factories import CUSTOMER_EMAIL, CUSTOMER_NAME, CUSTOMER_STREET, retract_event
from tests.gateway.door import EVENT_SECRET, event_body, gateway_settings, open_door
from tests.keys import NEXT_KEY, NEXT_KEY_ID, TEST_KEYRING, TEST_KEYS, codec_for_tests
from tests.workflows.harness import ReturnHarness, return_harness
from workflows.return_workflow import ReturnWorkflow


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[ReturnHarness]:
    async with return_harness(time_skipping_env.client) as harness:
        yield harness


@contextmanager
def letters_of(var_dir: Path, codec: EncryptionCodec) -> Iterator[DeadLetterStore]:
    """The dead letters of the store the gateway and the commands open under `var_dir`."""
    store = open_store(Settings(var_dir=var_dir))
    try:
        yield DeadLetterStore(store, codec)
    finally:
        store.close()


@pytest.fixture
def operator_env(
    harness: ReturnHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DeadLetterStore]:
    """The operator's shell: the same Temporal, task queue, var dir (and so store) and secret as
    the gateway."""
    target = harness.client.service_client.config.target_host
    monkeypatch.setenv("TEMPORAL_ADDRESS", target)
    monkeypatch.setenv("RETURNFLOW_TASK_QUEUE", harness.settings.task_queue)
    monkeypatch.setenv("RETURNFLOW_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RETURNFLOW_GATEWAY_EVENT_SECRETS", EVENT_SECRET)
    monkeypatch.setenv("RETURNFLOW_PAYLOAD_KEYS", TEST_KEYS)
    with letters_of(tmp_path, codec_for_tests()) as letters:
        yield letters


async def reached_choice(harness: ReturnHarness, order_id: str) -> ReturnStage:
    handle = harness.client.get_workflow_handle_for(ReturnWorkflow.run, return_id(order_id, "1"))
    status = await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    return status.stage


async def refused_for_a_wrong_secret(
    harness: ReturnHarness, tmp_path: Path, event: RetractEvent
) -> str:
    """The gateway, misconfigured with an old secret, refuses the event: its letter's ID."""
    misconfigured = gateway_settings(
        harness.settings.task_queue, tmp_path, gateway_event_secrets=SecretStr("an-old-secret")
    )
    async with open_door(harness.client, misconfigured) as door:
        refused = await door.send_event(event_body(event))
    assert refused.status_code == 401
    letter_id: str = refused.json()["dead_letter_id"]
    return letter_id


async def test_an_event_refused_for_a_wrong_secret_comes_back_once_the_secret_is_fixed(
    harness: ReturnHarness,
    tmp_path: Path,
    operator_env: DeadLetterStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = retract_event()
    letter_id = await refused_for_a_wrong_secret(harness, tmp_path, event)

    listed = await run(["dead-letters", "list"])
    listing = capsys.readouterr().out
    replayed = await run(["dead-letters", "replay", letter_id, "--by", "ops-alice"])
    said = capsys.readouterr().out

    assert listed == 0 and letter_id in listing and "bad_signature" in listing
    assert replayed == 0 and "accepted" in said
    assert (
        await reached_choice(harness, event.order.order_id) is ReturnStage.AWAITING_CUSTOMER_CHOICE
    )
    letter = operator_env.get(letter_id)
    assert letter.state is LetterState.REPLAYED
    assert (letter.replays[-1].by, letter.replays[-1].outcome) == ("ops-alice", "accepted")


async def test_an_invalid_event_is_replayed_with_its_corrected_body(
    harness: ReturnHarness,
    tmp_path: Path,
    operator_env: DeadLetterStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = retract_event()
    raw = json.loads(event_body(event))
    raw["order"]["line_id"] = ""
    settings = gateway_settings(harness.settings.task_queue, tmp_path)
    async with open_door(harness.client, settings) as door:
        refused = await door.send_event(json.dumps(raw).encode())
    letter_id = refused.json()["dead_letter_id"]
    in_store = stored(operator_env, letter_id)

    as_it_came = await run(["dead-letters", "replay", letter_id])
    refused_again = capsys.readouterr().out
    shown = await run(["dead-letters", "show", letter_id, "--body"])
    body = capsys.readouterr().out
    fixed = tmp_path / "fixed.json"
    fixed.write_text(
        body.replace('"line_id": ""', '"line_id": "1"').replace('"line_id":""', '"line_id":"1"')
    )
    corrected = await run(["dead-letters", "replay", letter_id, "--body", str(fixed)])

    assert refused.status_code == 422
    for personal in (CUSTOMER_NAME, CUSTOMER_EMAIL, CUSTOMER_STREET):
        assert personal.encode() not in in_store
    assert b"body_base64" not in in_store and json.loads(in_store)["body_sealed"]
    assert as_it_came == 1 and "order.line_id" in refused_again
    assert shown == 0 and json.loads(body) == raw
    assert corrected == 0
    assert (
        await reached_choice(harness, event.order.order_id) is ReturnStage.AWAITING_CUSTOMER_CHOICE
    )
    replays = operator_env.get(letter_id).replays
    assert [r.outcome for r in replays] == ["invalid_event", "accepted"]
    assert replays[-1].edited_body


async def test_a_forged_event_cannot_be_smuggled_in_with_a_corrected_body(
    harness: ReturnHarness,
    tmp_path: Path,
    operator_env: DeadLetterStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = retract_event()
    settings = gateway_settings(harness.settings.task_queue, tmp_path)
    async with open_door(harness.client, settings) as door:
        forged = await door.send_event(event_body(event), secret="a-forgers-guess")
    letter_id = forged.json()["dead_letter_id"]
    body = tmp_path / "same.json"
    body.write_bytes(event_body(event))

    with_body = await run(["dead-letters", "replay", letter_id, "--body", str(body)])
    as_it_came = await run(["dead-letters", "replay", letter_id])
    said = capsys.readouterr().out

    assert (with_body, as_it_came) == (1, 1)
    assert "only an event whose signature was good" in said
    assert "bad_signature" in said
    assert operator_env.get(letter_id).state is LetterState.PENDING
    assert not [w async for w in harness.client.list_workflows(f'OrderId="{event.order.order_id}"')]


async def test_a_letter_is_discarded_with_who_and_why(
    harness: ReturnHarness, tmp_path: Path, operator_env: DeadLetterStore
) -> None:
    settings = gateway_settings(harness.settings.task_queue, tmp_path)
    async with open_door(harness.client, settings) as door:
        answer = await door.send_event(b'{"type": "order.test_ping"}')
    letter_id = answer.json()["dead_letter_id"]

    code = await run(
        ["dead-letters", "discard", letter_id, "--reason", "a ping from a test", "--by", "bob"]
    )
    pending = list(operator_env.letters(LetterState.PENDING))

    assert code == 0 and pending == []
    last = operator_env.get(letter_id).replays[-1]
    assert (last.by, last.outcome, last.detail) == ("bob", "discarded", "a ping from a test")


async def test_what_a_sender_or_operator_wrote_reaches_the_terminal_escaped(
    harness: ReturnHarness,
    tmp_path: Path,
    operator_env: DeadLetterStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = gateway_settings(harness.settings.task_queue, tmp_path)
    hostile = '{"type": "order.test_ping", "note": "\x1b]0;owned\x07\u202eevil"}'.encode()
    async with open_door(harness.client, settings) as door:
        answer = await door.send_event(hostile)
    letter_id = answer.json()["dead_letter_id"]
    await run(["dead-letters", "discard", letter_id, "--reason", "paste\x1b[31m", "--by", "bob"])
    capsys.readouterr()

    assert await run(["dead-letters", "show", letter_id, "--body"]) == 0
    body = capsys.readouterr().out
    assert await run(["dead-letters", "show", letter_id]) == 0
    shown = capsys.readouterr().out

    assert "\x1b" not in body + shown and "\u202e" not in body + shown and "\x07" not in body
    assert '"note": "\\x1b]0;owned\\x07\\u202eevil"' in body
    assert "bob: discarded" in shown and "paste\\x1b[31m" in shown


async def test_a_body_is_written_to_a_file_byte_for_byte_to_be_fixed(
    harness: ReturnHarness,
    tmp_path: Path,
    operator_env: DeadLetterStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A sender's body with Windows line ends and a byte that is not UTF-8 comes back as it
    came, not as the terminal is shown it."""
    raw = b'{\r\n  "type": "order.test_ping",\r\n  "note": "caf\xe9"\r\n}'
    settings = gateway_settings(harness.settings.task_queue, tmp_path)
    async with open_door(harness.client, settings) as door:
        answer = await door.send_event(raw)
    letter_id = answer.json()["dead_letter_id"]
    written = tmp_path / "fixed.json"

    code = await run(["dead-letters", "show", letter_id, "--body", "--output", str(written)])
    said = capsys.readouterr().out

    assert code == 0
    assert written.read_bytes() == raw
    assert said == f"{len(raw)} bytes written to {written}\n"


async def test_a_letter_kept_in_clear_before_bodies_were_sealed_still_replays_and_is_sealed(
    harness: ReturnHarness,
    tmp_path: Path,
    operator_env: DeadLetterStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = retract_event()
    letter_id = await refused_for_a_wrong_secret(harness, tmp_path, event)
    # The letter as a file kept before bodies were sealed (the body in clear, a plain SHA-256),
    # not yet in the store: the commands import it.
    came = operator_env.get(letter_id).model_dump(
        mode="json", include={"received_at", "last_received_at", "status_code", "reason", "headers"}
    )
    remove(operator_env, letter_id)
    write_legacy(tmp_path / "dead-letters", event_body(event), letter_id, **came)

    shown = await run(["dead-letters", "show", letter_id])
    said = capsys.readouterr().out
    replayed = await run(["dead-letters", "replay", letter_id])
    replay_said = capsys.readouterr().out

    assert shown == 0 and "sealed under key" in said, "sealed as the command imports it"
    assert replayed == 0 and "accepted" in replay_said
    assert (
        await reached_choice(harness, event.order.order_id) is ReturnStage.AWAITING_CUSTOMER_CHOICE
    )
    after = stored(operator_env, letter_id)
    assert CUSTOMER_EMAIL.encode() not in after and b"body_base64" not in after
    assert (tmp_path / "dead-letters.imported" / f"{letter_id}.json").is_file()
    assert operator_env.get(letter_id).state is LetterState.REPLAYED
    assert operator_env.body(operator_env.get(letter_id)) == event_body(event)


async def test_a_letter_under_a_key_the_operator_lacks_is_a_clear_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    other = EncryptionCodec(Keyring.parse(f"{NEXT_KEY_ID}={NEXT_KEY}", source="test"))
    with letters_of(tmp_path, other) as letters:
        letter = letters.keep(
            source="events",
            body=event_body(retract_event()),
            headers={},
            status_code=401,
            reason="bad_signature",
            authenticated=False,
        )
    # Nothing listens there: a replay that went as far as Temporal would fail otherwise.
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:9")
    monkeypatch.setenv("RETURNFLOW_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RETURNFLOW_PAYLOAD_KEYS", TEST_KEYS)

    listed = await run(["dead-letters", "list"])
    listing = capsys.readouterr().out
    shown = await run(["dead-letters", "show", letter.letter_id, "--body"])
    show_error = capsys.readouterr().err
    replayed = await run(["dead-letters", "replay", "--all-pending"])
    replay_error = capsys.readouterr().err

    assert listed == 0 and letter.letter_id in listing
    for code, error in ((shown, show_error), (replayed, replay_error)):
        assert code == 2
        assert f"sealed under key {NEXT_KEY_ID!r}" in error and letter.letter_id in error
        assert TEST_KEYRING.current in error  # the keys it has, by ID
    with letters_of(tmp_path, other) as letters:
        assert letters.get(letter.letter_id).replays == []


async def test_listing_needs_no_key_and_showing_a_body_says_which_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with letters_of(tmp_path, codec_for_tests()) as letters:
        letter = letters.keep(
            source="events", body=b"{}", headers={}, status_code=400, reason="x", authenticated=True
        )
    monkeypatch.setenv("RETURNFLOW_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("RETURNFLOW_PAYLOAD_KEYS", raising=False)
    monkeypatch.delenv("RETURNFLOW_PAYLOAD_KEY_FILE", raising=False)

    listed = await run(["dead-letters", "list", "--json"])
    listing = capsys.readouterr().out
    shown = await run(["dead-letters", "show", letter.letter_id])
    capsys.readouterr()
    body = await run(["dead-letters", "show", letter.letter_id, "--body"])
    error = capsys.readouterr().err

    assert listed == 0 and json.loads(listing)["body_key_id"] == TEST_KEYRING.current
    assert "body_sealed" not in listing
    assert shown == 0
    assert body == 2 and "RETURNFLOW_PAYLOAD_KEYS" in error


async def test_the_gateway_imports_the_letters_kept_as_files_when_it_starts(
    harness: ReturnHarness, tmp_path: Path, operator_env: DeadLetterStore
) -> None:
    body = b'{"type": "order.test_ping"}'
    letter_id = write_legacy(tmp_path / "dead-letters", body)

    settings = gateway_settings(harness.settings.task_queue, tmp_path)
    async with open_door(harness.client, settings) as door:
        retried = await door.send_event(body)

    assert retried.json()["dead_letter_id"] == letter_id, "found by its body, counted on it"
    letter = operator_env.get(letter_id)
    assert (letter.times_received, letter.sealed, letter.body) == (2, True, body)
    assert not (tmp_path / "dead-letters").exists()
    assert (tmp_path / "dead-letters.imported" / f"{letter_id}.json").is_file()


async def test_listing_imports_the_letter_files_sealed_or_leaves_them_without_the_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A host still holding letter files: `dead-letters list` copies them into the store with
    their bodies sealed where the keys are configured, and leaves them where they are not."""
    body = b'{"type": "order.test_ping"}'
    letter_id = write_legacy(tmp_path / "dead-letters", body)
    monkeypatch.setenv("RETURNFLOW_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("RETURNFLOW_PAYLOAD_KEYS", raising=False)
    monkeypatch.delenv("RETURNFLOW_PAYLOAD_KEY_FILE", raising=False)
    with letters_of(tmp_path, codec_for_tests()):
        pass  # the store, as a gateway made it

    without_keys = await run(["dead-letters", "list"])
    listed_without = capsys.readouterr().out
    monkeypatch.setenv("RETURNFLOW_PAYLOAD_KEYS", TEST_KEYS)
    with_keys = await run(["dead-letters", "list"])
    listed_with = capsys.readouterr().out

    assert (without_keys, with_keys) == (0, 0)
    assert letter_id not in listed_without and letter_id in listed_with
    with letters_of(tmp_path, codec_for_tests()) as letters:
        kept = letters.get(letter_id)
        assert kept.sealed and kept.body_base64 is None and letters.body(kept) == body
        assert body not in stored(letters, letter_id)
