"""The codec server's OpenAPI description, generated from its models and routes' answers
(`python starter.py schema` writes it to schemas/codec-openapi.json).

Temporal's remote codec protocol: `POST /encode` and `POST /decode` take and return
`{"payloads": [{"metadata": {NAME: BASE64}, "data": BASE64}]}`, payloads in protobuf JSON form.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from codec_server.server import ALLOWED_HEADERS
from plumbing.encryption import CIPHER, CIPHER_METADATA, ENCODING, KEY_ID_METADATA

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "schemas" / "codec-openapi.json"
"""The codec server's OpenAPI description, as committed."""

BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
"""Standard base64 with its padding, the only form the server reads."""

Base64 = Annotated[str, Field(pattern=BASE64, description="Bytes, in standard base64.")]


class Payload(BaseModel):
    """One Temporal payload: its metadata (`encoding` says how `data` is encoded) and data."""

    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Base64] = Field(
        default_factory=dict, description="Each value in base64 (`encoding`: `json/plain`...)."
    )
    data: Base64 = Field("", description="The payload's bytes, in base64.")


class Payloads(BaseModel):
    """Payloads to encode or decode, or their encoded or decoded form, in the same order."""

    model_config = ConfigDict(extra="forbid")

    payloads: list[Payload]


class CodecError(BaseModel):
    """Why the request was refused, in one sentence that never quotes a payload."""

    error: str


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref(CodecError)}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


CORS_HEADERS = {
    "Access-Control-Allow-Origin": {
        "description": "The request's Origin, when it is an allowed origin.",
        "schema": {"type": "string"},
    },
    "Access-Control-Allow-Credentials": {
        "description": "`true`, with an allowed Origin.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}

ORIGIN = {
    "name": "Origin",
    "in": "header",
    "required": False,
    "description": "The Web UI's origin, when a browser calls: it must be a configured one "
    "(RETURNFLOW_CODEC_ORIGINS), or the answer is 403 without CORS headers.",
    "schema": {"type": "string"},
}

NAMESPACE = {
    "name": "X-Namespace",
    "in": "header",
    "required": False,
    "description": "Whose payloads these are: one of RETURNFLOW_CODEC_NAMESPACES (default: the "
    "first of them).",
    "schema": {"type": "string"},
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


PLAIN_EXAMPLE = {"metadata": {"encoding": _b64(b"json/plain")}, "data": _b64(b'"A. Martin"')}
SEALED_EXAMPLE = {
    "metadata": {
        "encoding": _b64(ENCODING),
        KEY_ID_METADATA: _b64(b"payload-key-2026-a"),
        CIPHER_METADATA: _b64(CIPHER),
    },
    "data": _b64(bytes(range(48))),
}
EXAMPLES = {
    "encode": {"plain": {"summary": "A JSON payload", "value": {"payloads": [PLAIN_EXAMPLE]}}},
    "decode": {
        "sealed": {"summary": "An encrypted payload", "value": {"payloads": [SEALED_EXAMPLE]}},
        "plain": {"summary": "A payload never encrypted", "value": {"payloads": [PLAIN_EXAMPLE]}},
    },
}


def _transform(action: str, summary: str, extra: dict[int, dict[str, Any]]) -> dict[str, Any]:
    answers: dict[int, dict[str, Any]] = {
        200: {
            "description": f"The {action}d payloads, in the order given.",
            "headers": CORS_HEADERS,
            "content": {"application/json": {"schema": _ref(Payloads)}},
        },
        400: _error("The body is not JSON, or not payloads; the message names the field."),
        401: _error(
            "No bearer token, or one that is not valid (and no trusted origin).",
            {
                "WWW-Authenticate": {
                    "description": '`Bearer realm="returnflow-codec"`.',
                    "schema": {"type": "string"},
                }
            },
        ),
        403: _error("The Origin is not allowed, or the namespace is not served here."),
        408: _error("The body did not arrive within RETURNFLOW_HTTP_BODY_TIMEOUT_SECONDS."),
        413: _error("The body is over RETURNFLOW_CODEC_MAX_BODY_BYTES."),
        **extra,
    }
    return {
        "tags": ["codec"],
        "summary": summary,
        "operationId": action,
        "parameters": [ORIGIN, NAMESPACE],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _ref(Payloads), "examples": EXAMPLES[action]}
            },
        },
        "responses": {str(status): answer for status, answer in sorted(answers.items())},
    }


def _preflight(action: str) -> dict[str, Any]:
    return {
        "tags": ["codec"],
        "summary": f"The browser's CORS preflight before POST /{action}.",
        "operationId": f"{action}_preflight",
        "parameters": [
            {**ORIGIN, "required": True},
            {
                "name": "Access-Control-Request-Method",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
            },
            {
                "name": "Access-Control-Request-Headers",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
            },
        ],
        "security": [],
        "responses": {
            "204": {
                "description": "An allowed origin may POST with these headers.",
                "headers": {
                    **CORS_HEADERS,
                    "Access-Control-Allow-Methods": {
                        "schema": {"type": "string", "enum": ["POST, OPTIONS"]}
                    },
                    "Access-Control-Allow-Headers": {
                        "schema": {"type": "string", "enum": [ALLOWED_HEADERS]}
                    },
                    "Access-Control-Max-Age": {"schema": {"type": "string"}},
                },
            },
            "403": _error("The Origin is not allowed: no CORS headers."),
        },
    }


def openapi() -> dict[str, Any]:
    """The codec server's OpenAPI description."""
    models: list[type[BaseModel]] = [Payloads, Payload, CodecError]
    _, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/components/schemas/{model}"
    )
    unknown_key = {
        422: _error(
            "A payload is encrypted under a key this server does not hold, or fails its "
            "authentication (altered, or another key under the same ID)."
        )
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "returnflow codec server",
            "version": "1",
            "description": (
                "Temporal's remote codec protocol, for the Web UI and the `temporal` CLI: "
                "payloads encrypted with AES-256-GCM by returnflow, decrypted for the staff "
                "allowed to read them. Every request needs a bearer token: a configured "
                "static token (RETURNFLOW_CODEC_TOKENS) or a JWT signed by a key of the "
                "configured JWKS, with its issuer and audience. Origins listed in "
                "RETURNFLOW_CODEC_TRUSTED_ORIGINS are served without one (a codec server on "
                "loopback only). A browser's Origin must be a configured UI origin."
            ),
        },
        "paths": {
            "/encode": {
                "post": _transform("encode", "Encrypt payloads under the current key.", {}),
                "options": _preflight("encode"),
            },
            "/decode": {
                "post": _transform(
                    "decode",
                    "Decrypt payloads (those never encrypted come back as they are).",
                    unknown_key,
                ),
                "options": _preflight("decode"),
            },
            "/healthz": {
                "get": {
                    "tags": ["health"],
                    "summary": "The codec server answers.",
                    "operationId": "healthz",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "Up.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "status": {"type": "string", "enum": ["ok"]}
                                        },
                                        "required": ["status"],
                                    }
                                }
                            },
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": definitions["$defs"],
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A static token of RETURNFLOW_CODEC_TOKENS.",
                },
                "jwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A JWT of the identity provider (RETURNFLOW_CODEC_JWKS_URL), "
                    "with RETURNFLOW_CODEC_JWT_AUDIENCE, the issuer and the required claim.",
                },
            },
        },
        "security": [{"token": []}, {"jwt": []}],
    }


def openapi_document() -> str:
    """The codec server's OpenAPI description as JSON text, the same on every machine."""
    return json.dumps(openapi(), indent=2, ensure_ascii=False) + "\n"
