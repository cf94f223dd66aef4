"""Where the dev stack's services listen and keep their files."""

from __future__ import annotations

import random
import socket
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitoring import scraping
from plumbing.settings import DEV_KEY_FILE

Port = Annotated[int, Field(ge=1, le=65535)]
"""A TCP port on the stack's host."""


class StackConfig(BaseSettings):
    """Ports and paths of the embedded stack (env: RETURNFLOW_STACK_*)."""

    model_config = SettingsConfigDict(
        env_prefix="RETURNFLOW_STACK_", env_file=".env", extra="ignore", frozen=True
    )

    host: str = Field("127.0.0.1", description="The interface every service listens on.")
    temporal_port: Port = Field(7233, description="The Temporal dev server's gRPC port.")
    ui_port: Port = Field(8233, description="Temporal Web UI.")
    sandbox_port: Port = Field(8081, description="The carrier sandbox.")
    marketplace_port: Port = Field(
        8082,
        description="The marketplace sandbox: the order service, the seller directory and chat.",
    )
    smtp_port: Port = Field(1025, description="The SMTP sink the notices are sent to.")
    gateway_port: Port = Field(
        8000, description="The gateway: order events, carriers' webhooks, actions."
    )
    codec_port: Port = Field(8234, description="The codec server the Web UI decrypts through.")
    worker_metrics_port: Port = Field(9464, description="The worker's metrics (Prometheus).")
    gateway_metrics_port: Port = Field(9465, description="The gateway's metrics (Prometheus).")
    codec_metrics_port: Port = Field(9466, description="The codec server's metrics (Prometheus).")
    temporal_metrics_port: Port = Field(
        9467, description="The Temporal dev server's own metrics (Prometheus)."
    )
    prometheus_port: Port = Field(
        9490,
        description="Prometheus, scraping every service (when Debian's is installed; not its "
        "usual 9090, which the Debian package's own service may hold).",
    )
    metrics: bool = Field(
        True, description="The services serve their metrics, and Prometheus scrapes them."
    )
    sqlite_pragmas: str = Field(
        "journal_mode=wal,synchronous=normal",
        description="The dev server's SQLite pragmas, comma-separated PRAGMA=VALUE (empty: "
        "SQLite's own defaults). What each gives up: docs/benchmarks.md, The dev server's SQLite.",
    )
    var_dir: Path = Field(
        Path("var"), description="The stack's files: logs, mail, Temporal's database, keys."
    )
    store_url: str | None = Field(
        None,
        description="The product's store the stack's worker and gateway share "
        "(RETURNFLOW_STORE_URL; unset: the SQLite file returnflow.sqlite in the var directory).",
    )
    sellers_file: Path = Field(
        Path("examples/sellers.json"), description="The sellers' directory the stack reads."
    )
    namespace: str = Field("default", description="The Temporal namespace of the returns.")
    # The embedded stack's own credentials: known to everyone who reads this file, so never
    # for anything but a loopback dev stack. Production sets RETURNFLOW_GATEWAY_* itself.
    event_secret: str = Field(
        "devstack-order-events-secret", description="The order events' HMAC secret."
    )
    seller_token: str = Field("devstack-seller-portal-token", description="Acts for any seller.")
    customer_token: str = Field("devstack-customer-app-token", description="The customer app.")
    operations_token: str = Field(
        "devstack-operations-token", description="Operations staff member `ops-demo`."
    )
    marketplace_token: str = Field(
        "devstack-marketplace-token",
        description="The token returnflow shows the marketplace sandbox.",
    )
    feed_secret: str = Field(
        "whsec_ZGV2c3RhY2stZXZlbnQtZmVlZC1zZWNyZXQtMjAyNg==",
        description="The Standard Webhooks secret the event feed signs its deliveries to the "
        "marketplace sandbox with (subscriber `marketplace`).",
    )
    codec_token: str = Field(
        "devstack-codec-token", description="The codec server's token, for the temporal CLI."
    )
    startup_timeout_seconds: float = Field(
        90.0, description="How long each service may take to answer when the stack starts."
    )

    @classmethod
    def on_free_ports(cls, var_dir: Path, **overrides: Any) -> Self:
        """A stack of its own beside any other (tests, benchmarks): every port free now."""
        found = free_ports(12)
        temporal, ui, sandbox, smtp, gateway, codec, marketplace = found[:7]
        metrics = dict(
            zip(
                (
                    "worker_metrics_port",
                    "gateway_metrics_port",
                    "codec_metrics_port",
                    "temporal_metrics_port",
                    "prometheus_port",
                ),
                found[7:],
                strict=True,
            )
        )
        ports = {
            **metrics,
            "temporal_port": temporal,
            "ui_port": ui,
            "sandbox_port": sandbox,
            "marketplace_port": marketplace,
            "smtp_port": smtp,
            "gateway_port": gateway,
            "codec_port": codec,
        }
        return cls(var_dir=var_dir, **{**ports, **overrides})

    def sqlite_pragma_args(self) -> list[str]:
        """The dev server's `--sqlite-pragma` arguments."""
        pragmas = [p.strip() for p in self.sqlite_pragmas.split(",") if p.strip()]
        return [arg for pragma in pragmas for arg in ("--sqlite-pragma", pragma)]

    @property
    def temporal_address(self) -> str:
        return f"{self.host}:{self.temporal_port}"

    @property
    def web_ui_url(self) -> str:
        return f"http://{self.host}:{self.ui_port}"

    @property
    def marketplace_url(self) -> str:
        return f"http://{self.host}:{self.marketplace_port}"

    @property
    def feed_url(self) -> str:
        """Where the event feed delivers (the marketplace sandbox, as subscriber `marketplace`)."""
        return f"{self.marketplace_url}/webhooks/marketplace"

    @property
    def sandbox_url(self) -> str:
        return f"http://{self.host}:{self.sandbox_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    @property
    def codec_url(self) -> str:
        return f"http://{self.host}:{self.codec_port}"

    @property
    def prometheus_url(self) -> str:
        return f"http://{self.host}:{self.prometheus_port}"

    def metrics_addresses(self) -> dict[str, str]:
        """Where each service serves its metrics (HOST:PORT), by the `service` label it sets."""
        ports = {
            "worker": self.worker_metrics_port,
            "gateway": self.gateway_metrics_port,
            "codec-server": self.codec_metrics_port,
            scraping.TEMPORAL_JOB: self.temporal_metrics_port,
        }
        return {service: f"{self.host}:{port}" for service, port in ports.items()}

    @property
    def web_ui_origins(self) -> list[str]:
        """What a browser sends as `Origin` from the Web UI: by this host, or by localhost."""
        return sorted({self.web_ui_url, f"http://localhost:{self.ui_port}"})

    @property
    def key_file(self) -> Path:
        """The stack's payload key, made on its first start (var/keys/payload.keys, mode 600)."""
        return self.var_dir / DEV_KEY_FILE

    @property
    def webhook_url(self) -> str:
        """Where the sandbox's carriers push their tracking events ({carrier}: the code)."""
        return f"{self.gateway_url}/v1/carriers/{{carrier}}/webhooks"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    def service_env(self) -> dict[str, str]:
        """The environment every returnflow process of this stack runs with."""
        return {
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": self.namespace,
            "RETURNFLOW_VAR_DIR": str(self.var_dir),
            "RETURNFLOW_WEB_UI_URL": self.web_ui_url,
            "RETURNFLOW_CARRIER_SANDBOX_URL": self.sandbox_url,
            # The marketplace's order service and seller service: the marketplace sandbox.
            "RETURNFLOW_ORDER_SERVICE_URL": self.marketplace_url,
            "RETURNFLOW_SELLER_SERVICE_URL": self.marketplace_url,
            "RETURNFLOW_MARKETPLACE_TOKEN": self.marketplace_token,
            # The event feed: every return's events to the marketplace sandbox, which shows them.
            "RETURNFLOW_EVENT_SUBSCRIBERS": f"marketplace={self.feed_url}",
            "RETURNFLOW_EVENT_SUBSCRIBER_SECRETS": f"marketplace={self.feed_secret}",
            "RETURNFLOW_EVENT_SUBSCRIBERS_PERSONAL": "marketplace",
            # The sandbox's carriers and this stack's public credentials: a dev stack's only.
            "RETURNFLOW_ALLOW_SANDBOX_CARRIERS": "true",
            "RETURNFLOW_SMTP_HOST": self.host,
            "RETURNFLOW_SMTP_PORT": str(self.smtp_port),
            "RETURNFLOW_GATEWAY_HOST": self.host,
            "RETURNFLOW_GATEWAY_PORT": str(self.gateway_port),
            # The customer's pages are the gateway's: every email links there.
            "RETURNFLOW_CUSTOMER_PAGE_URL": self.gateway_url,
            "RETURNFLOW_SMTP_SECURITY": "none",
            "RETURNFLOW_SELLERS_FILE": str(self.sellers_file),
            "RETURNFLOW_GATEWAY_EVENT_SECRETS": self.event_secret,
            "RETURNFLOW_GATEWAY_SELLER_TOKENS": f"*={self.seller_token}",
            "RETURNFLOW_GATEWAY_CUSTOMER_TOKENS": f"customer-app={self.customer_token}",
            "RETURNFLOW_GATEWAY_OPERATIONS_TOKENS": f"ops-demo={self.operations_token}",
            "RETURNFLOW_PAYLOAD_KEY_FILE": str(self.key_file),
            "RETURNFLOW_CODEC_HOST": self.host,
            "RETURNFLOW_CODEC_PORT": str(self.codec_port),
            "RETURNFLOW_CODEC_ORIGINS": ",".join(self.web_ui_origins),
            # The embedded Web UI has no login, so its own origin is served without a token.
            # Loopback only; a real deployment sets RETURNFLOW_CODEC_TOKENS or _JWKS_URL.
            "RETURNFLOW_CODEC_TRUSTED_ORIGINS": ",".join(self.web_ui_origins),
            "RETURNFLOW_CODEC_TOKENS": f"ops-demo={self.codec_token}",
            "RETURNFLOW_CODEC_NAMESPACES": self.namespace,
            # Named, not left to defaults: a `.env` in the project directory, which the
            # services read too, must not point them at another store (or at files to import).
            "RETURNFLOW_STORE_URL": self.store_url
            or f"sqlite:///{(self.var_dir / 'returnflow.sqlite').resolve()}",
            "RETURNFLOW_CARRIER_LEDGER": str(self.var_dir / "carrier-ledger.sqlite"),
            "RETURNFLOW_DEAD_LETTER_DIR": str(self.var_dir / "dead-letters"),
        }


def free_ports(count: int) -> list[int]:
    """Ports free on loopback right now (held together, so they differ), outside the range the
    kernel hands out to outgoing connections: a port from that range, free when chosen, may be
    some client's by the time a server binds it."""
    low, high = _ephemeral_range()
    candidates = [p for p in range(PORTS_FROM, PORTS_TO) if not low <= p <= high]
    random.shuffle(candidates)
    held: list[socket.socket] = []
    try:
        for port in candidates:
            if len(held) == count:
                break
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            held.append(s)
        if len(held) < count:
            raise OSError(f"fewer than {count} free ports on loopback")
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


PORTS_FROM, PORTS_TO = 20000, 32000
"""Where a stack of its own looks for ports (below Linux's default outgoing range)."""


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999
