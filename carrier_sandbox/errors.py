"""The one error shape of the API: `{"error": {"code", "message", "field"}}`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

# Where FastAPI puts a parameter in `loc`; the client knows its fields without it.
_LOCATIONS = frozenset({"body", "path", "query", "header", "cookie"})

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid_request",
}


class ApiError(Exception):
    """A refusal the client can act on: a 4xx with a code, a sentence and the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def invalid(message: str, field: str | None) -> ApiError:
    return ApiError(422, "invalid_request", message, field)


_OWN_CHECK = re.compile(r"^Value error, (?P<field>postal_code|country_code) (?P<rest>.+)$")
"""An address's own check of one of its fields (`PostalAddress`): the only checks of a model's
whole that name one field."""


def from_validation(errors: Sequence[Any]) -> ApiError:
    """The first problem pydantic found, named by its dotted path (`sender.postal_code`)."""
    if not errors:
        return invalid("The request is not valid.", None)
    first = errors[0]
    path = [str(part) for part in first.get("loc", ()) if part not in _LOCATIONS]
    detail = str(first.get("msg", "is not valid"))
    # A model's own check of one of its fields ("postal_code is not a FR postal code") names
    # that field: the path goes down to it.
    own = _OWN_CHECK.match(detail) if first.get("type") == "value_error" else None
    if own:
        path.append(own["field"])
        detail = own["rest"]
    detail = detail.removeprefix("Value error, ")
    field = ".".join(path) or None
    if first.get("type") == "json_invalid":
        return invalid("The request body is not valid JSON.", None)
    if field is None:
        return invalid(f"The request is not valid: {detail}.", None)
    return invalid(f"{field}: {detail}.", field)


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"code": error.code, "message": error.message, "field": error.field}}
    return JSONResponse(body, status_code=error.status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every failure, ours or the framework's, answers in the documented shape."""

    async def api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc)

    async def request_invalid(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(from_validation(exc.errors()))

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = _CODES_BY_STATUS.get(exc.status_code, "http_error")
        error = ApiError(exc.status_code, code, str(exc.detail))
        return error_response(error, headers=dict(exc.headers or {}))

    # Starlette re-raises after this answer, so the server logs the traceback once.
    async def unexpected(_request: Request, _exc: Exception) -> Response:
        return error_response(ApiError(500, "internal_error", "The carrier failed; try again."))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
