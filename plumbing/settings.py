"""Configuration from environment variables (a `.env` file works too).

The payload keys (`RETURNFLOW_PAYLOAD_KEYS` / `_KEY_FILE` / `_KEY_ID`) are read here and turned
into a keyring by `plumbing.encryption`. The standard Temporal variables (`TEMPORAL_ADDRESS`,
`TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, `TEMPORAL_PROFILE`) are read by
`plumbing.temporal`, not here.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.emails import email_problem
from plumbing.encryption import Keyring, PayloadKeyError
from plumbing.subscribers import Subscriber, is_http_url, parse_subscribers

DEV_KEY_FILE = Path("keys") / "payload.keys"
"""The dev stack's payload key file, under the var directory."""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def address_networks(value: str) -> list[Network]:
    """A comma-separated list of addresses and networks (CIDR); a `ValueError` naming the one
    that is neither."""
    found = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            found.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(
                f"{part!r} is not an address or a network (CIDR), e.g. 10.0.0.0/8"
            ) from None
    return found


STORE_SCHEMES = ("postgresql", "postgres", "sqlite")
"""The stores `RETURNFLOW_STORE_URL` may name."""


CRON_FIELD = re.compile(
    r"(?:[0-9*?/,#LW-]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
    r"|SUN|MON|TUE|WED|THU|FRI|SAT)+"
)
"""One field of a cron expression (in capitals): numbers, months' and days' names, ranges,
steps and lists."""

CRON_DESCRIPTOR = re.compile(
    r"@(?:yearly|annually|monthly|weekly|daily|midnight|hourly|every [0-9]+[smhd](?:[0-9]+[smh])*)"
)
"""The descriptors Temporal's schedules take instead of fields."""


