"""The sample returns played end to end through the real processes, then everything they left
behind read as an outsider would: Temporal's histories without the codec, Temporal's database
file, and every process's log. None of the customers' names, emails or street lines is there."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from devstack.demo import Sample, load_samples, play_all
from devstack.stack import DevStack
from domain.events import Customer
from domain.returns import ReturnStage
from plumbing.temporal import cli_path
from tests.e2e.conftest import stack_config
from tests.raw_history import raw_history

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevStack]:
    config = stack_config(tmp_path_factory.mktemp("var"))
    async with DevStack(config) as running:
        yield running


@pytest.fixture(scope="module")
async def played(stack: DevStack, tmp_path_factory: pytest.TempPathFactory) -> list[Sample]:
    """The demo's samples, through the gateway, each to its final stage."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    samples = load_samples(now, tmp_path_factory.mktemp("events"))
    await play_all(stack, samples)
    assert all(s.ok for s in samples), [(s.name, s.error) for s in samples]
    return samples


def _read_if_still_there(path: Path) -> bytes:
    """A file of a running SQLite database: its rollback journal comes and goes with each
    write, and may be gone between listing and reading."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def personal(customer: Customer) -> list[str]:
    address = customer.address
    found = [customer.name, customer.email, address.line1, address.line2, address.phone]
    return [text for text in found if text]


def forms(text: str) -> list[bytes]:
    """How a string can sit in a file: UTF-8, and JSON's ASCII escapes of it."""
    return [text.encode(), json.dumps(text)[1:-1].encode()]


async def test_the_histories_read_without_the_codec_hold_no_personal_data(
    stack: DevStack, played: list[Sample]
) -> None:
    for sample in played:
        assert sample.return_id is not None
        stored = await raw_history(
            stack.client.service_client, stack.config.namespace, sample.return_id
        )

        for clear in personal(sample.event.customer):
            for form in forms(clear):
                assert form not in stored.data, f"{sample.name}: {clear!r} in its history"
        payloads = stored.payloads()
        assert {p.encoding for p in payloads} == {b"binary/encrypted"}, sample.name
        assert {p.key_id for p in payloads} == {stack.codec.keyring.current}


async def test_temporals_database_file_holds_no_personal_data(
    stack: DevStack, played: list[Sample]
) -> None:
    files = sorted(stack.config.var_dir.glob("temporal.sqlite*"))
    database = b"".join(_read_if_still_there(path) for path in files)

    assert len(database) > 100_000  # the histories are in there
    for sample in played:
        assert sample.return_id is not None and sample.return_id.encode() in database
        for clear in personal(sample.event.customer):
            for form in forms(clear):
                assert form not in database, f"{sample.name}: {clear!r} in {files}"


async def test_the_logs_of_every_process_hold_no_personal_data(
    stack: DevStack, played: list[Sample]
) -> None:
    logs = {path.name: path.read_bytes() for path in stack.config.log_dir.glob("*.log")}

    assert {"worker.log", "gateway.log", "codec-server.log"} <= set(logs)
    assert b'"service": "worker"' in logs["worker.log"]
    assert b'"service": "gateway"' in logs["gateway.log"]
    for sample in played:
        assert sample.return_id is not None
        assert sample.return_id.encode() in logs["worker.log"]
        for clear in personal(sample.event.customer):
            for name, text in logs.items():
                for form in forms(clear):
                    assert form not in text, f"{sample.name}: {clear!r} in {name}"
    # The customers opened their pages: the access log shows where, never the link's token.
    assert b"/my/returns/[redacted]" in logs["gateway.log"]
    assert not re.search(rb"/my/(returns|withdraw)/(?!\[redacted\])", logs["gateway.log"])


