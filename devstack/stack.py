"""The dev stack: each service started in turn and awaited until it answers, all stopped on exit."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType

import structlog
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.service import RPCError

from devstack import probes
from devstack.config import StackConfig
from devstack.process import ManagedProcess
from monitoring import scraping
from plumbing import temporal, versioning
from plumbing.encryption import EncryptionCodec, write_key_file
from plumbing.settings import Settings
from reminders import schedule as reminder_schedule

log = structlog.get_logger("devstack")

Probe = Callable[["DevStack", ManagedProcess], Awaitable[bool]]
PostStart = Callable[["DevStack"], Awaitable[str]]
"""A step once a service answers; what it did, for the progress lines."""


class StackError(RuntimeError):
    """A service could not start; the message says which and shows its last log lines."""


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    argv: Sequence[str]
    ready: Probe
    ports: Sequence[int] = ()
    env: dict[str, str] = field(default_factory=dict)
    stop_grace: float = 15.0
    """Seconds between SIGTERM and SIGKILL."""
    after_ready: PostStart | None = None
    """Run once the service is ready, before the next one starts."""


def default_services(config: StackConfig, settings: Settings) -> list[ServiceSpec]:
    py = sys.executable
    host = config.host
    metrics = config.metrics_addresses()

    def exporting(service: str) -> dict[str, str]:
        return {"RETURNFLOW_METRICS_ADDRESS": metrics[service]} if config.metrics else {}

    def serving(port: int) -> tuple[int, ...]:
        """A metrics port, which must be free only when the stack serves metrics."""
        return (port,) if config.metrics else ()

    return [
        ServiceSpec(
            name="codec-server",
            argv=[py, "starter.py", "codec-server"],
            ready=lambda stack, _p: probes.http_ok(f"{config.codec_url}/healthz"),
            ports=(config.codec_port, *serving(config.codec_metrics_port)),
            env=exporting("codec-server"),
        ),
        ServiceSpec(
            name="temporal",
            argv=[
                str(temporal.cli_path()),
                "server",
                "start-dev",
                "--ip",
                host,
                "--port",
                str(config.temporal_port),
                "--ui-port",
                str(config.ui_port),
                "--db-filename",
                str(config.var_dir / "temporal.sqlite"),
                *config.sqlite_pragma_args(),
                "--namespace",
                config.namespace,
                "--ui-disable-news-fetch",
                # The Web UI decrypts payloads through our codec server, from the browser.
                "--ui-codec-endpoint",
                config.codec_url,
                "--log-format",
                "json",
                "--log-level",
                "warn",
                "--metrics-port",
                str(config.temporal_metrics_port),
                *temporal.search_attribute_args(),
            ],
            ready=_temporal_ready,
            ports=(config.temporal_port, config.ui_port, config.temporal_metrics_port),
        ),
        ServiceSpec(
            name="carrier-sandbox",
            argv=[
                py,
                "-m",
                "carrier_sandbox",
                "--host",
                host,
                "--port",
                str(config.sandbox_port),
                "--db",
                str(config.var_dir / "carrier-sandbox.sqlite"),
                "--webhook-url",
                config.webhook_url,
            ],
            ready=lambda stack, _p: probes.http_ok(f"{config.sandbox_url}/healthz"),
            ports=(config.sandbox_port,),
        ),
        ServiceSpec(
            name="marketplace-sandbox",
            argv=[
                py,
                "-m",
                "marketplace_sandbox",
                "--host",
                host,
                "--port",
                str(config.marketplace_port),
                "--dir",
                str(config.var_dir / "marketplace"),
                "--token",
                config.marketplace_token,
                "--sellers",
                str(config.sellers_file),
                "--webhook-secret",
                config.feed_secret,
            ],
            ready=lambda stack, _p: probes.http_ok(f"{config.marketplace_url}/healthz"),
            ports=(config.marketplace_port,),
        ),
        ServiceSpec(
            name="mail-sink",
            argv=[
                py,
                "-m",
                "mail_sink",
                "--host",
                host,
                "--port",
                str(config.smtp_port),
                "--dir",
                str(config.mail_dir),
            ],
            ready=lambda stack, _p: probes.smtp_ready(host, config.smtp_port),
            ports=(config.smtp_port,),
        ),
        ServiceSpec(
            name="worker",
            argv=[py, "worker.py"],
            ready=worker_ready,
            ports=serving(config.worker_metrics_port),
            env=exporting("worker"),
            # More than the worker's own graceful shutdown, so activities in hand can finish.
            stop_grace=settings.worker_shutdown_seconds + 5,
            after_ready=_promote_and_schedule,
        ),
        ServiceSpec(
            name="gateway",
            argv=[py, "starter.py", "serve"],
            ready=lambda stack, _p: probes.http_ok(f"{config.gateway_url}/readyz"),
            ports=(config.gateway_port, *serving(config.gateway_metrics_port)),
            env=exporting("gateway"),
        ),
        *([prometheus_service(config)] if config.metrics and scraping.PROMETHEUS.exists() else []),
    ]


def prometheus_service(config: StackConfig) -> ServiceSpec:
    """Debian's Prometheus scraping every service of the stack, with the alert rules."""
    home = config.var_dir / "prometheus"
    config_file = home / "prometheus.yml"

    def ready(stack: DevStack, _proc: ManagedProcess) -> Awaitable[bool]:
        return probes.http_ok(f"{config.prometheus_url}/-/ready")

    home.mkdir(parents=True, exist_ok=True)
    config_file.write_text(scraping.prometheus_config(config.metrics_addresses()))
    return ServiceSpec(
        name="prometheus",
        argv=[
            str(scraping.PROMETHEUS),
            f"--config.file={config_file}",
            f"--storage.tsdb.path={home / 'data'}",
            "--storage.tsdb.retention.time=7d",
            f"--web.listen-address={config.host}:{config.prometheus_port}",
        ],
        ready=ready,
        ports=(config.prometheus_port,),
    )