class Settings(BaseSettings):
    """Everything a returnflow process can be told, each with a default for the dev stack."""

    model_config = SettingsConfigDict(
        env_prefix="RETURNFLOW_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        # A refused value is never repeated: it may be a secret (a token, a store's password).
        hide_input_in_errors=True,
        # `inf` would switch a bound off (the signatures' replay window, a timeout).
        allow_inf_nan=False,
    )

    task_queue: str = Field("returns", description="Task queue of the return workflows.")
    web_ui_url: str = Field("http://localhost:8233", description="Temporal Web UI, for links.")
    var_dir: Path = Field(Path("var"), description="Runtime files: logs, mail, databases.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe log level written: DEBUG, INFO, WARNING or ERROR."
    )
    worker_shutdown_seconds: float = Field(
        30.0, gt=0, description="On shutdown, how long activities in hand get to finish."
    )
    worker_workflow_task_pollers: int = Field(
        5, ge=2, le=100, description="Workflow task polls a worker keeps open at once."
    )
    worker_activity_task_pollers: int = Field(
        5, ge=1, le=100, description="Activity task polls a worker keeps open at once."
    )
    worker_max_concurrent_workflow_tasks: int = Field(
        100, ge=2, le=2000, description="Workflow tasks a worker runs at once."
    )
    worker_max_concurrent_activities: int = Field(
        100, ge=1, le=2000, description="Activities a worker runs at once."
    )
    worker_max_cached_workflows: int = Field(
        1000,
        ge=0,
        le=100_000,
        description="Returns a worker keeps in memory between their workflow tasks (its sticky "
        "cache); one not in it is replayed from its history on its next task. Measured in "
        "docs/benchmarks.md, Worker tuning.",
    )
    worker_versioning: bool = Field(
        True,
        description="Workers are versions of a Worker Deployment and pin each return to their "
        "build; false: every worker takes every task (one build at a time only).",
    )
    deployment_name: str = Field(
        "returnflow",
        pattern=r"^[A-Za-z0-9_-]{1,100}$",
        description="The Worker Deployment the workers belong to.",
    )
    build_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._+-]{1,100}$",
        description="This build's ID in the deployment (default: the package version).",
    )

    metrics_address: str | None = Field(
        None,
        pattern=r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$",
        description="HOST:PORT where this process serves its metrics in Prometheus format "
        "(GET /metrics); unset: none are served. Each process needs its own port.",
    )
    otlp_endpoint: str | None = Field(
        None,
        pattern=r"^https?://",
        description="OTLP/HTTP endpoint the traces go to (e.g. "
        "http://collector:4318/v1/traces); unset: nothing is traced.",
    )
    trace_sample_ratio: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Share of the traces kept, applied to the trace ID: every process keeps or "
        "drops the same traces whole, whatever a caller's traceparent asks.",
    )
    returns_count_seconds: float = Field(
        60.0,
        ge=5,
        description="How often a worker counts the running returns in each stage and needing "
        "attention, for its metrics (s).",
    )
    gateway_host: str = Field("127.0.0.1", description="Interface the gateway listens on.")
    gateway_port: int = Field(8000, ge=0, le=65535, description="The gateway's TCP port.")
    gateway_event_secrets: SecretStr | None = Field(
        None,
        description=(
            "HMAC-SHA256 secrets the order service signs its events with, comma-separated "
            "(the current one first; an old one stays listed while senders rotate). Unset: "
            "every event is refused."
        ),
    )
    gateway_signature_tolerance_seconds: float = Field(
        300, gt=0, description="How far a signature's timestamp may be from now (s)."
    )
    gateway_seller_tokens: SecretStr | None = Field(
        None,
        description=(
            "Bearer tokens of the sellers' apps: comma-separated SELLER_ID=TOKEN (the seller "
            "may act on its own returns only), or *=TOKEN for a seller portal that acts for "
            "every seller."
        ),
    )
    gateway_customer_tokens: SecretStr | None = Field(
        None,
        description="Bearer tokens of the customers' apps: comma-separated APP=TOKEN.",
    )
    gateway_customer_binding: Literal["off", "required"] = Field(
        "off",
        description=(
            "required: a customer app's request about a return must say which customer it acts "
            "for, in a signed X-Returnflow-Customer header (docs/gateway.md), and acts on that "
            "customer's returns only (403 not_your_return otherwise). off: the app's token "
            "acts on every return."
        ),
    )
    gateway_customer_assertion_secrets: SecretStr | None = Field(
        None,
        description=(
            "HMAC-SHA256 secrets the customer apps sign X-Returnflow-Customer with, "
            "comma-separated (the current one first; an old one stays listed while apps "
            "rotate). Required when RETURNFLOW_GATEWAY_CUSTOMER_BINDING is required."
        ),
    )
    gateway_operations_tokens: SecretStr | None = Field(
        None,
        description=(
            "Bearer tokens of operations staff: comma-separated STAFF_ID=TOKEN; the staff ID "
            "is recorded in the return's timeline as operations:STAFF_ID."
        ),
    )
    gateway_max_body_bytes: int = Field(
        256 * 1024, gt=0, description="Largest request body the gateway reads (413 beyond)."
    )
    gateway_temporal_timeout_seconds: float = Field(
        5.0,
        gt=0,
        description=(
            "How long the gateway waits for Temporal before answering 503; for an action, for "
            "the return to accept it (no worker running: 503 too)."
        ),
    )
    gateway_update_wait_seconds: float = Field(
        20.0,
        gt=0,
        description=(
            "How long an action waits for the return's answer; past it the action is "
            "answered 202 (accepted, still running) with its update ID."
        ),
    )
    payload_keys: SecretStr | None = Field(
        None,
        description=(
            "Payload encryption keys: comma-separated KEY_ID=BASE64 (32 random bytes each; "
            "`python starter.py keys new`). Every payload Temporal stores is encrypted with the "
            "current key and decrypted with whichever key it names."
        ),
    )
    payload_key_file: Path | None = Field(
        None,
        description=(
            "A file of KEY_ID=BASE64 lines, readable by its owner only (chmod 600). With "
            "neither this nor payload_keys, the dev stack's var/keys/payload.keys if it exists."
        ),
    )
    payload_key_id: str | None = Field(
        None, description="The key new payloads are encrypted with (default: the first listed)."
    )
    codec_host: str = Field("127.0.0.1", description="Interface the codec server listens on.")
    codec_port: int = Field(8234, ge=0, le=65535, description="The codec server's TCP port.")
    codec_origins: str = Field(
        "",
        description=(
            "Web UI origins allowed to call the codec server from a browser, comma-separated "
            "(e.g. https://temporal.example.com). A request from any other origin is refused."
        ),
    )
    codec_tokens: SecretStr | None = Field(
        None,
        description=(
            "Static bearer tokens of the codec server: comma-separated NAME=TOKEN (the name is "
            "logged with every decode)."
        ),
    )
    codec_jwks_url: str | None = Field(
        None,
        description=(
            "JWKS of the identity provider whose access tokens the Web UI passes on "
            '("pass access token"): a bearer JWT signed by one of its keys is accepted.'
        ),
    )
    codec_jwt_issuer: str | None = Field(None, description="Required `iss` of those JWTs.")
    codec_jwt_audience: str | None = Field(None, description="Required `aud` of those JWTs.")
    codec_jwt_required_claim: str | None = Field(
        None,
        description=(
            "CLAIM=VALUE a JWT must carry to be served (the claim equal to VALUE, or a list "
            "holding it), e.g. groups=returns-support: who, among the provider's users, may "
            "read returns."
        ),
    )
    codec_trusted_origins: str = Field(
        "",
        description=(
            "Origins the codec server serves WITHOUT a token. Only for the embedded dev stack, "
            "whose Web UI has no login; never set it in production."
        ),
    )
    codec_namespaces: str = Field(
        "",
        description=(
            "Namespaces the codec server serves (X-Namespace), comma-separated (default: "
            "TEMPORAL_NAMESPACE, or default)."
        ),
    )
    codec_max_body_bytes: int = Field(
        4 * 1024 * 1024, gt=0, description="Largest request the codec server reads (413 beyond)."
    )
    dead_letter_dir: Path | None = Field(
        None,
        description=(
            "Dead letters kept as files in a directory of their own (default: var/dead-letters): "
            "a gateway or `starter.py dead-letters` finding it copies them into the store, then "
            "renames it *.imported."
        ),
    )
    dead_letter_unauthenticated_quota_bytes: int = Field(
        64 * 1024 * 1024,
        gt=0,
        description=(
            "Bytes the dead letters of unauthenticated senders may take in the store, all "
            "gateways together; the oldest are removed to make room (letters from "
            "authenticated senders are never removed)."
        ),
    )
    dead_letter_unauthenticated_samples_per_minute: int = Field(
        30,
        ge=0,
        description=(
            "How many refusals of unauthenticated senders each gateway process keeps as dead "
            "letters a minute; the others are counted and logged only."
        ),
    )
    gateway_requests_per_minute: int = Field(
        1200, gt=0, description="Requests one source may send the gateway a minute (429 beyond)."
    )
    gateway_refusals_per_minute: int = Field(
        30,
        gt=0,
        description=(
            "Unauthenticated requests from one source the gateway refuses a minute before it "
            "answers every request from that source 429 until the minute has moved on."
        ),
    )
    gateway_rate_limit_exempt: str = Field(
        "",
        description=(
            "Sources never rate-limited: comma-separated addresses or networks (CIDR), e.g. the "
            "order service's egress."
        ),
    )
    gateway_trusted_proxies: str = Field(
        "",
        description=(
            "Addresses of the reverse proxies in front of the gateway, comma-separated: their "
            "X-Forwarded-For names the source. Unset: the peer address is the source."
        ),
    )
    http_max_connections: int = Field(
        1000,
        gt=0,
        description="Open connections the gateway and the codec server each hold; beyond, "
        "a new one is closed at once.",
    )
    http_max_header_bytes: int = Field(
        16 * 1024,
        ge=1024,
        description="Largest request line and headers the gateway and codec server read.",
    )
    http_header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="How long a connection may take to send a request's line and headers.",
    )
    http_body_timeout_seconds: float = Field(
        30.0, gt=0, description="How long a request's body may take to arrive (408 beyond)."
    )

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
    late_parcel_watch: timedelta = Field(
        timedelta(days=30),
        description="How long an expired return whose parcel has a tracking number keeps "
        "listening for it: a parcel sent late is refunded all the same (P30D; P0D: never).",
    )
    refund_trigger: Literal["dispatch_proof", "delivery"] = Field(
        "dispatch_proof",
        description="Request the refund at the first acceptance scan, or once delivered.",
    )
    return_label_paid_by: Literal["customer", "seller"] = Field(
        "customer",
        description="Who pays for a return label the marketplace buys from the carrier: the "
        "customer (its price, shown before they choose, is withheld from the refund; Art. "
        "14(1)) or the seller.",
    )
    refund_decision_before: timedelta = Field(
        timedelta(days=3),
        gt=timedelta(0),
        description="How long before the refund deadline operations are asked to give a "
        "fallback address or refund without a return, when the seller has given none (P3D).",
    )
    refund_request_ahead: timedelta = Field(
        timedelta(days=1),
        gt=timedelta(0),
        description="How long before the refund deadline a refund the deadline calls for (no "
        "address, a booked collection still to come, a parcel not delivered yet) is requested, "
        "so that the order service pays it within the deadline (P1D); less than "
        "RETURNFLOW_REFUND_DECISION_BEFORE.",
    )
    delivery_overdue: timedelta = Field(
        timedelta(days=21),
        gt=timedelta(0),
        description="After the proof of dispatch, how long the parcel may take to reach the "
        "seller before it is taken as lost and operations are told (P21D).",
    )
    inspection_period: timedelta = Field(
        timedelta(days=7),
        gt=timedelta(0),
        description="After delivery, how long the seller has to report what came back; "
        "silence means as sold (P7D).",
    )
    rejection_review: timedelta = Field(
        timedelta(days=14),
        description="How long a rejected return stays open for operations to override (P14D).",
    )
    choice_carrier_timeout: timedelta = Field(
        timedelta(minutes=3),
        gt=timedelta(0),
        description="How long the carrier calls of one customer choice (label, pickup, counter "
        "code) may take in all, retries included, before the choice is refused (PT3M).",
    )
    max_choice_changes: int = Field(
        5,
        ge=0,
        description="How many times a customer may change how they send the parcel once a "
        "choice went through; past it, operations decide.",
    )
    reminder_schedule_id: str = Field(
        "unshipped-returns-reminder",
        min_length=1,
        # Its sweeps' workflow IDs (the ID and the time of the run) name each reminder's origin
        # in the returns' timelines, which takes these characters only (`ShippingReminder`).
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,99}$",
        description="The Temporal Schedule that runs the reminder sweep (starter.py schedule): "
        "letters, digits and . _ : @ + -, starting with a letter or digit, at most 100.",
    )
    reminder_cron: str = Field(
        "0 9 * * *",
        description="When the reminder sweep runs: a cron expression (minute hour day-of-month "
        "month day-of-week), in reminder_time_zone.",
    )
    reminder_time_zone: str = Field(
        "Europe/Paris",
        description="IANA time zone of reminder_cron, and of the calendar day a return gets at "
        "most one reminder in.",
    )
    reminder_horizon: timedelta = Field(
        timedelta(days=3),
        ge=timedelta(0),
        description="Remind unshipped returns whose ShipBy is at most this far ahead, or already "
        "passed but not expired yet (P3D).",
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
        None,
        description="Where refund requests and claims are recorded when no order service URL "
        "is set (default: var/orders).",
    )
    order_service_url: str | None = Field(
        None,
        description="The marketplace's order service (schemas/marketplace-openapi.json): "
        "refunds and claims are requested there over HTTP. Unset: recorded in a local file "
        "(orders_dir).",
    )
    marketplace_token: SecretStr | None = Field(
        None, description="The bearer token returnflow shows the marketplace's services."
    )
    marketplace_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=25,
        description="How long each phase of one call to a marketplace service (connect, send, "
        "read) may take; the call's activity gives up at 30 s.",
    )
    marketplace_ca_file: Path | None = Field(
        None,
        description="CA bundle the marketplace's services' TLS certificates are checked "
        "against (default: certifi's bundle, as httpx ships it).",
    )
    event_subscribers: str | None = Field(
        None,
        description="Where each return's events go (docs/event-feed.md): comma-separated "
        "NAME=URL. Unset: no event feed.",
    )
    event_subscriber_secrets: SecretStr | None = Field(
        None,
        description="Each subscriber's Standard Webhooks signing secret: comma-separated "
        "NAME=whsec_... (a name twice while its secret is rotated: both sign).",
    )
    event_subscribers_personal: str = Field(
        "",
        description="Comma-separated names of the subscribers that receive the events' personal "
        "fields (the customer's contact, the pickup address); the others never do.",
    )
    event_delivery_attempts: int = Field(
        12,
        ge=1,
        le=100,
        description="Deliveries of one event to one subscriber, with backoff from 1 s to 10 "
        "minutes, before it is parked for operations (12: about half an hour).",
    )
    sellers_file: Path = Field(
        Path("examples/sellers.json"),
        description="Sellers' return addresses and contacts, when no seller service URL is set.",
    )
    seller_service_url: str | None = Field(
        None,
        description="The marketplace's seller directory and seller chat "
        "(schemas/marketplace-openapi.json): sellers' addresses and contacts are looked up, "
        "and sellers asked, there over HTTP. Unset: the sellers file and a local chat outbox "
        "(seller_chat_dir).",
    )
    seller_cache_seconds: int = Field(
        300,
        ge=0,
        le=3600,
        description="How long a seller's record from the seller service is used before it is "
        "asked again (a seller's new address is seen within this time).",
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
    allow_sandbox_carriers: bool = Field(
        False,
        description=(
            "Let the worker and the gateway start with carriers of the embedded carrier sandbox "
            "or with a public default secret (the sandbox's, the dev stack's), and the codec "
            "server with the dev stack's token: true for the dev stack, the tests and a trial "
            "only. Unset, they refuse to start, naming the setting."
        ),
    )
    carrier_timeout_seconds: float = Field(
        20.0,
        gt=0,
        description="Per HTTP call to a carrier, for those whose own timeout "
        "(RETURNFLOW_EASYPOST_TIMEOUT_SECONDS, RETURNFLOW_COLISSIMO_TIMEOUT) is not set.",
    )
    carrier_ledger: Path | None = Field(
        None,
        description=(
            "A carrier ledger kept in a SQLite file of its own (default: "
            "var/carrier-ledger.sqlite): a worker finding it at start copies what it holds into "
            "the store, then renames it *.imported."
        ),
    )

    store_url: SecretStr | None = Field(
        None,
        description=(
            "Where the product keeps what lives outside Temporal (the carrier ledger, the "
            "sent-notices ledger, the dead letters): postgresql://USER:PASSWORD@HOST:PORT/DB "
            "for workers and gateways on several hosts, or sqlite:///PATH for one host "
            "(default: sqlite:///var/returnflow.sqlite). See docs/store.md."
        ),
    )
    store_pool_size: int = Field(
        10, ge=1, le=200, description="Connections to PostgreSQL each process may hold at most."
    )
    store_connect_timeout_seconds: float = Field(
        10.0, gt=0, description="How long a process waits for the store at start."
    )

    smtp_host: str = Field("127.0.0.1", description="The SMTP relay notices are sent through.")
    smtp_port: int = Field(1025, ge=1, le=65535, description="The SMTP relay's port.")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "none", description="none (local sink), starttls (port 587) or tls (port 465)."
    )
    smtp_username: str | None = Field(
        None, description="Login at the relay (with the password); unset: no login."
    )
    smtp_password: SecretStr | None = Field(None, description="Password of the relay login.")
    smtp_timeout_seconds: float = Field(
        30.0, gt=0, description="How long one exchange with the relay may take."
    )
    mail_from: str = Field(
        "Marketplace Returns <returns@marketplace.example>", description="From: of notices."
    )
    mail_domain: str = Field(
        "returns.marketplace.example", description="Right-hand side of every Message-ID."
    )
    marketplace_name: str = Field(
        "Marketplace", description="The marketplace's name, as notices and chat messages sign."
    )
    customer_page_url: str = Field(
        "http://127.0.0.1:8000",
        description="The public base URL of the customer's pages, served by the gateway under "
        "/my/: every customer email links to {customer_page_url}/my/returns/<token>, and the "
        "withdrawal links the order service asks for open {customer_page_url}/my/withdraw/<token>.",
    )
    customer_page_keys: SecretStr | None = Field(
        None,
        description="Keys sealing the customer's link tokens: comma-separated KEY_ID=BASE64 "
        "(32 random bytes each; the first seals, every one listed opens). Unset: keys derived "
        "from the payload encryption keys.",
    )
    customer_page_link_days: int = Field(
        120,
        ge=1,
        le=730,
        description="How long a return page link opens the page after the email carrying it "
        "was sent; an expired link offers to email a new one.",
    )
    withdrawal_link_minutes: int = Field(
        60,
        ge=5,
        le=24 * 60,
        description="How long a withdrawal link the order service asks for opens the "
        "withdrawal function: the customer's 'get help' button asks for a fresh one each time.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("reminder_time_zone")
    @classmethod
    def _known_time_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            message = f"unknown time zone {zone!r}: an IANA name, e.g. Europe/Paris"
            raise ValueError(message) from None
        return zone

    @field_validator("operations_email")
    @classmethod
    def _deliverable(cls, email: str) -> str:
        # Operations' own notices tell them what failed: an address their notices can never
        # go to is named at start, not found out at the first escalation.
        problem = email_problem(email)
        if problem is not None:
            raise ValueError(f"{problem}: a mailbox at a domain with a dot, e.g. ops@example.org")
        return email

    @field_validator("reminder_cron")
    @classmethod
    def _cron(cls, cron: str) -> str:
        fields = cron.split()
        descriptor = CRON_DESCRIPTOR.fullmatch(" ".join(fields)) is not None
        if not descriptor and not (
            5 <= len(fields) <= 7 and all(CRON_FIELD.fullmatch(f.upper()) for f in fields)
        ):
            raise ValueError(
                f"not a cron expression: {cron!r}: five fields, minute hour day-of-month month "
                "day-of-week (e.g. '0 9 * * *'), or a descriptor such as @daily"
            )
        return cron

    @field_validator("gateway_rate_limit_exempt", "gateway_trusted_proxies")
    @classmethod
    def _addresses(cls, value: str) -> str:
        address_networks(value)
        return value

    @field_validator(
        "web_ui_url",
        "customer_page_url",
        "carrier_sandbox_url",
        "order_service_url",
        "seller_service_url",
        "codec_jwks_url",
    )
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        # An empty value (a line left blank in an env file) would make every link relative.
        if value is None:
            return None
        if not is_http_url(value):
            raise ValueError(
                "not an absolute http:// or https:// URL, e.g. https://returns.marketplace.example"
            )
        return value

    @field_validator("store_url")
    @classmethod
    def _store_scheme(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None:
            scheme, found, _ = url.get_secret_value().partition("://")
            if not found or scheme not in STORE_SCHEMES:
                # The value is never repeated: it may hold a password.
                raise ValueError(
                    "not a store URL: postgresql://USER:PASSWORD@HOST/DB or sqlite:///PATH"
                )
        return url

    @model_validator(mode="after")
    def _customer_binding_has_secrets(self) -> Settings:
        if (
            self.gateway_customer_binding == "required"
            and not self.gateway_customer_assertion_secrets
        ):
            raise ValueError(
                "RETURNFLOW_GATEWAY_CUSTOMER_BINDING=required needs "
                "RETURNFLOW_GATEWAY_CUSTOMER_ASSERTION_SECRETS, the secrets the customer apps "
                "sign X-Returnflow-Customer with"
            )
        return self

    @model_validator(mode="after")
    def _operations_decide_before_the_refund_goes(self) -> Settings:
        if self.refund_request_ahead >= self.refund_decision_before:
            raise ValueError(
                "RETURNFLOW_REFUND_REQUEST_AHEAD must be less than "
                "RETURNFLOW_REFUND_DECISION_BEFORE: operations decide on a return without an "
                "address before its refund is requested"
            )
        return self

    @model_validator(mode="after")
    def _marketplace_services_have_a_token(self) -> Settings:
        for name, url in (
            ("RETURNFLOW_ORDER_SERVICE_URL", self.order_service_url),
            ("RETURNFLOW_SELLER_SERVICE_URL", self.seller_service_url),
        ):
            if url is not None and self.marketplace_token is None:
                raise ValueError(
                    f"{name} is set: RETURNFLOW_MARKETPLACE_TOKEN, the bearer token returnflow "
                    "shows the marketplace's services, is needed too"
                )
        return self

    @model_validator(mode="after")
    def _event_subscribers_read(self) -> Settings:
        self.subscribers()
        return self

    def subscribers(self) -> dict[str, Subscriber]:
        """The event feed's subscribers by name (none when unset)."""
        secrets = self.event_subscriber_secrets
        return parse_subscribers(
            self.event_subscribers,
            secrets.get_secret_value() if secrets else None,
            self.event_subscribers_personal,
        )

    def payload_keyring(self) -> Keyring:
        """The payload encryption keys; a clear error when none is configured."""
        rings: list[Keyring] = []
        if self.payload_keys is not None:
            rings.append(
                Keyring.parse(
                    self.payload_keys.get_secret_value(), source="RETURNFLOW_PAYLOAD_KEYS"
                )
            )
        if self.payload_key_file is not None:
            rings.append(Keyring.from_file(self.payload_key_file))
        elif not rings and self.dev_key_file.is_file():
            # The dev stack's own key: a shell in the project finds the stack's returns.
            rings.append(Keyring.from_file(self.dev_key_file))
        if not rings:
            raise PayloadKeyError(
                "no payload encryption key: set RETURNFLOW_PAYLOAD_KEYS or "
                "RETURNFLOW_PAYLOAD_KEY_FILE (`python starter.py keys new` makes a key; the dev "
                f"stack's is {self.dev_key_file} once it has started)"
            )
        keys: dict[str, bytes] = {}
        for ring in rings:
            for key_id in ring.keys:
                if key_id in keys:
                    raise PayloadKeyError(
                        f"key {key_id!r} is in both RETURNFLOW_PAYLOAD_KEYS and "
                        "RETURNFLOW_PAYLOAD_KEY_FILE"
                    )
            keys.update(ring.keys)
        return Keyring(keys=keys, current=self.payload_key_id or rings[0].current)

    @property
    def dev_key_file(self) -> Path:
        """Where the dev stack keeps the key it makes on its first start (mode 600)."""
        return self.var_dir / DEV_KEY_FILE

    @property
    def customer_pages_over_https(self) -> bool:
        """The customer's pages are served over HTTPS: they carry HSTS."""
        return self.customer_page_url.startswith("https://")

    @property
    def carrier_codes(self) -> list[str]:
        return [c.strip() for c in self.carriers.split(",") if c.strip()]

    @property
    def carrier_ledger_path(self) -> Path:
        return self.carrier_ledger or self.var_dir / "carrier-ledger.sqlite"

    @property
    def store_path(self) -> Path:
        """The embedded store's SQLite file, when no PostgreSQL is configured."""
        return self.var_dir / "returnflow.sqlite"

    @property
    def seller_chat_path(self) -> Path:
        return self.seller_chat_dir or self.var_dir / "seller-chat"

    @property
    def orders_path(self) -> Path:
        return self.orders_dir or self.var_dir / "orders"

    @property
    def dead_letter_path(self) -> Path:
        return self.dead_letter_dir or self.var_dir / "dead-letters"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"


def refusal(err: ValidationError, prefix: str = "RETURNFLOW_") -> str:
    """Settings refused, as one line naming each environment variable (`prefix` and the field)
    and why (never the value, which may be a secret)."""
    return "invalid settings: " + "; ".join(
        (f"{prefix}{'_'.join(map(str, e['loc'])).upper()}: " if e["loc"] else "")
        + e["msg"].removeprefix("Value error, ")
        for e in err.errors()
    )
