"""The gateway describes itself and says when it is ready."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from gateway.app import OPENAPI_PATH
from tests.gateway.door import gateway_settings, open_door


async def test_the_gateway_is_ready_when_temporal_answers_and_publishes_its_api(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = gateway_settings("returns", tmp_path)
    async with open_door(time_skipping_env.client, settings) as door:
        health = await door.http.get("/healthz")
        ready = await door.http.get("/readyz")
        api = (await door.http.get("/openapi.json")).json()

    assert health.status_code == ready.status_code == 200
    assert ready.json()["status"] == "ready"
    # What the gateway serves is the description committed in schemas/.
    assert api == json.loads(OPENAPI_PATH.read_text("utf-8"))
    assert set(api["paths"]) >= {
        "/v1/events",
        "/v1/carriers/{carrier}/webhooks",
        "/v1/returns/{return_id}",
        "/v1/returns/{return_id}/return-address",
        "/v1/returns/{return_id}/method",
        "/v1/returns/{return_id}/shipment",
        "/v1/returns/{return_id}/cancel",
        "/v1/returns/{return_id}/attention",
        "/healthz",
        "/readyz",
    }
    answers = api["paths"]["/v1/events"]["post"]["responses"]
    assert {"200", "202", "400", "401", "413", "422", "503"} <= set(answers)
    method = api["paths"]["/v1/returns/{return_id}/method"]["post"]["requestBody"]
    chosen = method["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(api["components"]["schemas"][chosen]["properties"]) == {
        "method",
        "carrier",
        "pickup_date",
        "pickup_address",
    }
    event = api["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    assert event["schema"]["$ref"].endswith("/RetractEvent")


async def test_the_gateway_is_not_ready_when_temporal_refuses_its_credentials(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(**_: object) -> bool:
        raise RPCError("Request unauthorized.", RPCStatusCode.UNAUTHENTICATED, b"")

    monkeypatch.setattr(time_skipping_env.client.service_client, "check_health", refused)
    settings = gateway_settings("returns", tmp_path)
    async with open_door(time_skipping_env.client, settings) as door:
        ready = await door.http.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["error"]["code"] == "temporal_refuses"
    assert "UNAUTHENTICATED" in ready.json()["error"]["message"]
