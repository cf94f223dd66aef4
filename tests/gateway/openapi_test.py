"""The gateway's OpenAPI description, committed in schemas/ and kept current."""

from __future__ import annotations

import json

from gateway.app import OPENAPI_PATH, REQUEST_BODIES, openapi_document


def test_the_committed_openapi_description_is_the_one_the_gateway_generates() -> None:
    assert OPENAPI_PATH.read_text("utf-8") == openapi_document(), (
        "schemas/gateway-openapi.json is stale: run `python starter.py schema`"
    )


def test_every_route_that_reads_its_own_body_describes_it() -> None:
    api = json.loads(OPENAPI_PATH.read_text("utf-8"))

    for (path, method), model in REQUEST_BODIES.items():
        body = api["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        assert model.__name__ in api["components"]["schemas"]
