"""Configuration from environment variables (a `.env` file works too).

The standard Temporal variables (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
`TEMPORAL_TLS_*`, `TEMPORAL_PROFILE`) are read by `returnflow.temporal`, not here.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a returnflow process can be told, each with a default for the dev stack."""

    model_config = SettingsConfigDict(
        env_prefix="RETURNFLOW_", env_file=".env", extra="ignore", frozen=True
    )

    task_queue: str = Field("returns", description="Task queue of the return workflows.")
    web_ui_url: str = Field("http://localhost:8233", description="Temporal Web UI, for links.")
    var_dir: Path = Field(Path("var"), description="Runtime files: logs, mail, databases.")
    log_level: str = "INFO"
    worker_shutdown_seconds: float = Field(
        30.0, gt=0, description="On shutdown, how long activities in hand get to finish."
    )

    gateway_host: str = Field("127.0.0.1", description="Interface the gateway listens on.")
    gateway_port: int = Field(8000, ge=0, le=65535, description="The gateway's TCP port.")

    return_window_days: int = Field(30, ge=14, le=365, description="Return window, in days.")
    return_window_starts: Literal["order_date", "delivery_date"] = Field(
        "order_date",
        description="What the window counts from; never shorter than 14 days after delivery.",
    )
    seller_reminder_after: timedelta = Field(
        timedelta(days=2),
        description="Remind a seller who has not given a return address (ISO 8601, e.g. P2D).",
    )
    seller_escalate_after: timedelta = Field(
        timedelta(days=2), description="After the reminder, escalate to operations (P2D)."
    )
    scan_overdue_after: timedelta = Field(
        timedelta(hours=12),
        description="Poll the carrier when no scan came this long after the pickup (PT12H).",
    )
    poll_interval: timedelta = Field(
        timedelta(hours=6), description="Between two polls of a carrier (PT6H)."
    )
    expiry_grace: timedelta = Field(
        timedelta(days=3), description="After ShipBy, before an unshipped return expires (P3D)."
    )
    refund_trigger: Literal["dispatch_proof", "delivery"] = Field(
        "dispatch_proof",
        description="Request the refund at the first acceptance scan, or once delivered.",
    )
    rejection_review: timedelta = Field(
        timedelta(days=14),
        description="How long a rejected return stays open for operations to override (P14D).",
    )
    operations_email: str = Field(
        "returns-operations@marketplace.example",
        description="Where escalations go (seller silent, a step failed).",
    )
    operations_locale: str = Field("en", description="Language of the operations notices.")
    seller_chat_dir: Path | None = Field(
        None, description="Seller chat outbox (default: var/seller-chat)."
    )
    orders_dir: Path | None = Field(
        None, description="Order service's refund requests (default: var/orders)."
    )
    sellers_file: Path = Field(
        Path("examples/sellers.json"), description="Sellers' return addresses on file."
    )

    carriers: str = Field(
        "sandbox,relay",
        description=(
            "Comma-separated carrier codes customers may choose from: colissimo, easypost, or "
            "the code of a carrier of the embedded sandbox (sandbox, relay)."
        ),
    )
    carrier_sandbox_url: str = Field(
        "http://127.0.0.1:8081", description="Base URL of the embedded carrier sandbox."
    )
    carrier_sandbox_api_key: SecretStr = Field(
        SecretStr("sandbox-key"), description="API key the sandbox expects in X-Api-Key."
    )
    carrier_sandbox_webhook_secret: SecretStr = Field(
        SecretStr("sandbox-webhook-secret"),
        description="Secret the sandbox signs its tracking webhooks with.",
    )
    carrier_timeout_seconds: float = Field(20.0, gt=0, description="Per HTTP call to a carrier.")
    carrier_ledger: Path | None = Field(
        None,
        description=(
            "SQLite file where the Colissimo and EasyPost adapters keep what they bought, by "
            "idempotency key, and Colissimo's label PDFs (default: var/carrier-ledger.sqlite). "
            "Workers running these adapters must share it."
        ),
    )

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "none", description="none (local sink), starttls (port 587) or tls (port 465)."
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 30.0
    mail_from: str = Field(
        "Marketplace Returns <returns@marketplace.example>", description="From: of notices."
    )
    mail_domain: str = Field(
        "returns.marketplace.example", description="Right-hand side of every Message-ID."
    )
    marketplace_name: str = "Marketplace"
    customer_portal_url: str = Field(
        "https://marketplace.example/account/returns",
        description="Where customers choose how to send the parcel back.",
    )

    @property
    def carrier_codes(self) -> list[str]:
        return [c.strip() for c in self.carriers.split(",") if c.strip()]

    @property
    def carrier_ledger_path(self) -> Path:
        return self.carrier_ledger or self.var_dir / "carrier-ledger.sqlite"

    @property
    def seller_chat_path(self) -> Path:
        return self.seller_chat_dir or self.var_dir / "seller-chat"

    @property
    def orders_path(self) -> Path:
        return self.orders_dir or self.var_dir / "orders"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"
