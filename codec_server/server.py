"""The codec server: lets the Temporal Web UI (and the `temporal` CLI) show decrypted payloads to
the staff allowed to read them, and nobody else.

Temporal's remote codec protocol: `POST /decode` and `POST /encode` take and return
`{"payloads": [...]}` in protobuf JSON form; the `X-Namespace` header says whose payloads they
are. The browser calls this server directly from the Web UI's page, so it answers CORS for the
configured UI origins only, and refuses any other origin outright.

Every request needs a bearer token: a configured static token, or a JWT signed by a key of the
configured JWKS (what the Web UI forwards when it sits behind single sign-on and "pass access
token" is on), with the configured issuer and audience. Origins listed as trusted are served
without a token: that is for the embedded dev stack only, whose Web UI has no login.
Every request is logged with who asked, for which namespace, and how many payloads; never
their content.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payloads

from plumbing import json_input
from plumbing.bearer import matching, parse_tokens, presented_token
from plumbing.encryption import EncryptionCodec, PayloadKeyError
from plumbing.json_input import NotJson
from plumbing.settings import Settings

log = structlog.get_logger("codec-server")

ALLOWED_HEADERS = "Authorization, Authorization-Extras, Content-Type, X-Namespace"
"""What the Web UI sends: its user's access token, and, signed in with single sign-on, the ID
token as `Authorization-Extras` (the codec reads neither header beyond `Authorization`, but a
preflight that does not allow one blocks every call)."""
JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
"""Asymmetric algorithms only: a JWKS publishes public keys, never a shared secret."""
JWKS_REFRESH_SECONDS = 300.0
JWKS_MIN_REFETCH_SECONDS = 30.0
"""An unknown `kid` refetches the JWKS (the provider rotated), at most this often."""


class CodecConfigError(ValueError):
    """The codec server's settings are inconsistent; the message names the setting."""


