"""`python -m carrier_sandbox` serves until told to stop, logging ids and never people."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from carrier_sandbox.__main__ import files_problem, main, parse_args
from carrier_sandbox.carriers import DEFAULT_CARRIERS_FILE
from tests.activities.carriers.webhook_receiver import WebhookReceiver
from tests.carrier_sandbox.builders import (
    CUSTOMER_NAME,
    CUSTOMER_STREET,
    SELLER_NAME,
    create_label,
    scan,
)

PROJECT = Path(__file__).resolve().parents[2]


async def _listening(stderr: asyncio.StreamReader, seen: list[dict[str, Any]]) -> dict[str, Any]:
    while line := await stderr.readline():
        record: dict[str, Any] = json.loads(line)
        seen.append(record)
        if record["event"] == "carrier sandbox listening":
            return record
    raise AssertionError(f"the sandbox stopped before listening: {seen}")


async def _noted_as_delivered(http: httpx.AsyncClient) -> None:
    """Wait until the sandbox has recorded (and logged) its webhook as delivered."""
    async with asyncio.timeout(10):
        while True:
            deliveries = (await http.get("/sandbox/webhook-deliveries")).json()["deliveries"]
            if deliveries and deliveries[0]["delivered"]:
                return
            await asyncio.sleep(0.05)


async def test_cli_serves_then_stops_cleanly_on_sigterm_without_logging_people(
    tmp_path: Path,
) -> None:
    db = tmp_path / "var" / "carrier-sandbox.sqlite"
    async with WebhookReceiver() as receiver:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "carrier_sandbox",
            *("--port", "0", "--db", str(db), "--api-key", "cli-key"),
            *("--webhook-url", receiver.url(), "--webhook-secret", "cli-secret"),
            *("--tick", "0.05", "--no-rounds"),
            cwd=PROJECT,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        records: list[dict[str, Any]] = []
        try:
            listening = await asyncio.wait_for(_listening(process.stderr, records), timeout=30)
            async with httpx.AsyncClient(
                base_url=listening["url"], headers={"X-Api-Key": "cli-key"}
            ) as http:
                label = await create_label(http, "return-O1001-1:label:1")
                await scan(http, label["tracking_number"])
                (webhook,) = await receiver.wait_for(1, within=10)
                await _noted_as_delivered(http)
        finally:
            process.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(process.stderr.read(), timeout=30)
            code = await process.wait()

    records += [json.loads(line) for line in rest.splitlines()]
    assert code == 0
    assert db.is_file()
    assert listening["carriers"] == ["sandbox", "relay"]
    assert (listening["webhooks"], listening["rounds"]) == (True, False)
    stamp = webhook.headers["x-sandbox-timestamp"]
    mac = hmac.new(b"cli-secret", f"{stamp}.".encode() + webhook.body, hashlib.sha256)
    assert webhook.headers["x-sandbox-signature"] == f"v1={mac.hexdigest()}"
    assert records[-1]["event"] == "carrier sandbox stopped"
    assert all(r["service"] == "carrier-sandbox" for r in records)
    logged = json.dumps(records, ensure_ascii=False)
    assert label["label_id"] in logged
    assert webhook.json()["id"] in logged
    for personal in (CUSTOMER_NAME, CUSTOMER_STREET, SELLER_NAME, "Toulouse", "31400"):
        assert personal not in logged


def test_every_option_has_a_default_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "RETURNFLOW_SANDBOX_CARRIERS_FILE": str(tmp_path / "carriers.json"),
        "RETURNFLOW_SANDBOX_WEBHOOK_URL": "http://127.0.0.1:8000/v1/carriers/{carrier}/webhooks",
        "RETURNFLOW_CARRIER_SANDBOX_WEBHOOK_SECRET": "from-env",
        "RETURNFLOW_SANDBOX_WEBHOOK_ATTEMPTS": "4",
        "RETURNFLOW_SANDBOX_ROUNDS": "off",
        "RETURNFLOW_SANDBOX_TICK_SECONDS": "0.25",
        "RETURNFLOW_SANDBOX_FAULTS_FILE": str(tmp_path / "faults.json"),
        "RETURNFLOW_SANDBOX_FAULT_SEED": "42",
    }.items():
        monkeypatch.setenv(name, value)

    args = parse_args([])

    assert args.carriers == tmp_path / "carriers.json"
    assert args.webhook_url == "http://127.0.0.1:8000/v1/carriers/{carrier}/webhooks"
    assert (args.webhook_secret, args.webhook_attempts) == ("from-env", 4)
    assert (args.rounds, args.tick) == (False, 0.25)
    assert (args.faults, args.fault_seed) == (tmp_path / "faults.json", 42)


def test_without_configuration_there_are_two_carriers_no_webhooks_no_faults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith("RETURNFLOW_"):
            monkeypatch.delenv(name)

    args = parse_args([])

    assert args.carriers == DEFAULT_CARRIERS_FILE
    assert args.webhook_url is None
    assert args.webhook_secret == "sandbox-webhook-secret"
    assert (args.rounds, args.tick, args.faults, args.fault_seed) == (True, 0.5, None, None)


@pytest.mark.parametrize(
    ("option", "content", "said"),
    [
        ("--faults", '{"rules": [{"error_rate": 2}]}', "rules.0.error_rate"),
        ("--faults", "not json", "faults.json: "),
        ("--carriers", '{"carriers": []}', "carriers.json: "),
    ],
    ids=["a-rate-over-one", "not-json", "no-carrier"],
)
def test_a_file_it_cannot_use_stops_it_before_it_starts_naming_the_file(
    tmp_path: Path, option: str, content: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "faults.json" if option == "--faults" else "carriers.json"
    (tmp_path / name).write_text(content)

    with pytest.raises(SystemExit) as stopped:
        main([option, str(tmp_path / name), "--db", str(tmp_path / "sandbox.sqlite")])

    assert str(stopped.value.code).startswith("python -m carrier_sandbox: error: ")
    assert said in str(stopped.value.code)
    assert "Traceback" not in capsys.readouterr().err


def test_a_carriers_file_that_is_not_there_is_named() -> None:
    args = parse_args(["--carriers", "/nonexistent/carriers.json"])

    assert (files_problem(args) or "").startswith("/nonexistent/carriers.json: ")
