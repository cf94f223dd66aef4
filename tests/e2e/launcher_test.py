"""`make stack`: one command starts every service, Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack import stack
from devstack.config import free_ports
from plumbing.settings import Settings
from tests.e2e.conftest import ROOT, stack_config, stack_env
from tests.plumbing.public_defaults_test import run

pytestmark = pytest.mark.e2e


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def service_pids(log: str) -> list[int]:
    return [
        int(line.split('"pid": ')[1].split(",")[0])
        for line in log.splitlines()
        if '"pid": ' in line
    ]


def test_ctrl_c_stops_every_service_cleanly(tmp_path: Path) -> None:
    config = stack_config(tmp_path / "var")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "devstack", "up"],
        cwd=ROOT,
        env=stack_env(config),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert launcher.stdout is not None
    banner = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = launcher.stdout.readline()
        banner.append(line)
        if line.startswith("Ctrl-C stops everything") or not line:
            break
    pids = service_pids((config.log_dir / "devstack.log").read_text())

    launcher.send_signal(signal.SIGINT)
    rest, _ = launcher.communicate(timeout=60)

    text = "".join(banner)
    assert "returnflow dev stack is up" in text, text + rest
    assert f"Web UI          {config.web_ui_url}" in text
    assert f"marketplace     {config.marketplace_url}" in text
    # Where to look at the figures: each service's metrics, and Prometheus scraping them all.
    assert f"gateway http://{config.host}:{config.gateway_metrics_port}/metrics" in text
    assert f"Prometheus      {config.prometheus_url}" in text
    assert len(pids) == 8 and all(not alive(pid) for pid in pids)
    assert launcher.returncode == 0
    services = ("codec-server", "temporal", "carrier-sandbox", "mail-sink", "worker", "gateway")
    for name in (*services, "prometheus"):
        assert f"{name:<16} stopped" in rest
        assert (config.log_dir / f"{name}.log").exists()
    assert (config.var_dir / "temporal.sqlite").exists()


def test_a_stack_of_its_own_takes_ports_no_outgoing_connection_is_given() -> None:
    low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())

    ports = free_ports(6)

    assert len(set(ports)) == 6
    assert not any(low <= port <= high for port in ports)


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        (
            "RETURNFLOW_STACK_GATEWAY_PORT",
            "70000",
            "RETURNFLOW_STACK_GATEWAY_PORT: Input should be less than or equal to 65535",
        ),
        ("RETURNFLOW_LOG_LEVEL", "LOUD", "RETURNFLOW_LOG_LEVEL: Input should be 'DEBUG'"),
    ],
)
def test_a_stack_setting_refused_is_named_before_anything_starts(
    tmp_path: Path, variable: str, value: str, said: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNFLOW_STACK_")}
    env |= {variable: value, "RETURNFLOW_STACK_VAR_DIR": str(tmp_path / "var")}

    refused = run("-m", "devstack.demo", "--exit", env=env, tmp_path=tmp_path)

    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith(f"error: invalid settings: {said}"), refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "var").exists()


def test_the_stacks_services_never_take_the_shells_temporal_or_store(tmp_path: Path) -> None:
    """A shell set up for production (its Temporal Cloud key, its PostgreSQL store) starts a
    dev stack whose services reach the dev server and the stack's own store only; the shell's
    other settings pass, such as a real carrier to try."""
    shell = {
        "PATH": "/usr/bin",
        "TEMPORAL_API_KEY": "production-key",
        "TEMPORAL_ADDRESS": "returns.a1b2c.tmprl.cloud:7233",
        "RETURNFLOW_STORE_URL": "postgresql://returnflow:secret@db.internal/returnflow",
        "RETURNFLOW_CARRIER_LEDGER": "/srv/returnflow/var/carrier-ledger.sqlite",
        "RETURNFLOW_DEAD_LETTER_DIR": "/srv/returnflow/var/dead-letters",
        "RETURNFLOW_CARRIERS": "colissimo",
    }
    config = stack_config(tmp_path)

    env = stack.service_environment(shell, config.service_env())

    assert env["TEMPORAL_ADDRESS"] == config.temporal_address
    assert "TEMPORAL_API_KEY" not in env
    own = config.var_dir
    assert env["RETURNFLOW_STORE_URL"] == f"sqlite:///{(own / 'returnflow.sqlite').resolve()}"
    assert env["RETURNFLOW_CARRIER_LEDGER"] == str(own / "carrier-ledger.sqlite")
    assert env["RETURNFLOW_DEAD_LETTER_DIR"] == str(own / "dead-letters")
    assert env["RETURNFLOW_CARRIERS"] == "colissimo"
    assert env["PATH"] == "/usr/bin"

    config = config.model_copy(update={"store_url": "postgresql://localhost/returnflow_dev"})
    env = stack.service_environment(shell, config.service_env())
    assert env["RETURNFLOW_STORE_URL"] == "postgresql://localhost/returnflow_dev"


def test_a_dotenv_in_the_project_never_points_the_stacks_services_at_another_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The services run in the project directory and read its `.env`, kept there for commands
    against a real store: the stack's own settings win over it."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text(
        "RETURNFLOW_STORE_URL=sqlite:////srv/returnflow/production.sqlite\n"
        "RETURNFLOW_DEAD_LETTER_DIR=/srv/returnflow/var/dead-letters\n"
        "RETURNFLOW_CARRIER_LEDGER=/srv/returnflow/var/carrier-ledger.sqlite\n"
    )
    config = stack_config(tmp_path / "var")
    for name, value in stack.service_environment({}, config.service_env()).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(project)

    settings = Settings()

    assert settings.store_url is not None
    assert "production" not in settings.store_url.get_secret_value()
    assert settings.dead_letter_path.is_relative_to(config.var_dir)
    assert settings.carrier_ledger_path.is_relative_to(config.var_dir)