class Refused(Exception):
    """A request the codec server will not serve: its status and a sentence why."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _origin(value: str) -> str:
    return value.rstrip("/").lower()


@dataclass
class JwksVerifier:
    """Bearer JWTs signed by a key of the identity provider's JWKS."""

    url: str
    audience: str
    issuer: str | None
    http: httpx.AsyncClient
    required: tuple[str, str] | None = None
    """A claim and the value it must equal (or, for a list, hold)."""
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    _fetched_at: float = float("-inf")
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def subject(self, token: str) -> str | None:
        """The token's subject when it is valid, else None."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        kid = header.get("kid")
        if header.get("alg") not in JWT_ALGORITHMS or not isinstance(kid, str):
            return None
        key = await self._key(kid)
        if key is None:
            return None
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[header["alg"]],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub"]},
                leeway=30,
            )
        except (jwt.PyJWTError, TypeError, ValueError) as err:
            # TypeError and ValueError: the header names an algorithm of another kind than the
            # key its `kid` names (ES256 on an RSA key), which PyJWT does not raise as its own.
            log.info("codec token refused", reason=type(err).__name__)
            return None
        if self.required is not None:
            claim, value = self.required
            held = claims.get(claim)
            if not (held == value or (isinstance(held, list) and value in held)):
                log.info("codec token refused", reason=f"no {claim}={value}", sub=claims["sub"])
                return None
        return f"jwt:{claims['sub']}"

    async def _key(self, kid: str) -> jwt.PyJWK | None:
        if self._due(kid):
            # Every request that finds the keys due waits for one fetch: the Web UI asks for
            # several payloads at once, and none may be refused while the keys are on their way.
            async with self._lock:
                if self._due(kid):
                    await self._fetch()
        return self._keys.get(kid)

    def _due(self, kid: str) -> bool:
        """The keys are old, or lack `kid` and were last fetched long enough ago to ask again."""
        age = time.monotonic() - self._fetched_at
        rotated = kid not in self._keys and age > JWKS_MIN_REFETCH_SECONDS
        return age > JWKS_REFRESH_SECONDS or rotated

    async def _fetch(self) -> None:
        try:
            answer = await self.http.get(self.url)
            answer.raise_for_status()
            document = answer.json()
            if not isinstance(document, dict):
                raise ValueError("the key set is not a JSON object")
            keyset = jwt.PyJWKSet.from_dict(document)
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as err:
            # Keep the keys we had: a provider's outage must not lock staff out at once.
            log.warning("JWKS unavailable", url=self.url, error=str(err))
            return
        finally:
            self._fetched_at = time.monotonic()
        self._keys = {k.key_id: k for k in keyset.keys if k.key_id}


@dataclass
class CodecAccess:
    """Who may use the codec server, from where."""

    origins: set[str]
    trusted_origins: set[str]
    tokens: list[tuple[str, bytes]]
    """(`token:NAME`, token) of each static token."""
    jwks: JwksVerifier | None
    namespaces: list[str]

    @classmethod
    def from_settings(
        cls, settings: Settings, namespace: str, http: httpx.AsyncClient
    ) -> CodecAccess:
        trusted = {_origin(o) for o in split_list(settings.codec_trusted_origins)}
        origins = {_origin(o) for o in split_list(settings.codec_origins)} | trusted
        jwks = None
        if settings.codec_jwks_url:
            if not settings.codec_jwt_audience:
                raise CodecConfigError(
                    "RETURNFLOW_CODEC_JWT_AUDIENCE is required with RETURNFLOW_CODEC_JWKS_URL: "
                    "without it any token of the identity provider would do"
                )
            jwks = JwksVerifier(
                settings.codec_jwks_url,
                settings.codec_jwt_audience,
                settings.codec_jwt_issuer,
                http,
                _required_claim(settings.codec_jwt_required_claim),
            )
        access = cls(
            origins=origins,
            trusted_origins=trusted,
            tokens=[
                (f"token:{name}", secret)
                for name, secret in parse_tokens("RETURNFLOW_CODEC_TOKENS", settings.codec_tokens)
            ],
            jwks=jwks,
            namespaces=split_list(settings.codec_namespaces) or [namespace],
        )
        if trusted and not _is_loopback(settings.codec_host):
            raise CodecConfigError(
                "RETURNFLOW_CODEC_TRUSTED_ORIGINS serves without a token, which only a codec "
                f"server on loopback may do (RETURNFLOW_CODEC_HOST is {settings.codec_host}): "
                "use RETURNFLOW_CODEC_TOKENS or RETURNFLOW_CODEC_JWKS_URL"
            )
        if not access.tokens and jwks is None and not trusted:
            raise CodecConfigError(
                "the codec server would refuse everyone: set RETURNFLOW_CODEC_TOKENS or "
                "RETURNFLOW_CODEC_JWKS_URL (and RETURNFLOW_CODEC_ORIGINS for the Web UI)"
            )
        return access

    def check_origin(self, origin: str | None) -> None:
        if origin is not None and _origin(origin) not in self.origins:
            raise Refused(403, f"origin {origin} is not allowed to use this codec server")

    async def who(self, request: Request) -> str:
        """The caller's name for the audit log; Refused(401) without valid credentials."""
        origin = request.headers.get("origin")
        token = presented_token(request.headers.get("authorization"))
        if token is not None:
            found = matching(self.tokens, token)
            if found is None and self.jwks is not None:
                found = await self.jwks.subject(token.decode("utf-8", "replace"))
            if found is not None:
                return found
        if origin is not None and _origin(origin) in self.trusted_origins:
            return f"trusted-origin:{_origin(origin)}"
        reason = "the bearer token is not valid" if token else "a bearer token is required"
        raise Refused(401, reason, {"WWW-Authenticate": 'Bearer realm="returnflow-codec"'})

    def namespace(self, request: Request) -> str:
        asked = request.headers.get("x-namespace") or self.namespaces[0]
        if asked not in self.namespaces:
            raise Refused(403, f"namespace {asked!r} is not served by this codec server")
        return asked


