"""Every payload leaves a process AES-256-GCM encrypted, under a named key; any listed key reads
it back; a missing or wrong key is a clear error, never garbage."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from domain.addresses import PostalAddress
from plumbing.encryption import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    Keyring,
    PayloadKeyError,
    UnknownPayloadKey,
    key_line,
    write_key_file,
)
from plumbing.settings import Settings
from plumbing.temporal import data_converter
from tests.keys import NEXT_KEY, NEXT_KEY_ID, TEST_KEYRING, TEST_KEYS

ROOT = Path(__file__).resolve().parents[2]
HOME = PostalAddress(
    name="Camille Durand",
    line1="12 rue des Lilas",
    postal_code="69003",
    city="Lyon",
    country_code="FR",
)


def rotated() -> Keyring:
    return TEST_KEYRING.with_current(NEXT_KEY_ID, base64.b64decode(NEXT_KEY))


async def test_a_payload_is_stored_as_binary_encrypted_with_its_key_id_and_nothing_readable() -> (
    None
):
    converter = data_converter(EncryptionCodec(TEST_KEYRING))

    [payload] = await converter.encode([HOME])

    assert payload.metadata["encoding"] == ENCODING == b"binary/encrypted"
    assert payload.metadata[KEY_ID_METADATA] == b"tests-2026-a"
    for clear in (b"Camille", b"rue des Lilas", b"json/plain", b"69003"):
        assert clear not in payload.SerializeToString()
    [back] = await converter.decode([payload], [PostalAddress])
    assert back == HOME


async def test_the_same_payload_encrypts_differently_each_time() -> None:
    codec = EncryptionCodec(TEST_KEYRING)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"a": 1}')

    first, second = await codec.encode([plain, plain])

    assert first.data != second.data  # a fresh nonce each time: equal inputs do not show


async def test_after_a_rotation_new_payloads_use_the_new_key_and_old_ones_still_read() -> None:
    before = EncryptionCodec(TEST_KEYRING)
    after = EncryptionCodec(rotated())
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"line1": "12 rue des Lilas"}')
    [old] = await before.encode([plain])

    [new] = await after.encode([plain])

    assert new.metadata[KEY_ID_METADATA] == NEXT_KEY_ID.encode()
    assert await after.decode([old, new]) == [plain, plain]


async def test_a_payload_under_a_key_this_process_lacks_is_an_error_naming_that_key() -> None:
    [sealed] = await EncryptionCodec(rotated()).encode([Payload(data=b"x")])

    with pytest.raises(UnknownPayloadKey) as refused:
        await EncryptionCodec(TEST_KEYRING).decode([sealed])

    assert refused.value.key_id == NEXT_KEY_ID
    assert f"with key '{NEXT_KEY_ID}'" in str(refused.value)
    assert "(tests-2026-a)" in str(refused.value)  # what it has, to compare the configuration
    assert NEXT_KEY not in str(refused.value)


async def test_a_payload_relabelled_with_another_key_id_fails_instead_of_decrypting() -> None:
    # The same key bytes under two IDs: only the key ID bound to the ciphertext tells them
    # apart, so relabelling must be caught by that binding, not by a wrong key.
    same = TEST_KEYRING.keys[TEST_KEYRING.current]
    codec = EncryptionCodec(TEST_KEYRING.with_current("alias", same))
    [sealed] = await EncryptionCodec(TEST_KEYRING).encode([Payload(data=b"secret")])
    sealed.metadata[KEY_ID_METADATA] = b"alias"

    with pytest.raises(PayloadKeyError, match="failed authentication"):
        await codec.decode([sealed])


async def test_an_altered_ciphertext_fails_authentication() -> None:
    codec = EncryptionCodec(TEST_KEYRING)
    [sealed] = await codec.encode([Payload(data=b"secret")])
    sealed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])

    with pytest.raises(PayloadKeyError, match="key 'tests-2026-a' failed authentication"):
        await codec.decode([sealed])


@pytest.mark.parametrize(
    ("key_id", "data", "says"),
    [
        (b"tests-2026-a", b"short", "payload under key 'tests-2026-a' is truncated"),
        (b"", b"x" * 40, "missing or malformed key ID"),
        (b"k" * 5000, b"x" * 40, "missing or malformed key ID"),
    ],
)
async def test_a_damaged_encrypted_payload_is_a_clear_error(
    key_id: bytes, data: bytes, says: str
) -> None:
    damaged = Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id}, data=data)

    with pytest.raises(PayloadKeyError) as refused:
        await EncryptionCodec(TEST_KEYRING).decode([damaged])

    assert says in str(refused.value) and len(str(refused.value)) < 200


async def test_a_payload_written_before_encryption_was_switched_on_still_reads() -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"')

    assert await EncryptionCodec(TEST_KEYRING).decode([plain]) == [plain]


async def test_a_failure_message_and_stack_trace_are_encrypted_too() -> None:
    converter = data_converter(EncryptionCodec(TEST_KEYRING))
    error = ApplicationError("carrier refused: sender street '12 rue des Lilas' is too long")
    failure = Failure()

    converter.failure_converter.to_failure(error, converter.payload_converter, failure)
    await converter.payload_codec.encode_failure(failure)  # type: ignore[union-attr]

    assert failure.message == "Encoded failure"
    assert b"rue des Lilas" not in failure.SerializeToString()
    assert failure.encoded_attributes.metadata["encoding"] == ENCODING
    await converter.payload_codec.decode_failure(failure)  # type: ignore[union-attr]
    back = converter.failure_converter.from_failure(failure, converter.payload_converter)
    assert "12 rue des Lilas" in str(back)


# --- Configuration ---------------------------------------------------------------------------


def test_keys_are_key_id_equals_base64_the_first_listed_is_current() -> None:
    keyring = Keyring.parse(f"{TEST_KEYS}, {NEXT_KEY_ID}={NEXT_KEY}", source="env")

    assert keyring.current == "tests-2026-a"
    assert keyring.key_ids == ["tests-2026-a", "tests-2026-b"]
    assert Keyring.parse(f"{TEST_KEYS},{NEXT_KEY_ID}={NEXT_KEY}", NEXT_KEY_ID, source="env")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("no-equals-sign", "env: entry 1 is not KEY_ID=BASE64"),
        (f"{TEST_KEYS},bad id!={NEXT_KEY}", "env: entry 2 is not KEY_ID=BASE64"),
        ("k1=not*base64", "env: key 'k1' is not valid base64"),
        ("k1=" + base64.b64encode(b"16 bytes only!!!").decode(), "key 'k1' is 16 bytes; AES-256"),
        (f"{TEST_KEYS},{TEST_KEYS}", "key 'tests-2026-a' is listed twice"),
        ("# only a comment", "env: no key in it"),
    ],
)
def test_a_bad_key_setting_is_refused_naming_the_entry_never_the_key(text: str, says: str) -> None:
    with pytest.raises(PayloadKeyError) as refused:
        Keyring.parse(text, source="env")

    assert says in str(refused.value)
    assert NEXT_KEY not in str(refused.value)


def test_the_current_key_must_be_one_of_the_keys() -> None:
    with pytest.raises(PayloadKeyError, match="names key 'k9', which is not among"):
        Keyring.parse(TEST_KEYS, "k9", source="env")


def test_without_any_key_a_process_refuses_to_start_and_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(PayloadKeyError) as refused:
        Settings(payload_keys=None, payload_key_file=None, var_dir=tmp_path).payload_keyring()

    assert "RETURNFLOW_PAYLOAD_KEYS or RETURNFLOW_PAYLOAD_KEY_FILE" in str(refused.value)
    assert "starter.py keys new" in str(refused.value)


def test_a_shell_in_the_project_finds_the_dev_stacks_key(tmp_path: Path) -> None:
    made = write_key_file(tmp_path / "keys" / "payload.keys", "devstack-20261124")

    found = Settings(payload_keys=None, payload_key_file=None, var_dir=tmp_path)

    assert found.payload_keyring() == made
    explicit = Settings(payload_keys=SecretStr(TEST_KEYS), var_dir=tmp_path).payload_keyring()
    assert explicit.key_ids == ["tests-2026-a"]  # configured keys win: the dev key is not added


def test_a_key_file_must_be_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "payload.keys"
    path.write_text(TEST_KEYS + "\n")
    path.chmod(0o644)

    with pytest.raises(PayloadKeyError, match="can be read by others \\(mode 644\\): chmod 600"):
        Keyring.from_file(path)
    path.chmod(0o600)
    assert Keyring.from_file(path).current == "tests-2026-a"


def test_keys_from_the_environment_and_a_file_together(tmp_path: Path) -> None:
    made = write_key_file(tmp_path / "keys" / "payload.keys", "file-key")
    settings = Settings(
        payload_keys=SecretStr(TEST_KEYS),
        payload_key_file=tmp_path / "keys" / "payload.keys",
        payload_key_id="file-key",
    )

    keyring = settings.payload_keyring()

    assert keyring.key_ids == ["file-key", "tests-2026-a"]
    assert keyring.current == "file-key" == made.current
    assert os.stat(tmp_path / "keys" / "payload.keys").st_mode & 0o777 == 0o600


def starter(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RETURNFLOW_")}
    return subprocess.run(
        [sys.executable, "starter.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keys_new_prints_a_fresh_key_line_that_the_settings_accept() -> None:
    made = starter("keys", "new", "--id", "prod-2026-11", env={})

    assert made.returncode == 0, made.stderr
    line = made.stdout.strip()
    assert line.startswith("prod-2026-11=")
    assert Keyring.parse(line, source="stdout").current == "prod-2026-11"
    assert starter("keys", "new", "--id", "prod-2026-11", env={}).stdout.strip() != line


def test_keys_show_lists_the_key_ids_and_the_current_one_never_a_key() -> None:
    shown = starter(
        "keys",
        "show",
        env={
            "RETURNFLOW_PAYLOAD_KEYS": f"{TEST_KEYS},{NEXT_KEY_ID}={NEXT_KEY}",
            "RETURNFLOW_PAYLOAD_KEY_ID": NEXT_KEY_ID,
        },
    )

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "tests-2026-a",
        "tests-2026-b  (current: new payloads are encrypted with it)",
    ]
    assert NEXT_KEY not in shown.stdout


def test_a_command_without_keys_says_what_to_set(tmp_path: Path) -> None:
    refused = starter("status", "ORD-1-1", env={"RETURNFLOW_VAR_DIR": str(tmp_path)})

    assert refused.returncode == 2
    assert "error: no payload encryption key: set RETURNFLOW_PAYLOAD_KEYS" in refused.stderr


def test_a_key_id_must_be_a_plain_name() -> None:
    with pytest.raises(PayloadKeyError, match="key ID 'a b'"):
        key_line("a b")
