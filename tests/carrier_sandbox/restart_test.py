"""The sandbox is restarted mid-return: what it made is still there, even made by an older one."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from carrier_sandbox.server import SandboxServer
from tests.carrier_sandbox.builders import (
    MONDAY,
    RELAY,
    SANDBOX,
    book_pickup,
    customer_address,
    label_body,
    scan,
    seller_address,
)
from tests.carrier_sandbox.conftest import SettableClock


async def test_state_survives_a_restart(db_path: Path, clock: SettableClock) -> None:
    key = "return-O1001-1:label:1"
    async with (
        SandboxServer(db_path, clock=clock, rounds=False) as before,
        httpx.AsyncClient(base_url=before.url, headers={"X-Api-Key": before.api_key}) as http,
    ):
        made = await http.post(
            f"{SANDBOX}/labels", json=label_body(), headers={"Idempotency-Key": key}
        )
        label = made.json()
        pickup = await book_pickup(http, "return-O1001-1:pickup:1", label["label_id"], MONDAY)
        await scan(http, label["tracking_number"])
        pdf_before = (await http.get(label["label_url"])).content
        tracking_before = (await http.get(f"{SANDBOX}/tracking/{label['tracking_number']}")).json()

    async with (
        SandboxServer(db_path, clock=clock, rounds=False) as after,
        httpx.AsyncClient(base_url=after.url, headers={"X-Api-Key": after.api_key}) as http,
    ):
        replayed = await http.post(
            f"{SANDBOX}/labels", json=label_body(), headers={"Idempotency-Key": key}
        )
        pickup_again = await book_pickup(http, "return-O1001-1:pickup:1", label["label_id"], MONDAY)
        pdf_after = (await http.get(label["label_url"])).content
        tracking_after = (await http.get(f"{SANDBOX}/tracking/{label['tracking_number']}")).json()
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
            assert (await http.get(f"{SANDBOX}/carrier")).status_code == 200

    async with httpx.AsyncClient(base_url=server.url) as http:
        try:
            await http.get("/healthz")
        except httpx.ConnectError:
            return
    raise AssertionError("the sandbox still answers after its context closed")


def write_old_file(path: Path, *, with_keys: bool) -> None:
    """A file as the one-carrier sandbox left it, holding one label made under one key."""
    schema = SCHEMA_BEFORE_CARRIERS
    if not with_keys:
        schema = schema.replace(",\n    idempotency_key TEXT", "")
    with sqlite3.connect(path) as old:
        old.executescript(schema)
        old.execute(
            "INSERT INTO parcels VALUES ('SB123456785FR', 'return-O1001-1', ?, ?, ?, ?)",
            (
                json.dumps(customer_address()),
                json.dumps(seller_address()),
                json.dumps({"weight_grams": 480, "description": "Smartphone"}),
                "2025-06-14T10:00:00+02:00",
            ),
        )
        label = (
            "LBL-00000000000000AA",
            "SB123456785FR",
            "return-O1001-1",
            "2025-06-14T10:00:00+02:00",
        )
        if with_keys:
            old.execute("INSERT INTO labels VALUES (?, ?, ?, ?, 'return-O1001-1:label:1')", label)
        else:
            old.execute("INSERT INTO labels VALUES (?, ?, ?, ?)", label)
        old.execute(
            "INSERT INTO idempotency_keys VALUES ('return-O1001-1:label:1', 'POST /v1/labels',"
            " ?, 201, ?, 1, '2025-06-14T10:00:00+02:00')",
            (_sha256_of(label_body()), json.dumps({"label_id": label[0]})),
        )
    old.close()


def _sha256_of(body: dict[str, object]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.parametrize("with_keys", [True, False], ids=["keys-on-objects", "oldest"])
async def test_a_file_from_the_one_carrier_sandbox_carries_on_as_sandbox_posts(
    db_path: Path, clock: SettableClock, with_keys: bool
) -> None:
    write_old_file(db_path, with_keys=with_keys)

    async with (
        SandboxServer(db_path, clock=clock, rounds=False) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key}) as http,
    ):
        replayed = await http.post(
            f"{SANDBOX}/labels",
            json=label_body(),
            headers={"Idempotency-Key": "return-O1001-1:label:1"},
        )
        pdf = await http.get(f"{SANDBOX}/labels/LBL-00000000000000AA/pdf")
        as_relay = await http.get(f"{RELAY}/tracking/SB123456785FR")
        pickup = await book_pickup(http, "return-O1001-1:pickup:1", "LBL-00000000000000AA", MONDAY)
        keys = (await http.get("/sandbox/idempotency-keys")).json()["keys"]

    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == {"label_id": "LBL-00000000000000AA"}
    assert pdf.status_code == 200
    assert as_relay.status_code == 404
    assert pickup.status_code == 201
    assert [(k["carrier"], k["key"], k["endpoint"], k["requests"], k["created"]) for k in keys] == [
        (
            "sandbox",
            "return-O1001-1:label:1",
            "POST /carriers/sandbox/v1/labels",
            2,
            int(with_keys),
        ),
        ("sandbox", "return-O1001-1:pickup:1", "POST /carriers/sandbox/v1/pickups", 1, 1),
    ]


SCHEMA_BEFORE_CARRIERS = """
CREATE TABLE parcels (
    tracking_number TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    parcel TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE labels (
    label_id TEXT PRIMARY KEY,
    tracking_number TEXT NOT NULL UNIQUE REFERENCES parcels (tracking_number),
    reference TEXT NOT NULL,
    created_at TEXT NOT NULL,
    idempotency_key TEXT
);
CREATE TABLE counter_codes (
    code TEXT PRIMARY KEY,
    tracking_number TEXT NOT NULL UNIQUE REFERENCES parcels (tracking_number),
    reference TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    idempotency_key TEXT
);
CREATE TABLE pickups (
    pickup_id TEXT PRIMARY KEY,
    label_id TEXT NOT NULL REFERENCES labels (label_id),
    reference TEXT NOT NULL,
    pickup_date TEXT NOT NULL,
    address TEXT NOT NULL,
    confirmation TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    idempotency_key TEXT
);
CREATE INDEX pickups_by_label ON pickups (label_id);
CREATE TABLE scans (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id TEXT NOT NULL UNIQUE,
    tracking_number TEXT NOT NULL REFERENCES parcels (tracking_number),
    status TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    location TEXT,
    description TEXT
);
CREATE INDEX scans_by_parcel ON scans (tracking_number, seq);
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    requests INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
"""
"""The schema of the sandbox before it played several carriers (one key space, no voiding)."""
