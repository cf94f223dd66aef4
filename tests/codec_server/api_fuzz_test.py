"""The codec server against its OpenAPI description (schemas/codec-openapi.json): Schemathesis
generates requests from it, with a staff token, another token or none, from the UI's origin or
not, and every answer must be no server error, and of a status, content type and shape the
description gives. `make test` plays a few examples per operation, `make fuzz-api` many."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from pydantic import SecretStr
from starlette.applications import Starlette

from codec_server.openapi import openapi
from codec_server.server import CodecAccess, create_codec_app
from plumbing.settings import Settings
from tests.api_fuzz import CONFORMANCE, fuzz_settings, pick, timeout
from tests.keys import codec_for_tests

UI = "https://temporal.marketplace.example"
STAFF_TOKEN = "support-desk-token-0123456789"

pytestmark = pytest.mark.timeout(timeout())

schema = schemathesis.openapi.from_dict(openapi())


@pytest.fixture(scope="module")
def codec_app() -> Starlette:
    settings = Settings(
        codec_origins=UI,
        codec_tokens=SecretStr(f"support-desk={STAFF_TOKEN}"),
        codec_namespaces="returns,returns-staging",
        codec_max_body_bytes=16 * 1024,
    )
    http = httpx.AsyncClient()
    access = CodecAccess.from_settings(settings, "returns", http)
    return create_codec_app(codec_for_tests(), access, settings.codec_max_body_bytes)


TOKENS = [STAFF_TOKEN, STAFF_TOKEN, STAFF_TOKEN, "not-a-token-anyone-was-given", None]


@schema.parametrize()
@fuzz_settings()
def test_the_codec_server_answers_every_request_as_described(
    case: schemathesis.Case[Any], codec_app: Starlette
) -> None:
    token = pick(case, "token", TOKENS)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    case.call_and_validate(app=codec_app, headers=headers, checks=CONFORMANCE)
