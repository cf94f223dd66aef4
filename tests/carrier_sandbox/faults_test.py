"""The carrier misbehaves on purpose: errors, lost answers, slowness, rate limits and hangs."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from carrier_sandbox.faults import FaultInjector, FaultPlan, FaultRule
from carrier_sandbox.server import SandboxServer
from tests.carrier_sandbox.builders import (
    SANDBOX,
    count_rows,
    create_label,
    error_of,
    label_body,
)
from tests.carrier_sandbox.conftest import SettableClock

LABELS = "POST /carriers/*/v1/labels"


async def inject(client: httpx.AsyncClient, **rule: Any) -> None:
    response = await client.put("/sandbox/faults", json={"rules": [rule]})
    assert response.status_code == 200, response.text


async def post_label(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post(
        f"{SANDBOX}/labels", json=label_body(), headers={"Idempotency-Key": key}
    )


async def injected(client: httpx.AsyncClient) -> dict[str, int]:
    stats: dict[str, int] = (await client.get("/sandbox/faults/stats")).json()["injected"]
    return stats


async def test_no_faults_unless_asked(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sandbox/faults")).json() == {"rules": []}
    await create_label(client, "return-O1001-1:label:1")

    assert (await client.get("/sandbox/faults/stats")).json() == {
        "requests": 1,
        "injected": {"error_before": 0, "error_after": 0, "slow": 0, "rate_limit": 0, "hang": 0},
    }


async def test_an_error_before_the_work_leaves_nothing_done(
    client: httpx.AsyncClient, sandbox: SandboxServer
) -> None:
    await inject(client, endpoint=LABELS, error_rate=1.0, error_when="before")

    failed = await post_label(client, "return-O1001-1:label:1")
    await client.delete("/sandbox/faults")
    retried = await post_label(client, "return-O1001-1:label:1")

    assert failed.status_code == 500
    assert error_of(failed)["code"] == "internal_error"
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert count_rows(sandbox.db_path, "labels") == 1
    assert (await injected(client))["error_before"] == 1


async def test_an_answer_lost_after_the_work_is_given_back_under_the_same_key(
    client: httpx.AsyncClient, sandbox: SandboxServer
) -> None:
    await inject(client, endpoint=LABELS, error_rate=1.0, error_when="after")

    lost = await post_label(client, "return-O1001-1:label:1")
    made_meanwhile = count_rows(sandbox.db_path, "labels")
    await client.delete("/sandbox/faults")
    retried = await post_label(client, "return-O1001-1:label:1")

    assert lost.status_code in (502, 503)
    assert made_meanwhile == 1
    assert retried.status_code == 201
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert count_rows(sandbox.db_path, "labels") == 1
    assert (await injected(client))["error_after"] == 1


async def test_injected_errors_fall_before_and_after_the_work_alike(
    db_path: Path, clock: SettableClock
) -> None:
    plan = FaultPlan(rules=[FaultRule(endpoint=LABELS, error_rate=1.0)])
    async with (
        SandboxServer(db_path, clock=clock, rounds=False, faults=plan, fault_seed=7) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key}) as http,
    ):
        answers = [await post_label(http, f"k-{n}") for n in range(12)]
        stats = await injected(http)

    assert stats["error_before"] + stats["error_after"] == 12
    assert stats["error_before"] >= 3 and stats["error_after"] >= 3
    assert count_rows(db_path, "labels") == stats["error_after"]
    assert {a.status_code for a in answers} <= {500, 502, 503}


async def test_a_forced_status_with_retry_after(client: httpx.AsyncClient) -> None:
    await inject(client, error_rate=1.0, error_status=503, retry_after_seconds=7)

    response = await client.get(f"{SANDBOX}/carrier")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"


async def test_a_504_forced_or_ending_a_hang_is_a_timeout_told_when_to_come_back(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("carrier_sandbox.faults.HANG_SECONDS", 0.05)
    await inject(client, error_rate=1.0, error_status=504, retry_after_seconds=3, count=1)
    forced = await client.get(f"{SANDBOX}/carrier")
    await inject(client, hang_rate=1.0, retry_after_seconds=3, count=1)
    hung = await client.get(f"{SANDBOX}/carrier")

    for answer in (forced, hung):
        assert answer.status_code == 504
        assert error_of(answer)["code"] == "timeout"
        assert answer.headers["Retry-After"] == "3"


async def test_a_rate_limited_request_is_told_when_to_come_back_and_does_nothing(
    client: httpx.AsyncClient, sandbox: SandboxServer
) -> None:
    await inject(client, endpoint=LABELS, rate_limit_rate=1.0, retry_after_seconds=2)

    response = await post_label(client, "return-O1001-1:label:1")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert error_of(response)["code"] == "rate_limited"
    assert count_rows(sandbox.db_path, "labels") == 0


async def test_a_slow_answer_comes_late_but_complete(client: httpx.AsyncClient) -> None:
    await inject(client, endpoint=LABELS, slow_rate=1.0, slow_seconds=0.3)

    started = time.monotonic()
    response = await post_label(client, "return-O1001-1:label:1")

    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201
    assert (await injected(client))["slow"] == 1


async def test_a_hung_request_gets_no_answer_until_the_client_gives_up(
    db_path: Path, clock: SettableClock
) -> None:
    async with (
        SandboxServer(db_path, clock=clock, rounds=False) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key}) as http,
    ):
        await inject(http, endpoint=LABELS, hang_rate=1.0)
        hung = asyncio.create_task(post_label(http, "return-O1001-1:label:1"))
        await asyncio.sleep(0.1)
        # Meanwhile the sandbox answers everyone else.
        other = await http.get(f"{SANDBOX}/carrier")
        with pytest.raises(httpx.ReadTimeout):
            await http.post(
                f"{SANDBOX}/labels",
                json=label_body(),
                headers={"Idempotency-Key": "return-O1002-1:label:1"},
                timeout=0.3,
            )
        stopping = time.monotonic()
    stopped_in = time.monotonic() - stopping

    assert other.status_code == 200
    assert count_rows(db_path, "labels") == 0
    assert stopped_in < 2  # a hung request does not hold the sandbox's shutdown
    assert hung.done()


async def test_a_rule_limited_to_one_request_lapses_after_it(client: httpx.AsyncClient) -> None:
    await inject(client, error_rate=1.0, error_when="before", count=1)

    first = await client.get(f"{SANDBOX}/carrier")
    second = await client.get(f"{SANDBOX}/carrier")

    assert (first.status_code, second.status_code) == (500, 200)
    assert (await client.get("/sandbox/faults")).json() == {"rules": []}


async def test_a_rule_touches_only_the_routes_it_names(client: httpx.AsyncClient) -> None:
    await inject(client, endpoint=LABELS, error_rate=1.0)

    assert (await client.get(f"{SANDBOX}/carrier")).status_code == 200
    assert (await client.get("/carriers/relay/v1/carrier")).status_code == 200


async def test_the_bench_and_health_are_never_broken(client: httpx.AsyncClient) -> None:
    await inject(client, error_rate=1.0, hang_rate=1.0)

    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/sandbox/clock")).status_code == 200
    assert (await client.get("/sandbox/faults/stats")).json()["requests"] == 0


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"error_rate": 1.5}, "rules.0.error_rate"),
        ({"slow_rate": -0.1}, "rules.0.slow_rate"),
        ({"endpoint": "/carriers/*"}, "rules.0.endpoint"),
        ({"endpoint": "POST /sandbox/clock"}, "rules.0.endpoint"),
        ({"error_when": "sometimes"}, "rules.0.error_when"),
        ({"error_status": 404}, "rules.0.error_status"),
        ({"count": 0}, "rules.0.count"),
        ({"eror_rate": 0.5}, "rules.0.eror_rate"),
    ],
)
async def test_a_wrong_fault_rule_is_refused_naming_the_field(
    client: httpx.AsyncClient, rule: dict[str, Any], field: str
) -> None:
    response = await client.put("/sandbox/faults", json={"rules": [rule]})

    assert response.status_code == 422
    assert error_of(response)["field"] == field
    assert (await client.get("/sandbox/faults")).json() == {"rules": []}


async def test_the_plan_is_shown_with_its_defaults_and_cleared(client: httpx.AsyncClient) -> None:
    await inject(client, endpoint=LABELS, error_rate=0.2)

    shown = (await client.get("/sandbox/faults")).json()
    cleared = await client.delete("/sandbox/faults")

    assert shown["rules"] == [
        {
            "endpoint": LABELS,
            "error_rate": 0.2,
            "error_when": "either",
            "error_status": None,
            "slow_rate": 0.0,
            "slow_seconds": 3.0,
            "rate_limit_rate": 0.0,
            "retry_after_seconds": 1.0,
            "hang_rate": 0.0,
            "count": None,
        }
    ]
    assert cleared.json() == {"rules": []}
    assert (await client.get("/sandbox/faults")).json() == {"rules": []}


async def test_the_plan_can_come_from_a_file_at_start(
    tmp_path: Path, db_path: Path, clock: SettableClock
) -> None:
    plan_file = tmp_path / "faults.json"
    plan_file.write_text(json.dumps({"rules": [{"endpoint": "*", "rate_limit_rate": 1.0}]}))

    async with (
        SandboxServer(db_path, clock=clock, rounds=False, faults=plan_file) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key}) as http,
    ):
        response = await http.get(f"{SANDBOX}/carrier")

    assert response.status_code == 429


def test_the_same_seed_injects_the_same_faults() -> None:
    plan = FaultPlan(rules=[FaultRule(error_rate=0.5, slow_rate=0.5, hang_rate=0.1)])

    def run(seed: int) -> list[str | None]:
        faults = FaultInjector(plan, seed)
        return [
            k.value if k else None
            for k, _ in (faults.draw("GET", "/carriers/x") for _ in range(50))
        ]

    assert run(3) == run(3)
    assert run(3) != run(4)
