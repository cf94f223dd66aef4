"""The sandbox's carriers and the secrets published with the code are a dev stack's: the worker
and the gateway refuse to start with them elsewhere, naming the setting."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from activities.carriers.registry import CarrierConfigurationError, CarrierRegistry
from devstack.config import StackConfig
from plumbing.public_defaults import (
    PUBLIC_SECRETS,
    PublicDefaultsRefused,
    refuse_public_defaults,
)
from plumbing.settings import Settings
from store import Store
from tests.keys import TEST_KEYS

ROOT = Path(__file__).resolve().parents[2]


def production_env(**variables: str) -> dict[str, str]:
    """A process's environment as a deployment gives it: no dev stack's allowance, Temporal
    nowhere (the refusal comes before any connection)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{s.getsockname()[1]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNFLOW_"))}
    return env | {"TEMPORAL_ADDRESS": nowhere, "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS, **variables}


def run(*command: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=env | {"RETURNFLOW_VAR_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_worker_configured_with_the_sandbox_s_carriers_refuses_to_start(tmp_path: Path) -> None:
    started = run("worker.py", env=production_env(), tmp_path=tmp_path)

    assert started.returncode == 2
    assert "RETURNFLOW_CARRIERS: sandbox, relay are carriers of the embedded" in started.stderr
    assert "RETURNFLOW_ALLOW_SANDBOX_CARRIERS=true" in started.stderr
    assert "Traceback" not in started.stderr


def test_a_gateway_with_the_dev_stack_s_public_token_refuses_to_start(tmp_path: Path) -> None:
    env = production_env(
        RETURNFLOW_CARRIERS="easypost",
        RETURNFLOW_GATEWAY_EVENT_SECRETS="order-service-own-secret-1",
        RETURNFLOW_GATEWAY_CUSTOMER_TOKENS=f"customer-app={StackConfig().customer_token}",
    )
    started = run("starter.py", "serve", env=env, tmp_path=tmp_path)

    assert started.returncode == 2
    assert "RETURNFLOW_GATEWAY_CUSTOMER_TOKENS: holds a public default secret" in started.stderr
    assert StackConfig().customer_token not in started.stderr
    assert "RETURNFLOW_CARRIERS" not in started.stderr
    assert "RETURNFLOW_GATEWAY_EVENT_SECRETS" not in started.stderr


def test_the_sandbox_s_default_webhook_secret_is_named_with_its_carriers(
    embedded_store: Store,
) -> None:
    settings = Settings(_env_file=None, allow_sandbox_carriers=False, carriers="sandbox")

    with pytest.raises(CarrierConfigurationError) as refused:
        CarrierRegistry.from_settings(settings, embedded_store)

    assert "RETURNFLOW_CARRIERS: sandbox is a carrier of the embedded" in str(refused.value)
    assert "RETURNFLOW_CARRIER_SANDBOX_WEBHOOK_SECRET: holds a public" in str(refused.value)
    assert "RETURNFLOW_CARRIER_SANDBOX_API_KEY: holds a public" in str(refused.value)


def test_real_carriers_and_own_secrets_start() -> None:
    settings = Settings(
        _env_file=None,
        allow_sandbox_carriers=False,
        carriers="colissimo,easypost",
        gateway_event_secrets=SecretStr("new-secret-2,old-secret-1"),
        gateway_operations_tokens=SecretStr("alice=operations-alice-0123456789"),
        customer_page_url="https://returns.marketplace.example",
    )

    refuse_public_defaults(settings)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "https://localhost", "https://127.0.0.1", "http://returns.example"],
)
def test_customer_emails_never_link_to_this_machine_or_over_plain_http(url: str) -> None:
    settings = Settings(
        _env_file=None,
        allow_sandbox_carriers=False,
        carriers="colissimo",
        customer_page_url=url,
    )

    with pytest.raises(PublicDefaultsRefused) as refused:
        refuse_public_defaults(settings)

    assert f"RETURNFLOW_CUSTOMER_PAGE_URL: {url} is not a public https:// address" in str(
        refused.value
    )


def test_a_dev_stack_allows_what_it_runs_with() -> None:
    stack = StackConfig()
    env = stack.service_env()
    settings = Settings(
        _env_file=None,
        allow_sandbox_carriers=env["RETURNFLOW_ALLOW_SANDBOX_CARRIERS"] == "true",
        gateway_event_secrets=SecretStr(env["RETURNFLOW_GATEWAY_EVENT_SECRETS"]),
        gateway_customer_tokens=SecretStr(env["RETURNFLOW_GATEWAY_CUSTOMER_TOKENS"]),
    )

    refuse_public_defaults(settings)
    with pytest.raises(PublicDefaultsRefused):
        refuse_public_defaults(settings.model_copy(update={"allow_sandbox_carriers": False}))


def test_every_credential_the_dev_stack_publishes_is_known_as_public() -> None:
    stack = StackConfig()
    published = {
        stack.event_secret,
        stack.seller_token,
        stack.customer_token,
        stack.operations_token,
        stack.codec_token,
        stack.marketplace_token,
        stack.feed_secret,
        Settings(_env_file=None).carrier_sandbox_api_key.get_secret_value(),
        Settings(_env_file=None).carrier_sandbox_webhook_secret.get_secret_value(),
    }

    assert published <= PUBLIC_SECRETS


@pytest.mark.parametrize("service", ["order_service_url", "seller_service_url"])
def test_the_marketplace_token_never_travels_over_plain_http(service: str) -> None:
    settings = Settings(
        _env_file=None,
        allow_sandbox_carriers=False,
        carriers="colissimo",
        customer_page_url="https://returns.marketplace.example",
        marketplace_token=SecretStr("a-real-token-0123456789"),
    ).model_copy(update={service: "http://api.marketplace.example"})

    with pytest.raises(PublicDefaultsRefused) as refused:
        refuse_public_defaults(settings)

    named = f"RETURNFLOW_{service.upper()}: http://api.marketplace.example is not"
    assert named in str(refused.value)
    refuse_public_defaults(settings.model_copy(update={service: "https://api.marketplace.example"}))


@pytest.mark.parametrize("service", ["order_service_url", "seller_service_url"])
def test_a_marketplace_service_needs_the_marketplace_token(service: str) -> None:
    with pytest.raises(ValueError, match=f"RETURNFLOW_{service.upper()} is set"):
        Settings.model_validate({service: "https://api.marketplace.example"})


def test_the_event_feed_refuses_a_public_secret_and_plain_http_outside_a_trial() -> None:
    stack = StackConfig()
    env = stack.service_env()
    settings = Settings(
        _env_file=None,
        allow_sandbox_carriers=False,
        carriers="colissimo",
        customer_page_url="https://returns.marketplace.example",
        event_subscribers=env["RETURNFLOW_EVENT_SUBSCRIBERS"],
        event_subscriber_secrets=SecretStr(env["RETURNFLOW_EVENT_SUBSCRIBER_SECRETS"]),
    )

    with pytest.raises(PublicDefaultsRefused) as refused:
        refuse_public_defaults(settings)

    assert "RETURNFLOW_EVENT_SUBSCRIBER_SECRETS: holds a public default secret" in str(
        refused.value
    )
    assert f"RETURNFLOW_EVENT_SUBSCRIBERS: marketplace's {stack.feed_url} is not a public" in str(
        refused.value
    )