def _required_claim(setting: str | None) -> tuple[str, str] | None:
    if setting is None:
        return None
    claim, sep, value = setting.partition("=")
    if not sep or not claim.strip() or not value.strip():
        raise CodecConfigError(
            "RETURNFLOW_CODEC_JWT_REQUIRED_CLAIM: CLAIM=VALUE, e.g. groups=support"
        )
    return claim.strip(), value.strip()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_codec_app(
    codec: EncryptionCodec,
    access: CodecAccess,
    max_body_bytes: int,
    body_timeout_seconds: float = 30.0,
) -> Starlette:
    """The ASGI app: /encode, /decode, /healthz."""

    def cors(origin: str | None) -> dict[str, str]:
        if origin is None:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }

    def refusal(err: Refused, origin: str | None, allowed: bool) -> JSONResponse:
        headers = {**err.headers, **(cors(origin) if allowed else {})}
        return JSONResponse({"error": err.message}, status_code=err.status, headers=headers)

    def endpoint(
        action: str, transform: Callable[[Payloads], Awaitable[Payloads]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            origin = request.headers.get("origin")
            try:
                access.check_origin(origin)
            except Refused as err:
                log.warning("codec request refused", action=action, status=403, origin=origin)
                return refusal(err, origin, allowed=False)
            if request.method == "OPTIONS":
                return Response(
                    status_code=204,
                    headers={
                        **cors(origin),
                        "Access-Control-Allow-Methods": "POST, OPTIONS",
                        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                        "Access-Control-Max-Age": "600",
                    },
                )
            try:
                who = await access.who(request)
                namespace = access.namespace(request)
                payloads = _parse(await _read(request, max_body_bytes, body_timeout_seconds))
                answer = await transform(payloads)
            except Refused as err:
                log.warning(
                    "codec request refused",
                    action=action,
                    status=err.status,
                    origin=origin,
                    reason=err.message,
                )
                return refusal(err, origin, allowed=True)
            log.info(
                "codec request",
                action=action,
                who=who,
                namespace=namespace,
                payloads=len(payloads.payloads),
            )
            return JSONResponse(_document(answer), headers=cors(origin))

        return handle

    async def decode(payloads: Payloads) -> Payloads:
        try:
            return Payloads(payloads=await codec.decode(payloads.payloads))
        except PayloadKeyError as err:
            raise Refused(422, str(err)) from None

    async def encode(payloads: Payloads) -> Payloads:
        return Payloads(payloads=await codec.encode(payloads.payloads))

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def not_served(_request: Request, exc: Exception) -> Response:
        """Starlette's own 404 and 405 in the codec server's error shape, quoting nothing."""
        assert isinstance(exc, HTTPException)
        words = {404: "no such path here", 405: "this path does not take this method"}
        headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
        message = words.get(exc.status_code, "refused")
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=headers)

    methods = ["POST", "OPTIONS"]
    return Starlette(
        exception_handlers={HTTPException: not_served},
        routes=[
            Route("/decode", endpoint("decode", decode), methods=methods),
            Route("/encode", endpoint("encode", encode), methods=methods),
            Route("/healthz", healthz, methods=["GET"]),
        ],
    )


async def _read(request: Request, limit: int, within_seconds: float) -> bytes:
    body = bytearray()
    try:
        async with asyncio.timeout(within_seconds):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise Refused(413, f"the request is over {limit} bytes")
    except TimeoutError:
        raise Refused(408, f"the request did not arrive within {within_seconds:g} s") from None
    return bytes(body)


def _parse(body: bytes) -> Payloads:
    """The request's payloads; an error names the field, never quotes what it holds."""
    try:
        document: Any = json_input.loads(body)
    except NotJson as err:
        raise Refused(400, f"body: not JSON ({err.problem})") from None
    if not isinstance(document, dict) or not isinstance(document.get("payloads"), list):
        raise Refused(400, 'payloads: required, a list of payloads ({"payloads": [...]})')
    parsed = Payloads()
    for index, item in enumerate(document["payloads"]):
        where = f"payloads[{index}]"
        if not isinstance(item, dict) or set(item) - {"metadata", "data"}:
            raise Refused(400, f"{where}: an object with metadata and data only")
        metadata = item.get("metadata", {})
        if not isinstance(metadata, dict):
            raise Refused(400, f"{where}.metadata: an object of base64 strings")
        payload = parsed.payloads.add()
        for name, value in metadata.items():
            payload.metadata[name] = _base64(value, f"{where}.metadata.{name}")
        payload.data = _base64(item.get("data", ""), f"{where}.data")
    return parsed


def _document(payloads: Payloads) -> dict[str, Any]:
    """The answer in the protocol's JSON form: every payload with its metadata and data, even
    empty, and nothing else (protobuf's JSON form leaves empty fields out, and would add
    fields the protocol does not have)."""
    return {
        "payloads": [
            {
                "metadata": {name: _b64(value) for name, value in payload.metadata.items()},
                "data": _b64(payload.data),
            }
            for payload in payloads.payloads
        ]
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _base64(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise Refused(400, f"{where}: a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(400, f"{where}: not base64") from None