async def _temporal_ready(stack: DevStack, _proc: ManagedProcess) -> bool:
    if stack._client is None:
        try:
            stack._client = await Client.connect(
                stack.config.temporal_address,
                namespace=stack.config.namespace,
                data_converter=temporal.data_converter(stack.codec),
            )
        except RuntimeError:
            return False
    ready = await probes.temporal_ready(stack._client)
    return ready and await probes.http_ok(stack.config.web_ui_url)


async def worker_ready(stack: DevStack, proc: ManagedProcess) -> bool:
    assert proc.pid is not None
    return await probes.worker_polling(stack.client, stack.settings.task_queue, proc.pid)


async def _promote_and_schedule(stack: DevStack) -> str:
    """The worker's build takes new returns (the stack runs one build, as an operator would
    promote it after a deploy), and the daily reminder of unshipped returns is installed
    (idempotent: a restarted stack finds it in place, paused or not)."""
    settings = stack.settings
    build = versioning.build_id(settings)
    try:
        if settings.worker_versioning:
            await versioning.promote(
                stack.client, settings.deployment_name, build, wait=timedelta(seconds=30)
            )
        outcome = await reminder_schedule.install(stack.client, settings)
    except reminder_schedule.ScheduleRefused as err:
        raise StackError(str(err)) from err
    except (RPCError, versioning.VersionNotPolling) as err:
        raise StackError(f"the worker's build could not be set up: {err}") from err
    link = reminder_schedule.schedule_link(
        settings, stack.config.namespace, settings.reminder_schedule_id
    )
    current = (
        f"{settings.deployment_name} build {build} current" if settings.worker_versioning else ""
    )
    return (
        f"{'worker build':<16} {current or 'unversioned'}\n  "
        f"{'reminder schedule':<16} {outcome}: {settings.reminder_cron} in "
        f"{settings.reminder_time_zone} ({link})"
    )


NOT_INHERITED = ("TEMPORAL_",)
"""What a stack's services never take from the shell: the stack's own Temporal settings
replace any the shell has (an API key for a cloud namespace must not reach the local dev
server). The store, the carrier ledger and the dead-letter directory need no entry here: the
stack names its own to every service (`StackConfig.service_env`), over the shell's and a
`.env`'s."""


def service_environment(shell: Mapping[str, str], stack: Mapping[str, str]) -> dict[str, str]:
    """The environment of one of the stack's services: the shell's, but for `NOT_INHERITED`
    (other settings pass, such as `RETURNFLOW_CARRIERS` to try a real carrier), under the
    stack's own."""
    inherited = {k: v for k, v in shell.items() if not k.startswith(NOT_INHERITED)}
    return {**inherited, **stack}


