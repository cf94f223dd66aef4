"""What the EasyPost replay answers with, and the request rules it checks before answering.

The documented answers are the fixtures under
`tests/activities/carriers/fixtures/easypost/` (see their README); a request that breaks a
rule EasyPost enforces raises `Refused`, which the replay answers with the documented error
body.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "easypost"
FILES = "https://easypost-files.s3.us-west-2.amazonaws.com/files/postage_label"

Json = dict[str, Any]


def fixture(name: str) -> Json:
    data: Json = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


class Refused(Exception):
    """The request breaks a rule EasyPost enforces: answered with a documented error body."""

    def __init__(self, status: int, fixture_name: str, field: str | None = None) -> None:
        super().__init__(fixture_name)
        self.status, self.fixture_name, self.field = status, fixture_name, field


def required(body: Any, key: str, field: str | None = None) -> Json:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict) or not value:
        raise Refused(422, "error_422_parameter.json", field or key)
    return value


def require_address(parent: Json, key: str) -> None:
    address = required(parent, key)
    for field in ("street1", "city", "zip", "country"):
        if not address.get(field):
            raise Refused(422, "error_422_parameter.json", f"{key}.{field}")


def pickup_time(pickup: Json, field: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(str(pickup.get(field)))
    except ValueError:
        raise Refused(422, "error_422_parameter.json", f"pickup.{field}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def error_fixture(status: int) -> str:
    known = {401: "error_401.json", 403: "error_401.json", 404: "error_404.json"}
    return {**known, 429: "error_429.json"}.get(
        status, "error_5xx.json" if status >= 500 else "error_422_parameter.json"
    )


def error_answer(
    status: int,
    name: str,
    *,
    field: str | None = None,
    retry_after: float | None = None,
) -> httpx.Response:
    """The documented error body `name`, blaming `field` if given, with this Retry-After."""
    body = fixture(name)
    if field is not None and body["error"]["errors"]:
        body["error"]["errors"][0]["field"] = field
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return httpx.Response(status, json=body, headers=headers)


def file_answer(request: httpx.Request) -> httpx.Response:
    """A label download from EasyPost's file host, which must not be sent our credentials."""
    if request.headers.get("authorization") is not None:
        return httpx.Response(400, text="credentials sent to the file host")
    if request.url.path.endswith(".pdf"):
        content = (FIXTURES / "label.pdf").read_bytes()
        return httpx.Response(200, content=content, headers={"content-type": "application/pdf"})
    return httpx.Response(200, content=b"\x89PNG\r\n\x1a\n", headers={"content-type": "image/png"})
