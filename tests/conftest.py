"""Shared fixtures: the Temporal servers from the PyPI wheels, started once per session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment

from domain import search_attributes as sa
from plumbing.temporal import (
    cli_path,
    register_search_attributes,
    test_server_path,
)
from tests.keys import PAGE_KEYS, converter_for_tests

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
