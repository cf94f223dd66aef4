"""The gateway's OpenAPI description, committed in schemas/ and kept current."""

from __future__ import annotations

import json
from typing import Any

from gateway.app import OPENAPI_PATH, REQUEST_BODIES, openapi_document
from gateway.openapi import ERROR


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


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    api = json.loads(OPENAPI_PATH.read_text("utf-8"))
    return [
        (path, method, operation)
        for path, methods in api["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_error_answer_is_described_in_the_gateways_one_error_shape() -> None:
    api = json.loads(OPENAPI_PATH.read_text("utf-8"))
    shape = api["components"]["schemas"][ERROR]

    assert shape["required"] == ["error"]
    assert set(shape["properties"]) == {"error", "dead_letter_id"}
    assert shape["properties"]["error"]["required"] == ["code", "message"]
    for path, method, operation in operations():
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": f"#/components/schemas/{ERROR}"}, (method, path, status)


def test_every_route_declares_the_answers_the_gateway_may_give_on_any_route() -> None:
    for path, method, operation in operations():
        answers = operation["responses"]
        assert {"404", "405", "413", "429"} <= set(answers), (method, path)
        assert "Retry-After" in answers["429"]["headers"]
        if method == "post":
            assert "408" in answers
        if path == "/v1/events":
            assert "409" in answers
        if path.startswith("/v1/returns/"):
            assert {"401", "403"} <= set(answers)
            assert "WWW-Authenticate" in answers["401"]["headers"]
