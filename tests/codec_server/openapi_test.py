"""The codec server's OpenAPI description, committed in schemas/ and kept current, and true to
the routes the server serves."""

from __future__ import annotations

import json

import httpx
from pydantic import SecretStr
from starlette.routing import Route

from codec_server.openapi import OPENAPI_PATH, openapi_document
from codec_server.server import CodecAccess, create_codec_app
from plumbing.settings import Settings
from tests.keys import codec_for_tests


def test_the_committed_openapi_description_is_the_one_the_codec_server_generates() -> None:
    assert OPENAPI_PATH.read_text("utf-8") == openapi_document(), (
        "schemas/codec-openapi.json is stale: run `python starter.py schema`"
    )


def test_it_describes_every_route_and_method_the_codec_server_serves() -> None:
    settings = Settings(codec_tokens=SecretStr("desk=a-token-long-enough-0001"))
    access = CodecAccess.from_settings(settings, "returns", httpx.AsyncClient())
    app = create_codec_app(codec_for_tests(), access, settings.codec_max_body_bytes)
    served = {
        (route.path, method.lower())
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }

    paths = json.loads(OPENAPI_PATH.read_text("utf-8"))["paths"]
    described = {(path, method) for path, operations in paths.items() for method in operations}
    assert described == served
