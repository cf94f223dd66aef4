"""Sandbox Post is restarted mid-return: everything it made is still there."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from carrier_sandbox.server import SandboxServer
from carrier_sandbox.store import SCHEMA
from tests.carrier_sandbox.builders import MONDAY, book_pickup, label_body, scan
from tests.carrier_sandbox.conftest import SettableClock


async def test_state_survives_a_restart(db_path: Path, clock: SettableClock) -> None:
    key = "return-O1001-1:label:1"
    async with (
        SandboxServer(db_path, clock=clock) as before,
        httpx.AsyncClient(base_url=before.url, headers={"X-Api-Key": before.api_key}) as http,
    ):
        made = await http.post("/v1/labels", json=label_body(), headers={"Idempotency-Key": key})
        label = made.json()
        pickup = await book_pickup(http, "return-O1001-1:pickup:1", label["label_id"], MONDAY)
        await scan(http, label["tracking_number"])
        pdf_before = (await http.get(label["label_url"])).content
        tracking_before = (await http.get(f"/v1/tracking/{label['tracking_number']}")).json()

    async with (
        SandboxServer(db_path, clock=clock) as after,
        httpx.AsyncClient(base_url=after.url, headers={"X-Api-Key": after.api_key}) as http,
    ):
        replayed = await http.post(
            "/v1/labels", json=label_body(), headers={"Idempotency-Key": key}
        )
        pickup_again = await book_pickup(http, "return-O1001-1:pickup:1", label["label_id"], MONDAY)
        pdf_after = (await http.get(label["label_url"])).content
        tracking_after = (await http.get(f"/v1/tracking/{label['tracking_number']}")).json()
        keys = (await http.get("/sandbox/idempotency-keys")).json()["keys"]

    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.content == made.content
    assert pickup_again.json() == pickup.json()
    assert pdf_after == pdf_before
    assert tracking_after == tracking_before
    assert tracking_after["status"] == "accepted"
    assert [(k["key"], k["requests"]) for k in keys] == [
        (key, 2),
        ("return-O1001-1:pickup:1", 2),
    ]


async def test_server_tells_its_url_and_frees_the_port_on_exit(db_path: Path) -> None:
    async with SandboxServer(db_path, api_key="another-key") as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(
            base_url=server.url, headers={"X-Api-Key": "another-key"}
        ) as http:
            assert (await http.get("/v1/carrier")).status_code == 200

    async with httpx.AsyncClient(base_url=server.url) as http:
        try:
            await http.get("/healthz")
        except httpx.ConnectError:
            return
    raise AssertionError("the sandbox still answers after its context closed")


async def test_a_file_from_before_objects_kept_their_key_still_opens(
    db_path: Path, clock: SettableClock
) -> None:
    # The schema as it was: the current one without the key columns.
    before = SCHEMA.replace(",\n    idempotency_key TEXT", "")
    assert (
        "idempotency_key TEXT" not in before.split("CREATE TABLE IF NOT EXISTS idempotency_keys")[0]
    )
    old = sqlite3.connect(db_path)
    old.executescript(before)
    old.close()

    async with (
        SandboxServer(db_path, clock=clock) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key}) as http,
    ):
        key = "return-O1002-1:label:1"
        made = await http.post("/v1/labels", json=label_body(), headers={"Idempotency-Key": key})
        keys = (await http.get("/sandbox/idempotency-keys")).json()["keys"]

    assert made.status_code == 201
    assert [(k["key"], k["created"]) for k in keys] == [(key, 1)]
