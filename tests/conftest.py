"""Shared fixtures: the Temporal servers from the PyPI wheels, started once per session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment

from domain import search_attributes as sa
from plumbing.settings import Settings
from plumbing.temporal import (
    cli_path,
    register_search_attributes,
    test_server_path,
)
from store import Store, open_store
from tests.keys import PAGE_KEYS, converter_for_tests
from tests.postgres import PostgresServer, postgres_server

# The tests run the carrier sandbox's carriers, as the dev stack does; a test of the refusal
# sets `allow_sandbox_carriers=False` itself.
os.environ.setdefault("RETURNFLOW_ALLOW_SANDBOX_CARRIERS", "true")
# The keys sealing the customer's link tokens in every process a test starts (tests/keys.py).
os.environ.setdefault("RETURNFLOW_CUSTOMER_PAGE_KEYS", PAGE_KEYS)


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The dev server with per-workflow time skipping (updates work here, unlike the Java
    test server). Workflows start with the clock running normally; a test moves it on with
    `env.fast_forward(handle, duration)`, so timers fire exactly when the test says."""
    env = await WorkflowEnvironment.start_time_skipping_v2(
        ts_config=TimeSkippingConfig(enabled=False),
        dev_server_existing_path=str(cli_path()),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
        ],
        search_attributes=sa.ALL,
        data_converter=converter_for_tests(),
    )
    async with env:
        yield env


@pytest.fixture(scope="session")
async def java_test_server_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Java time-skipping test server: for paths without workflow updates (it hangs on
    updates)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()),
        data_converter=converter_for_tests(),
    )
    await register_search_attributes(env.client)
    async with env:
        yield env


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """PostgreSQL from Debian's package, started once for the tests that ask for it."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings whose store is the embedded SQLite file, then a new PostgreSQL database: a
    test taking it runs on each."""
    if request.param == "sqlite":
        return Settings(var_dir=tmp_path)
    server: PostgresServer = request.getfixturevalue("postgres")
    return Settings(var_dir=tmp_path, store_url=SecretStr(server.new_database()))


@pytest.fixture
def embedded_store(tmp_path: Path) -> Iterator[Store]:
    """The embedded store in the test's own directory (`Settings(var_dir=tmp_path)`'s)."""
    store = open_store(Settings(var_dir=tmp_path))
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def product_store(store_settings: Settings) -> Iterator[Store]:
    """The product's store on each database (`store_settings`), migrated."""
    store = open_store(store_settings)
    try:
        yield store
    finally:
        store.close()