async def test_the_temporal_cli_reads_a_return_through_the_codec_server_with_a_token(
    stack: DevStack, played: list[Sample]
) -> None:
    sample = played[0]
    assert sample.return_id is not None
    show = [
        str(cli_path()),
        "workflow",
        "show",
        "--address",
        stack.config.temporal_address,
        "--namespace",
        stack.config.namespace,
        "--workflow-id",
        sample.return_id,
        "--output",
        "json",
    ]
    codec = ["--codec-endpoint", stack.config.codec_url]
    token = ["--codec-auth", f"Bearer {stack.config.codec_token}"]

    decoded = await run(*show, *codec, *token)
    without_token = await run(*show, *codec, "--command-timeout", "3s")
    without_codec = await run(*show)

    email = sample.event.customer.email
    assert decoded.returncode == 0, decoded.stderr
    assert email in payload_texts(decoded.stdout)
    assert without_token.returncode != 0 and email not in without_token.stdout
    refusals = [
        json.loads(line)
        for line in (stack.config.log_dir / "codec-server.log").read_text().splitlines()
        if '"codec request refused"' in line
    ]
    assert any(r["status"] == 401 and r["origin"] is None for r in refusals)
    assert without_codec.returncode == 0, without_codec.stderr
    assert email not in payload_texts(without_codec.stdout)
    assert "binary/encrypted" in payload_texts(without_codec.stdout)


def payload_texts(shown: str) -> str:
    """Every payload's metadata and data in `temporal workflow show --output json` (base64
    there), decoded and joined."""
    texts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("metadata"), dict):
                for value in [*node["metadata"].values(), node.get("data", "")]:
                    if isinstance(value, str):
                        texts.append(base64.b64decode(value).decode("utf-8", "replace"))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(json.loads(shown))
    return "\n".join(texts)


async def run(*argv: str) -> subprocess.CompletedProcess[str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return subprocess.CompletedProcess(argv, proc.returncode, out.decode(), err.decode())


async def test_what_the_temporal_cli_sends_through_the_codec_server_is_stored_encrypted(
    stack: DevStack, played: list[Sample]
) -> None:
    rejected = next(s for s in played if s.expected is ReturnStage.REJECTED)  # still open
    assert rejected.return_id is not None
    reminder = {"day": dt.datetime.now(dt.UTC).date().isoformat(), "origin": "operations:e2e"}

    sent = await run(
        str(cli_path()),
        "workflow",
        "signal",
        "--address",
        stack.config.temporal_address,
        "--namespace",
        stack.config.namespace,
        "--workflow-id",
        rejected.return_id,
        "--name",
        "remind_to_ship",
        "--input",
        json.dumps(reminder),
        "--codec-endpoint",
        stack.config.codec_url,
        "--codec-auth",
        f"Bearer {stack.config.codec_token}",
    )

    assert sent.returncode == 0, sent.stderr
    stored = await raw_history(
        stack.client.service_client, stack.config.namespace, rejected.return_id
    )
    signals = [p for p in stored.payloads() if "workflow_execution_signaled" in p.where]
    assert signals and signals[-1].encoding == b"binary/encrypted"
    assert b"operations:e2e" not in stored.data


async def test_the_codec_server_refuses_other_origins_and_callers_without_a_token(
    stack: DevStack, played: list[Sample]
) -> None:
    stored = await raw_history(
        stack.client.service_client, stack.config.namespace, str(played[0].return_id)
    )
    first = stored.payloads()[0].payload
    body = {
        "payloads": [
            {
                "metadata": {k: _b64(v) for k, v in first.metadata.items()},
                "data": _b64(first.data),
            }
        ]
    }
    ui = stack.config.web_ui_url
    async with httpx.AsyncClient(base_url=stack.config.codec_url) as http:
        from_ui = await http.post("/decode", json=body, headers={"Origin": ui})
        elsewhere = await http.post(
            "/decode", json=body, headers={"Origin": "http://attacker.example"}
        )
        no_token = await http.post("/decode", json=body)
        with_token = await http.post(
            "/decode",
            json=body,
            headers={"Authorization": f"Bearer {stack.config.codec_token}"},
        )

    assert from_ui.status_code == 200 and from_ui.headers["access-control-allow-origin"] == ui
    assert elsewhere.status_code == 403 and "access-control-allow-origin" not in elsewhere.headers
    assert no_token.status_code == 401
    assert with_token.status_code == 200
    codec_log = (stack.config.log_dir / "codec-server.log").read_text()
    assert '"who": "token:ops-demo"' in codec_log
    assert f'"who": "trusted-origin:{ui}"' in codec_log


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
