"""The gateway's FastAPI application: every door into returnflow over HTTP.

- `POST /v1/events`: the order service's events (signed).
- `POST /v1/carriers/{carrier}/webhooks`: carriers' tracking events (signed by the carrier).
- `POST /v1/returns/{id}/return-address|method|shipment|cancel|attention` and
  `GET /v1/returns/{id}`: sellers', customers' and operations' actions (bearer tokens).
- `GET /healthz` (the process answers) and `GET /readyz` (Temporal answers too).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client
from temporalio.service import RPCError

from activities.carriers.registry import CarrierRegistry
from customer_page import routes as customer_pages
from customer_page import withdrawal_page
from customer_page.links import PREFIX
from customer_page.routes import Pages
from dead_letters.store import DeadLetterStore
from domain.events import RetractEvent
from domain.withdrawals import WithdrawalLinkRequest
from gateway import events, returns, tracking, withdrawals
from gateway.auth import TokenBook
from gateway.guard import RateLimited, RateLimits, Samples
from gateway.http import Gateway, GatewayDep, error, is_unreachable
from gateway.openapi import describe_errors
from plumbing.encryption import EncryptionCodec
from plumbing.settings import Settings
from plumbing.temporal import codec_from_settings
from store import Store

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "schemas" / "gateway-openapi.json"
"""The gateway's OpenAPI description, as committed (`python starter.py schema` writes it)."""


def create_app(
    client: Client, settings: Settings, registry: CarrierRegistry, store: Store
) -> FastAPI:
    """The gateway serving with `client`, `settings` and the carriers of `registry`, keeping
    its dead letters in `store` (which its caller closes)."""
    app = _routes()
    app.add_middleware(RateLimited, limits=RateLimits(settings))
    app.state.pages = Pages(client, settings, registry)
    dead_letters = DeadLetterStore(
        store,
        _payload_codec(client, settings),
        unauthenticated_quota_bytes=settings.dead_letter_unauthenticated_quota_bytes,
    )
    dead_letters.import_directory(settings.dead_letter_path)
    app.state.gateway = Gateway(
        client=client,
        settings=settings,
        registry=registry,
        dead_letters=dead_letters,
        tokens=TokenBook.from_settings(settings),
        samples=Samples(settings),
    )
    return app


def openapi_document() -> str:
    """The gateway's OpenAPI description as JSON text, the same on every machine."""
    return json.dumps(_routes().openapi(), indent=2, ensure_ascii=False) + "\n"


def _routes() -> FastAPI:
    """The application's routes and OpenAPI description, with nothing to serve them yet."""
    app = FastAPI(
        title="returnflow gateway",
        description=(
            "Order events, carriers' tracking webhooks, and sellers', customers' and "
            "operations' actions on returns. Answers 202 only once Temporal has accepted."
        ),
        version="1",
        # A path with a slash too many is not found: a redirect would leave the pages' headers
        # out, and build its Location from what the proxy asked under.
        redirect_slashes=False,
    )
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.include_router(events.router)
    app.include_router(tracking.router)
    app.include_router(returns.router)
    app.include_router(withdrawals.router)
    app.include_router(customer_pages.router)
    app.include_router(withdrawal_page.router)
    _describe_request_bodies(app)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The gateway process answers (whatever Temporal does)."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        responses={503: {"description": "Temporal does not answer, or refuses the gateway."}},
    )
    async def readyz(gateway: GatewayDep) -> JSONResponse:
        """Ready to take requests: Temporal answers."""
        timeout = gateway.settings.gateway_temporal_timeout_seconds
        try:
            healthy = await asyncio.wait_for(
                gateway.client.service_client.check_health(timeout=dt.timedelta(seconds=timeout)),
                timeout=timeout,
            )
        except Exception as err:
            if is_unreachable(err):
                healthy = False
            elif isinstance(err, RPCError):
                # Temporal answers, but refuses the gateway: its credentials.
                return error(
                    503,
                    "temporal_refuses",
                    f"Temporal refuses the gateway ({err.status.name}): check its credentials.",
                )
            else:
                raise
        if not healthy:
            return error(503, "temporal_unavailable", "Temporal does not answer.", retry_later=True)
        return JSONResponse({"status": "ready", "namespace": gateway.client.namespace})

    return app


HTTP_ERRORS = {
    404: ("not_found", "No such resource here: the gateway's routes are in docs/gateway.md."),
    405: ("method_not_allowed", "This resource does not take this method (see Allow)."),
}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own answers (unknown path, method not allowed...) in the gateway's one error
    shape, never quoting what was asked; under the customer's pages, a page."""
    assert isinstance(exc, StarletteHTTPException)
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    path = request.url.path
    if (path == PREFIX or path.startswith(f"{PREFIX}/")) and exc.status_code in HTTP_ERRORS:
        return customer_pages.http_error_page(request, exc.status_code, headers.get("Allow"))
    code, message = HTTP_ERRORS.get(exc.status_code, ("http_error", "The request was refused."))
    return error(exc.status_code, code, message, headers=headers)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """A path or query parameter that does not fit: 422 naming it, never quoting the value."""
    assert isinstance(exc, RequestValidationError)
    problems = [f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return error(422, "invalid_request", "The request does not fit the route.", problems=problems)


def _payload_codec(client: Client, settings: Settings) -> EncryptionCodec:
    """The codec sealing dead letters' bodies: the one the Temporal client encrypts payloads with
    (`plumbing.temporal.connect` builds it from the same settings), or else the configured
    keys' (a `PayloadKeyError` without any)."""
    codec = client.data_converter.payload_codec
    return codec if isinstance(codec, EncryptionCodec) else codec_from_settings(settings)


REQUEST_BODIES: dict[tuple[str, str], type[BaseModel]] = {
    ("/v1/events", "post"): RetractEvent,
    ("/v1/withdrawal-links", "post"): WithdrawalLinkRequest,
    **{(returns.action_path(action), "post"): action.model for action in returns.ACTIONS},
}
"""The routes read their raw body themselves (to check signatures and keep dead letters): their
request schemas are added to the OpenAPI description here, generated from the same models."""


def _describe_request_bodies(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        models = sorted(set(REQUEST_BODIES.values()), key=lambda m: m.__name__)
        _, definitions = models_json_schema(
            [(model, "validation") for model in models],
            ref_template="#/components/schemas/{model}",
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(definitions.get("$defs", {}))
        for (path, method), model in REQUEST_BODIES.items():
            reference = {"$ref": f"#/components/schemas/{model.__name__}"}
            schema["paths"][path][method]["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": reference}},
            }
        describe_errors(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
