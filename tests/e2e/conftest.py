"""The real dev stack (dev server, worker, carrier sandbox, SMTP sink) on free loopback ports."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devstack.config import StackConfig
from devstack.stack import DevStack, service_environment

ROOT = Path(__file__).resolve().parents[2]


def stack_config(var_dir: Path) -> StackConfig:
    return StackConfig.on_free_ports(var_dir, sellers_file=ROOT / "examples" / "sellers.json")


def stack_env(config: StackConfig) -> dict[str, str]:
    """The environment a user's shell has when pointed at this stack."""
    env = service_environment(os.environ, config.service_env())
    names = (
        "host",
        "temporal_port",
        "ui_port",
        "sandbox_port",
        "marketplace_port",
        "smtp_port",
        "gateway_port",
        "codec_port",
        "worker_metrics_port",
        "gateway_metrics_port",
        "codec_metrics_port",
        "temporal_metrics_port",
        "prometheus_port",
    )
    for name in (*names, "var_dir"):
        env[f"RETURNFLOW_STACK_{name.upper()}"] = str(getattr(config, name))
    env["RETURNFLOW_STACK_SELLERS_FILE"] = str(config.sellers_file)
    return env


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevStack]:
    config = stack_config(tmp_path_factory.mktemp("var"))
    async with DevStack(config) as running:
        yield running


def starter(stack: DevStack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python starter.py ...` as an operator would, against the test's stack."""
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), *args],
        cwd=ROOT,
        env=stack_env(stack.config),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