class DevStack:
    """`async with DevStack(config) as stack:` — everything up and answering inside."""

    def __init__(
        self,
        config: StackConfig,
        services: Sequence[ServiceSpec] | None = None,
        *,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self._progress = progress or (lambda _line: None)
        self.env = config.service_env()
        self.settings = Settings(
            var_dir=config.var_dir,
            web_ui_url=config.web_ui_url,
            carrier_sandbox_url=config.sandbox_url,
            order_service_url=config.marketplace_url,
            seller_service_url=config.marketplace_url,
            marketplace_token=SecretStr(config.marketplace_token),
            smtp_host=config.host,
            smtp_port=config.smtp_port,
            sellers_file=config.sellers_file,
            gateway_host=config.host,
            gateway_port=config.gateway_port,
            customer_page_url=config.gateway_url,
            gateway_event_secrets=SecretStr(config.event_secret),
            payload_key_file=config.key_file,
        )
        self.specs = (
            list(services) if services is not None else default_services(config, self.settings)
        )
        self.processes: list[ManagedProcess] = []
        self._client: Client | None = None
        self._codec: EncryptionCodec | None = None

    @property
    def codec(self) -> EncryptionCodec:
        """The stack's payload codec (its key file is made on the first start)."""
        if self._codec is None:
            if not self.config.key_file.exists():
                write_key_file(self.config.key_file, f"devstack-{datetime.now(UTC):%Y%m%d}")
                log.info("payload key made", path=str(self.config.key_file))
            self._codec = temporal.codec_from_settings(self.settings)
        return self._codec

    @property
    def client(self) -> Client:
        if self._client is None:
            raise StackError("Temporal is not up yet")
        return self._client

    async def start(self) -> None:
        self.config.var_dir.mkdir(parents=True, exist_ok=True)
        _ = self.codec  # every service reads the key file: it exists before they start
        try:
            for spec in self.specs:
                await self._start(spec)
        except BaseException:
            await self.stop()
            raise

    async def add(self, spec: ServiceSpec) -> ManagedProcess:
        """Start one more service beside the stack's (another worker, another gateway), with the
        stack's environment under `spec.env`; it stops with the stack."""
        await self._start(spec)
        return self.processes[-1]

    async def _start(self, spec: ServiceSpec) -> None:
        for port in spec.ports:
            if await probes.port_in_use(self.config.host, port):
                raise StackError(
                    f"{spec.name}: port {port} on {self.config.host} is already in use "
                    "(another stack running?). Stop it, or set RETURNFLOW_STACK_* ports."
                )
        proc = ManagedProcess(
            spec.name,
            spec.argv,
            self.config.log_dir / f"{spec.name}.log",
            service_environment(os.environ, {**self.env, **spec.env}),
            stop_grace=spec.stop_grace,
        )
        started = time.monotonic()
        await proc.start()
        self.processes.append(proc)
        deadline = started + self.config.startup_timeout_seconds
        while not await spec.ready(self, proc):
            if proc.exited:
                raise StackError(
                    f"{spec.name} exited with status {proc.returncode} while starting; "
                    f"last lines of {proc.log_path}:\n{proc.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise StackError(
                    f"{spec.name} not ready after {self.config.startup_timeout_seconds:.0f}s; "
                    f"last lines of {proc.log_path}:\n{proc.log_tail()}"
                )
            await asyncio.sleep(0.2)
        seconds = round(time.monotonic() - started, 1)
        log.info("service ready", service=spec.name, seconds=seconds, pid=proc.pid)
        self._progress(f"  {spec.name:<16} ready in {seconds:.1f}s (log: {proc.log_path})")
        if spec.after_ready is not None:
            done = await spec.after_ready(self)
            log.info("after ready", service=spec.name, done=done)
            self._progress(f"  {done}")

    async def watch(self) -> ManagedProcess:
        """Wait until any service exits (it should not), and return it."""
        waits = {asyncio.ensure_future(p.wait()): p for p in self.processes}
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return waits[next(iter(done))]

    async def stop(self) -> None:
        """Stop every service, the last started first (the worker before Temporal)."""
        for proc in reversed(self.processes):
            await proc.stop()
            log.info("service stopped", service=proc.name, status=proc.returncode)
            self._progress(f"  {proc.name:<16} stopped")
        self.processes.clear()
        self._client = None

    async def __aenter__(self) -> DevStack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
