"""The codec server over a real socket: Temporal's remote codec protocol for the Web UI, served
to the configured UI origins and to bearer tokens (static or SSO JWTs), refused to anyone else."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from google.protobuf import json_format
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads

from codec_server.server import CodecAccess, CodecConfigError, create_codec_app
from plumbing.bearer import TokenConfigError
from plumbing.encryption import EncryptionCodec
from plumbing.serving import HostedApp
from plumbing.settings import Settings
from tests.keys import NEXT_KEY, NEXT_KEY_ID, TEST_KEYRING

UI = "https://temporal.marketplace.example"
EMBEDDED_UI = "http://127.0.0.1:8233"
ELSEWHERE = "https://evil.example"
STAFF_TOKEN = "support-desk-token-0123456789"
AUDIENCE = "returnflow-codec"
ISSUER = "https://sso.marketplace.example/"
PLAIN = Payload(
    metadata={"encoding": b"json/plain"},
    data=b'{"name": "Camille Durand", "line1": "12 rue des Lilas"}',
)


@dataclass
class IdentityProvider:
    """A JWKS endpoint on loopback and the private keys behind it."""

    url: str
    keys: dict[str, RSAPrivateKey]
    slow: float = 0.0
    """Seconds the JWKS endpoint takes to answer."""
    document: Any = None
    """What the JWKS endpoint answers in place of the key set, when set."""

    def rotate(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def token(self, kid: str = "sso-1", **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "sub": "agent-42",
            "aud": AUDIENCE,
            "iss": ISSUER,
            "iat": now,
            "exp": now + 300,
            "groups": ["staff", "returns-support"],
            **overrides,
        }
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
async def identity_provider() -> AsyncIterator[IdentityProvider]:
    keys = {"sso-1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    provider: IdentityProvider | None = None

    async def jwks(_request: Request) -> JSONResponse:
        assert provider is not None
        await asyncio.sleep(provider.slow)
        if provider.document is not None:
            return JSONResponse(provider.document)
        published = []
        for kid, key in keys.items():
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            published.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return JSONResponse({"keys": published})

    app = Starlette(routes=[Route("/.well-known/jwks.json", jwks)])
    async with HostedApp(app) as served:
        provider = IdentityProvider(f"{served.url}/.well-known/jwks.json", keys)
        yield provider


@pytest.fixture
async def codec_server(identity_provider: IdentityProvider) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        codec_origins=UI,
        codec_trusted_origins=EMBEDDED_UI,
        codec_tokens=SecretStr(f"support-desk={STAFF_TOKEN}"),
        codec_jwks_url=identity_provider.url,
        codec_jwt_audience=AUDIENCE,
        codec_jwt_issuer=ISSUER,
        codec_jwt_required_claim="groups=returns-support",
        codec_namespaces="returns,returns-staging",
        codec_max_body_bytes=64 * 1024,
    )
    async with httpx.AsyncClient(timeout=10) as jwks_http:
        access = CodecAccess.from_settings(settings, "returns", jwks_http)
        app = create_codec_app(EncryptionCodec(TEST_KEYRING), access, settings.codec_max_body_bytes)
        async with HostedApp(app) as served, httpx.AsyncClient(base_url=served.url) as http:
            yield http


def body(*payloads: Payload) -> dict[str, Any]:
    return json_format.MessageToDict(Payloads(payloads=payloads))


def payloads_of(answer: httpx.Response) -> list[Payload]:
    return list(json_format.ParseDict(answer.json(), Payloads()).payloads)


async def sealed(plain: Payload = PLAIN) -> Payload:
    [payload] = await EncryptionCodec(TEST_KEYRING).encode([plain])
    return payload


def headers(
    *, origin: str | None = None, token: str | None = None, namespace: str = "returns"
) -> dict[str, str]:
    found = {"Content-Type": "application/json", "X-Namespace": namespace}
    if origin:
        found["Origin"] = origin
    if token:
        found["Authorization"] = f"Bearer {token}"
    return found


# --- The Web UI in a browser ------------------------------------------------------------------


async def test_the_browser_asks_first_and_the_ui_origin_is_allowed(
    codec_server: httpx.AsyncClient,
) -> None:
    preflight = await codec_server.options(
        "/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            # A user signed in with single sign-on: the UI sends the ID token too.
            "Access-Control-Request-Headers": (
                "authorization,authorization-extras,content-type,x-namespace"
            ),
        },
    )

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == UI
    assert preflight.headers["access-control-allow-methods"] == "POST, OPTIONS"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    wanted = {"authorization", "authorization-extras", "content-type", "x-namespace"}
    assert wanted <= set(allowed.split(", "))
    assert preflight.headers["access-control-allow-credentials"] == "true"


async def test_the_ui_with_a_staff_token_reads_the_decrypted_payload(
    codec_server: httpx.AsyncClient,
) -> None:
    answer = await codec_server.post(
        "/decode", json=body(await sealed()), headers=headers(origin=UI, token=STAFF_TOKEN)
    )

    assert answer.status_code == 200, answer.text
    assert payloads_of(answer) == [PLAIN]
    assert answer.headers["access-control-allow-origin"] == UI


async def test_another_origin_is_refused_even_with_a_valid_token(
    codec_server: httpx.AsyncClient,
) -> None:
    preflight = await codec_server.options(
        "/decode", headers={"Origin": ELSEWHERE, "Access-Control-Request-Method": "POST"}
    )
    answer = await codec_server.post(
        "/decode", json=body(await sealed()), headers=headers(origin=ELSEWHERE, token=STAFF_TOKEN)
    )

    assert preflight.status_code == 403 and answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers
    assert answer.json() == {
        "error": "origin https://evil.example is not allowed to use this codec server"
    }
    assert "Camille" not in answer.text


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "a bearer token is required"),
        ("not-the-staff-token-at-all", "the bearer token is not valid"),
    ],
)
async def test_without_a_valid_token_nothing_is_decrypted(
    codec_server: httpx.AsyncClient, token: str | None, reason: str
) -> None:
    answer = await codec_server.post(
        "/decode", json=body(await sealed()), headers=headers(origin=UI, token=token)
    )

    assert answer.status_code == 401
    assert answer.json() == {"error": reason}
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert "Camille" not in answer.text


async def test_the_embedded_ui_origin_is_trusted_without_a_token(
    codec_server: httpx.AsyncClient,
) -> None:
    answer = await codec_server.post(
        "/decode", json=body(await sealed()), headers=headers(origin=EMBEDDED_UI)
    )

    assert answer.status_code == 200
    assert payloads_of(answer) == [PLAIN]


# --- Single sign-on: the access token the Web UI passes on -------------------------------------


async def test_a_jwt_signed_by_the_identity_provider_is_accepted(
    codec_server: httpx.AsyncClient, identity_provider: IdentityProvider
) -> None:
    answer = await codec_server.post(
        "/decode",
        json=body(await sealed()),
        headers=headers(origin=UI, token=identity_provider.token()),
    )

    assert answer.status_code == 200, answer.text
    assert payloads_of(answer) == [PLAIN]


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-app"},
        {"iss": "https://someone-else.example/"},
        {"exp": int(time.time()) - 3600},
        {"groups": ["staff", "payments"]},
        {"groups": "staff"},
    ],
    ids=["another audience", "another issuer", "expired", "not in the group", "no group"],
)
async def test_a_jwt_for_something_else_or_expired_is_refused(
    codec_server: httpx.AsyncClient, identity_provider: IdentityProvider, claims: dict[str, Any]
) -> None:
    answer = await codec_server.post(
        "/decode",
        json=body(await sealed()),
        headers=headers(origin=UI, token=identity_provider.token(**claims)),
    )

    assert answer.status_code == 401


async def test_a_jwt_signed_by_a_key_the_provider_does_not_publish_is_refused(
    codec_server: httpx.AsyncClient,
) -> None:
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode(
        {"sub": "agent-42", "aud": AUDIENCE, "iss": ISSUER, "exp": now + 300},
        impostor,
        algorithm="RS256",
        headers={"kid": "sso-1"},
    )
    shared_secret = jwt.encode(
        {"sub": "agent-42", "aud": AUDIENCE, "iss": ISSUER, "exp": now + 300},
        "a-guessable-shared-secret-of-32-bytes",
        algorithm="HS256",
        headers={"kid": "sso-1"},
    )

    other_kind = jwt.encode(
        {"sub": "agent-42", "aud": AUDIENCE, "iss": ISSUER, "exp": now + 300},
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": "sso-1"},  # an RSA key's
    )

    for token in (forged, shared_secret, other_kind):
        answer = await codec_server.post(
            "/decode", json=body(await sealed()), headers=headers(origin=UI, token=token)
        )
        assert answer.status_code == 401


async def test_a_key_the_provider_rotated_in_is_fetched_when_first_seen(
    codec_server: httpx.AsyncClient, identity_provider: IdentityProvider, monkeypatch: Any
) -> None:
    first = await codec_server.post(
        "/decode",
        json=body(await sealed()),
        headers=headers(origin=UI, token=identity_provider.token()),
    )
    identity_provider.rotate("sso-2")
    monkeypatch.setattr("codec_server.server.JWKS_MIN_REFETCH_SECONDS", 0.0)

    second = await codec_server.post(
        "/decode",
        json=body(await sealed()),
        headers=headers(origin=UI, token=identity_provider.token("sso-2")),
    )

    assert first.status_code == 200 and second.status_code == 200


async def test_the_web_uis_first_requests_at_once_all_wait_for_the_keys(
    codec_server: httpx.AsyncClient, identity_provider: IdentityProvider
) -> None:
    """A workflow's page asks for several payloads at once, just after the codec server
    started: none may be refused for the keys not being there yet."""
    identity_provider.slow = 0.3
    sent = [
        codec_server.post(
            "/decode",
            json=body(await sealed()),
            headers=headers(origin=UI, token=identity_provider.token()),
        )
        for _ in range(5)
    ]

    answers = await asyncio.gather(*sent)

    assert [a.status_code for a in answers] == [200] * 5


@pytest.mark.parametrize("document", [[], "keys", {"keys": "none"}], ids=["list", "text", "keys"])
async def test_a_key_set_that_is_no_key_set_refuses_the_token_not_the_server(
    codec_server: httpx.AsyncClient, identity_provider: IdentityProvider, document: Any
) -> None:
    identity_provider.document = document

    answer = await codec_server.post(
        "/decode",
        json=body(await sealed()),
        headers=headers(origin=UI, token=identity_provider.token()),
    )

    assert answer.status_code == 401


# --- The protocol ------------------------------------------------------------------------------


async def test_encode_then_decode_gives_back_the_payload(
    codec_server: httpx.AsyncClient,
) -> None:
    encoded = await codec_server.post(
        "/encode", json=body(PLAIN), headers=headers(token=STAFF_TOKEN)
    )
    [payload] = payloads_of(encoded)
    decoded = await codec_server.post(
        "/decode", json=body(payload), headers=headers(token=STAFF_TOKEN)
    )

    assert payload.metadata["encoding"] == b"binary/encrypted"
    assert b"Camille" not in payload.data
    assert payloads_of(decoded) == [PLAIN]


async def test_the_namespace_header_is_honoured(codec_server: httpx.AsyncClient) -> None:
    staging = await codec_server.post(
        "/decode",
        json=body(await sealed()),
        headers=headers(token=STAFF_TOKEN, namespace="returns-staging"),
    )
    other = await codec_server.post(
        "/decode",
        json=body(await sealed()),
        headers=headers(token=STAFF_TOKEN, namespace="payments"),
    )

    assert staging.status_code == 200
    assert other.status_code == 403
    assert other.json() == {"error": "namespace 'payments' is not served by this codec server"}


async def test_a_payload_under_an_unknown_key_is_refused_naming_the_key(
    codec_server: httpx.AsyncClient,
) -> None:
    rotated = TEST_KEYRING.with_current(NEXT_KEY_ID, base64.b64decode(NEXT_KEY))
    [foreign] = await EncryptionCodec(rotated).encode([PLAIN])

    answer = await codec_server.post(
        "/decode", json=body(foreign), headers=headers(token=STAFF_TOKEN)
    )

    assert answer.status_code == 422
    assert "payload encrypted with key 'tests-2026-b'" in answer.json()["error"]


@pytest.mark.parametrize("action", ["encode", "decode"])
async def test_every_answer_names_its_payloads_even_none(
    codec_server: httpx.AsyncClient, action: str
) -> None:
    none = await codec_server.post(
        f"/{action}", json={"payloads": []}, headers=headers(token=STAFF_TOKEN)
    )
    empty = await codec_server.post(
        f"/{action}", json={"payloads": [{}]}, headers=headers(token=STAFF_TOKEN)
    )

    assert none.status_code == 200
    assert none.json() == {"payloads": []}
    [payload] = empty.json()["payloads"]
    assert set(payload) == {"metadata", "data"}


async def test_a_payload_never_encrypted_comes_back_as_it_is(
    codec_server: httpx.AsyncClient,
) -> None:
    answer = await codec_server.post(
        "/decode", json=body(PLAIN), headers=headers(token=STAFF_TOKEN)
    )

    assert payloads_of(answer) == [PLAIN]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"not json", "body: not JSON"),
        (b"[" * 2_000 + b"]" * 2_000, "body: not JSON (nested more than 64 levels deep)"),
        (b'{"payloads": [{"data": NaN}]}', "body: not JSON (NaN is not a JSON number)"),
        (b'{"payloads": [{"data": "\\ud800"}]}', "body: not JSON (a string holds an escaped"),
        (b'{"payloads": "\xff"}', "body: not JSON (the body is not UTF-8 text)"),
        (b'{"payload": []}', 'payloads: required, a list of payloads ({"payloads": [...]})'),
        (b'{"payloads": [{"data": "%%%"}]}', "payloads[0].data: not base64"),
        (b'{"payloads": [{"metadata": {"encoding": 5}}]}', "payloads[0].metadata.encoding: a"),
        (b'{"payloads": [{"dta": "x"}]}', "payloads[0]: an object with metadata and data only"),
    ],
)
async def test_a_malformed_request_is_refused_naming_the_field(
    codec_server: httpx.AsyncClient, content: bytes, error: str
) -> None:
    answer = await codec_server.post("/decode", content=content, headers=headers(token=STAFF_TOKEN))

    assert answer.status_code == 400
    assert answer.json()["error"].startswith(error)


async def test_an_oversized_request_is_refused(codec_server: httpx.AsyncClient) -> None:
    huge = Payload(metadata={"encoding": b"json/plain"}, data=b"x" * 100_000)

    answer = await codec_server.post("/encode", json=body(huge), headers=headers(token=STAFF_TOKEN))

    assert answer.status_code == 413


def test_a_required_claim_must_be_claim_equals_value() -> None:
    settings = Settings(
        codec_jwks_url="https://sso.example/jwks.json",
        codec_jwt_audience=AUDIENCE,
        codec_jwt_required_claim="groups",
    )

    with pytest.raises(CodecConfigError, match="RETURNFLOW_CODEC_JWT_REQUIRED_CLAIM: CLAIM=VALUE"):
        CodecAccess.from_settings(settings, "returns", httpx.AsyncClient())


def test_a_jwks_without_an_audience_is_a_configuration_error() -> None:
    settings = Settings(codec_jwks_url="https://sso.example/jwks.json", codec_tokens=None)

    with pytest.raises(CodecConfigError, match="RETURNFLOW_CODEC_JWT_AUDIENCE is required"):
        CodecAccess.from_settings(settings, "returns", httpx.AsyncClient())


def test_trusted_origins_are_refused_on_anything_but_loopback() -> None:
    exposed = Settings(codec_host="0.0.0.0", codec_trusted_origins=EMBEDDED_UI)  # noqa: S104

    with pytest.raises(CodecConfigError, match="only a codec server on loopback may do"):
        CodecAccess.from_settings(exposed, "returns", httpx.AsyncClient())
    for loopback in ("127.0.0.1", "::1", "localhost"):
        settings = Settings(codec_host=loopback, codec_trusted_origins=EMBEDDED_UI)
        assert CodecAccess.from_settings(settings, "returns", httpx.AsyncClient()).trusted_origins


async def test_its_health_says_nothing_about_the_keys(codec_server: httpx.AsyncClient) -> None:
    answer = await codec_server.get("/healthz")

    assert answer.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "tokens", ["support-desk", "support-desk=short", "=no-name-but-long-enough"]
)
def test_a_malformed_token_setting_is_refused_naming_it(tokens: str) -> None:
    settings = Settings(codec_tokens=SecretStr(tokens))

    with pytest.raises(TokenConfigError, match="RETURNFLOW_CODEC_TOKENS: each entry is NAME=TOKEN"):
        CodecAccess.from_settings(settings, "returns", httpx.AsyncClient())


def test_a_codec_server_nobody_could_use_refuses_to_start() -> None:
    with pytest.raises(CodecConfigError, match="would refuse everyone"):
        CodecAccess.from_settings(Settings(), "returns", httpx.AsyncClient())


async def test_an_unknown_path_and_a_wrong_method_are_answered_in_the_error_shape(
    codec_server: httpx.AsyncClient,
) -> None:
    unknown = await codec_server.get("/zq-probe-7f3a")
    wrong_method = await codec_server.get("/decode")

    assert (unknown.status_code, unknown.json()) == (404, {"error": "no such path here"})
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"error": "this path does not take this method"}
    assert set(wrong_method.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert "zq-probe" not in unknown.text
