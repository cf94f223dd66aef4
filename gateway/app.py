"""The gateway's FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI
from temporalio.client import Client

from activities.carriers.registry import CarrierRegistry
from gateway import tracking


def create_app(client: Client, registry: CarrierRegistry) -> FastAPI:
    app = FastAPI(
        title="returnflow gateway",
        description="Carriers' tracking webhooks into the returns they concern.",
        version="1",
    )
    app.state.tracking = tracking.TrackingDoor(client, registry)
    app.include_router(tracking.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
