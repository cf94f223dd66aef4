"""Run the sandbox on a real socket inside the current event loop: for tests and the dev stack."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from carrier_sandbox.app import DEFAULT_API_KEY, DEFAULT_TICK_SECONDS, create_app
from carrier_sandbox.carriers import CarrierSource
from carrier_sandbox.context import Sandbox
from carrier_sandbox.faults import FaultPlan
from carrier_sandbox.rules import Clock
from carrier_sandbox.store import SandboxStore
from carrier_sandbox.webhooks import WebhookPolicy
from plumbing.serving import HostedApp, LoopbackService


class SandboxServer(LoopbackService):
    """The carrier sandbox served over HTTP on `host:port` for as long as the context is open.

        async with SandboxServer(tmp_path / "carrier.sqlite") as sandbox:
            httpx.AsyncClient(base_url=sandbox.url, headers={"X-Api-Key": sandbox.api_key})

    Port 0 picks a free port; `url` tells which. The state stays in `db_path` after exit, so a
    second server on the same file carries on where the first stopped. The other parameters are
    `create_app`'s.
    """

    def __init__(
        self,
        db_path: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        clock: Clock | None = None,
        carriers: CarrierSource = None,
        webhooks: WebhookPolicy | None = None,
        faults: FaultPlan | Path | None = None,
        fault_seed: int | None = None,
        rounds: bool = True,
        tick_seconds: float = DEFAULT_TICK_SECONDS,
        access_log: bool = False,
    ) -> None:
        self.db_path = Path(db_path)
        self.host = host
        self.port = port
        self.api_key = api_key
        self.webhooks = webhooks or WebhookPolicy()
        self._clock = clock
        self._carriers = carriers
        self._faults = faults
        self._fault_seed = fault_seed
        self._rounds = rounds
        self._tick_seconds = tick_seconds
        self._access_log = access_log
        self._app: FastAPI | None = None
        self._store: SandboxStore | None = None
        self._server: HostedApp | None = None

    @property
    def sandbox(self) -> Sandbox:
        """The running sandbox's state and machinery (for tests that look inside)."""
        if self._app is None:
            raise RuntimeError("the carrier sandbox is not running")
        sandbox: Sandbox = self._app.state.sandbox
        return sandbox

    def carrier_url(self, code: str) -> str:
        """The base URL of one carrier's API: what its adapter is given."""
        return f"{self.url}/carriers/{code}"

    async def start(self) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._store = SandboxStore(self.db_path)
        try:
            self._app = create_app(
                self._store,
                api_key=self.api_key,
                clock=self._clock,
                carriers=self._carriers,
                webhooks=self.webhooks,
                faults=self._faults,
                fault_seed=self._fault_seed,
                rounds=self._rounds,
                tick_seconds=self._tick_seconds,
            )
            # The rounds and the webhook sender run in the app's lifespan.
            self._server = HostedApp(
                self._app,
                host=self.host,
                port=self.port,
                access_log=self._access_log,
                lifespan="on",
            )
            await self._server.start()
        except BaseException:
            self._store.close()
            self._store = self._app = self._server = None
            raise
        self.port = self._server.port

    def request_stop(self) -> None:
        """Ask the server to finish its requests and stop (safe from a signal handler)."""
        if self._app is not None:
            # Hung and slowed requests (fault injection) let go, so the server can stop.
            self.sandbox.faults.stopping.set()
        if self._server is not None:
            self._server.request_stop()

    async def wait_stopped(self) -> None:
        """Return once the server has stopped, whoever asked it to."""
        if self._server is not None:
            await self._server.wait_stopped()

    async def stop(self) -> None:
        self.request_stop()
        try:
            if self._server is not None:
                await self._server.stop()
        finally:
            if self._store is not None:
                self._store.close()
            self._server = self._store = self._app = None
