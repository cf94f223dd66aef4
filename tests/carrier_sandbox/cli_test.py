"""`python -m carrier_sandbox` serves until told to stop, logging ids and never people."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.carrier_sandbox.builders import (
    CUSTOMER_NAME,
    CUSTOMER_STREET,
    SELLER_NAME,
    create_label,
    scan,
)

PROJECT = Path(__file__).resolve().parents[2]


async def _listening_url(stderr: asyncio.StreamReader, seen: list[dict[str, Any]]) -> str:
    while line := await stderr.readline():
        record = json.loads(line)
        seen.append(record)
        if record["event"] == "carrier sandbox listening":
            return str(record["url"])
    raise AssertionError(f"the sandbox stopped before listening: {seen}")


async def test_cli_serves_then_stops_cleanly_on_sigterm_without_logging_people(
    tmp_path: Path,
) -> None:
    db = tmp_path / "var" / "carrier-sandbox.sqlite"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "carrier_sandbox",
        *("--port", "0", "--db", str(db), "--api-key", "cli-key"),
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    records: list[dict[str, Any]] = []
    try:
        url = await asyncio.wait_for(_listening_url(process.stderr, records), timeout=30)
        async with httpx.AsyncClient(base_url=url, headers={"X-Api-Key": "cli-key"}) as http:
            label = await create_label(http, "return-O1001-1:label:1")
            await scan(http, label["tracking_number"])
    finally:
        process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.stderr.read(), timeout=30)
        code = await process.wait()

    records += [json.loads(line) for line in rest.splitlines()]
    assert code == 0
    assert db.is_file()
    assert records[-1]["event"] == "carrier sandbox stopped"
    assert all(r["service"] == "carrier-sandbox" for r in records)
    logged = json.dumps(records, ensure_ascii=False)
    assert label["label_id"] in logged
    for personal in (CUSTOMER_NAME, CUSTOMER_STREET, SELLER_NAME, "Toulouse", "31400"):
        assert personal not in logged
