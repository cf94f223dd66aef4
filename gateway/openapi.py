"""The gateway's error answers in its OpenAPI description: one error shape, referenced by every
error response, and the answers every route may give besides its own (an unknown path or
method, a body too large or too slow, a source over its rate limits)."""

from __future__ import annotations

import json
from typing import Any

ERROR = "Error"
"""The component of the gateway's one error shape (`gateway.http.error_body`)."""

ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR,
    "description": "The gateway's one error shape. It never quotes what was sent.",
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "What went wrong, for machines: `bad_signature`, "
                    "`invalid_event`, `bad_token`, `unknown_return`, `rate_limited`...",
                },
                "message": {"type": "string", "description": "The same, for people."},
                "problems": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "One `field: problem` per fault, when fields are to blame.",
                },
            },
            "required": ["code", "message"],
            "additionalProperties": False,
        },
        "dead_letter_id": {
            "type": "string",
            "description": "The dead letter the refused payload is kept as (order events and "
            "carriers' webhooks), to be replayed once fixed.",
        },
    },
    "required": ["error"],
    "additionalProperties": False,
}

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before sending it again.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}

WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": 'With a missing or unknown bearer token: `Bearer realm="returnflow"`.',
        "schema": {"type": "string"},
    }
}

EVERY_ROUTE: dict[str, dict[str, Any]] = {
    "404": {"description": "No such route here (or, on a route, what it names is unknown)."},
    "405": {
        "description": "The route does not take this method.",
        "headers": {
            "Allow": {"description": "The methods it takes.", "schema": {"type": "string"}}
        },
    },
    "413": {"description": "Body over RETURNFLOW_GATEWAY_MAX_BODY_BYTES."},
    "429": {
        "description": "Too many requests, or too many refused ones, from this source this "
        "minute: every request is refused until Retry-After.",
        "headers": RETRY_AFTER,
    },
}
"""Answers any route may give, before it reads what was sent."""

READING_A_BODY: dict[str, dict[str, Any]] = {
    "408": {"description": "The body did not arrive within RETURNFLOW_HTTP_BODY_TIMEOUT_SECONDS."},
}

ROUTES: dict[str, dict[str, dict[str, Any]]] = {
    "/v1/events": {
        "409": {
            "description": "This event_id was sent before with another payload (kept as a "
            "dead letter).",
        },
    },
    "/v1/returns/": {
        "403": {"description": "The token's role may not do this, or the return is not theirs."},
    },
}
"""Answers of the routes whose path starts with the key, besides those they declare."""


def describe_errors(schema: dict[str, Any]) -> None:
    """Every error response of `schema` in the gateway's one error shape, and the answers the
    gateway gives on every route declared on each."""
    schema["components"]["schemas"][ERROR] = ERROR_SCHEMA
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answers: dict[str, Any] = operation["responses"]
            extra = {**EVERY_ROUTE, **(READING_A_BODY if method == "post" else {})}
            for prefix, declared in ROUTES.items():
                if path.startswith(prefix):
                    extra |= declared
            for status, answer in extra.items():
                answers.setdefault(status, dict(answer))
            for status, answer in answers.items():
                _describe(status, answer)
            operation["responses"] = dict(sorted(answers.items()))
    _drop_unused(schema)


def _describe(status: str, answer: dict[str, Any]) -> None:
    if int(status) < 400:
        # The routes answer JSON they build themselves: an object, unless a model says more.
        answer.setdefault("content", {"application/json": {"schema": {"type": "object"}}})
        return
    answer["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR}"}}}
    if status in ("429", "503"):
        answer.setdefault("headers", RETRY_AFTER)
    if status == "401":
        answer.setdefault("headers", WWW_AUTHENTICATE)


def _drop_unused(schema: dict[str, Any]) -> None:
    """Components nothing refers to any more (FastAPI's own validation error shape)."""
    components = schema["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        rest = {k: v for k, v in schema.items() if k != "components"}
        others = {k: v for k, v in components.items() if k != name}
        if f'"#/components/schemas/{name}"' not in json.dumps([rest, others]):
            components.pop(name, None)
