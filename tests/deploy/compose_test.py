"""docker-compose.yml and the Dockerfile, checked without a Docker engine: Compose validates the
file, and returnflow's processes run from a copy of exactly what the Dockerfile puts in the
image, with the environment Compose would give each container."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

import starter
from carrier_sandbox.__main__ import parse_args as sandbox_args
from devstack.config import free_ports
from plumbing.encryption import key_line
from plumbing.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER_COMPOSE = Path("/usr/bin/docker-compose")
OPERATOR_TOKEN = "ops-cli-0123456789abcdef"
UI = "http://localhost:8080"
SECRETS = {
    "POSTGRES_PASSWORD": "a-database-password",
    "RETURNFLOW_STORE_PASSWORD": "a-store-password",
    "GRAFANA_ADMIN_PASSWORD": "a-grafana-password",
    "GRAFANA_SECRET_KEY": "a-grafana-secret-key",
}
"""What the operator sets beside the compose file: the secrets it has no default for."""


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example env file as an operator fills it in: a key, secrets and tokens."""
    filled = {
        "RETURNFLOW_PAYLOAD_KEYS": key_line("compose-1"),
        "RETURNFLOW_GATEWAY_EVENT_SECRETS": "order-service-secret-1",
        "RETURNFLOW_GATEWAY_OPERATIONS_TOKENS": "alice=ops-gateway-0123456789",
        "RETURNFLOW_CODEC_TOKENS": f"cli={OPERATOR_TOKEN}",
    }
    lines = []
    for line in (ROOT / "deploy" / "returnflow.env.example").read_text().splitlines():
        name = line.partition("=")[0]
        lines.append(f"{name}={filled.pop(name)}" if name in filled else line)
    assert not filled, f"the example no longer has {sorted(filled)}"
    path = tmp_path_factory.mktemp("compose") / "returnflow.env"
    path.write_text("\n".join(lines) + "\n")
    return path


def compose_config(
    env_file: Path, *files: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` of docker-compose.yml, or of `files` laid over one another."""
    if not DOCKER_COMPOSE.exists():
        pytest.fail(
            f"{DOCKER_COMPOSE} is missing: run `make compose-tool` (as root), or "
            "`apt-get install --no-install-recommends docker-compose`",
            pytrace=False,
        )
    env = {"PATH": "/usr/bin:/bin", "RETURNFLOW_ENV_FILE": str(env_file), **variables}
    chosen = [argument for name in files for argument in ("-f", name)]
    return subprocess.run(
        [str(DOCKER_COMPOSE), "--project-directory", str(ROOT), *chosen, "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def resolved(env_file: Path) -> dict[str, Any]:
    """docker-compose.yml as Compose resolves it (schema checked, variables interpolated)."""
    result = compose_config(env_file, **SECRETS)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def returnflow_services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in config["services"].items()
        if str(service.get("image", "")).startswith("returnflow:")
    }


def test_compose_refuses_to_start_without_the_database_password(env_file: Path) -> None:
    result = compose_config(env_file)
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD" in result.stderr


def test_compose_refuses_to_start_without_the_store_password(env_file: Path) -> None:
    given = {name: value for name, value in SECRETS.items() if name != "RETURNFLOW_STORE_PASSWORD"}
    result = compose_config(env_file, **given)
    assert result.returncode != 0
    assert "set RETURNFLOW_STORE_PASSWORD" in result.stderr


@pytest.mark.parametrize("missing", ["GRAFANA_ADMIN_PASSWORD", "GRAFANA_SECRET_KEY"])
def test_compose_refuses_to_start_without_grafana_s_secrets(env_file: Path, missing: str) -> None:
    """Grafana's built-in admin password and secret key are public: no default replaces them."""
    given = {name: value for name, value in SECRETS.items() if name != missing}
    result = compose_config(env_file, **given)
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr


def test_the_stack_has_temporal_its_ui_and_every_returnflow_process(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    assert set(services) == {
        "postgresql",
        "store",
        "temporal",
        "temporal-ui",
        "setup",
        "worker",
        "promote",
        "gateway",
        "codec-server",
        "carrier-sandbox",
        "mail-sink",
        "prometheus",
        "grafana",
    }
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    assert services["worker"]["deploy"]["replicas"] >= 2
    # Workers start once the search attributes and the schedule are there.
    assert services["worker"]["depends_on"]["setup"]["condition"] == (
        "service_completed_successfully"
    )
    # Once the workers poll, their build takes the new returns (the old one drains).
    assert services["promote"]["command"][2:4] == ["deployment", "promote"]
    assert services["promote"]["restart"] == "no"
    # On SIGTERM a worker gets more than its own graceful shutdown before it is killed.
    grace = services["worker"]["stop_grace_period"]
    assert int(grace.removesuffix("s")) > Settings().worker_shutdown_seconds


def test_every_command_is_one_the_image_understands(resolved: dict[str, Any]) -> None:
    for name, service in returnflow_services(resolved).items():
        command = service["command"]
        if command[:2] == ["sh", "-c"]:
            steps = [shlex.split(step) for step in command[2].split("&&")]
        else:
            steps = [command]
        for step in steps:
            assert step[0] == "python", name
            if step[1] == "starter.py":
                starter.parser().parse_args(step[2:])  # exits on an unknown command
            elif step[1] == "worker.py":
                assert step[2:] == [], name
            elif step[1:3] == ["-m", "carrier_sandbox"]:
                sandbox_args(step[3:])
            else:
                assert step[1:3] == ["-m", "mail_sink"], f"{name}: {step}"


def test_every_returnflow_variable_is_a_setting_the_product_reads(
    resolved: dict[str, Any],
) -> None:
    known = {f"RETURNFLOW_{name.upper()}" for name in Settings.model_fields}
    for name, service in returnflow_services(resolved).items():
        for variable in service["environment"]:
            if variable.startswith("RETURNFLOW_"):
                assert variable in known, f"{name}: {variable} is read by nothing"


def test_the_containers_find_each_other(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    worker = services["worker"]["environment"]
    host, _, port = worker["TEMPORAL_ADDRESS"].partition(":")
    assert host == "temporal" and port == "7233"

    sandbox = urlsplit(worker["RETURNFLOW_CARRIER_SANDBOX_URL"])
    sandbox_command = sandbox_args(services["carrier-sandbox"]["command"][3:])
    assert (sandbox.hostname, sandbox.port) == ("carrier-sandbox", sandbox_command.port)

    mail = services["mail-sink"]["command"]
    assert worker["RETURNFLOW_SMTP_HOST"] == "mail-sink"
    assert worker["RETURNFLOW_SMTP_PORT"] == mail[mail.index("--port") + 1]

    # The sandbox's carriers push their scans to the gateway's webhook route.
    webhook = urlsplit(sandbox_command.webhook_url)
    gateway = services["gateway"]["environment"]
    assert (webhook.hostname, webhook.port) == ("gateway", int(gateway["RETURNFLOW_GATEWAY_PORT"]))
    assert webhook.path == "/v1/carriers/{carrier}/webhooks"


def test_the_web_ui_decrypts_through_the_codec_server_with_the_users_token(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    ui = services["temporal-ui"]
    codec = services["codec-server"]
    endpoint = urlsplit(ui["environment"]["TEMPORAL_CODEC_ENDPOINT"])
    assert ui["environment"]["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    assert published(codec, int(codec["environment"]["RETURNFLOW_CODEC_PORT"])) == endpoint.port
    assert codec["environment"]["RETURNFLOW_CODEC_ORIGINS"] == UI
    assert published(ui, 8080) == urlsplit(UI).port
    # The codec server serves only with a token: nobody is trusted for their origin alone.
    assert "RETURNFLOW_CODEC_TRUSTED_ORIGINS" not in codec["environment"]


def published(service: dict[str, Any], container_port: int) -> int:
    """The host port a container port is published on, only on loopback by default."""
    for entry in service["ports"]:
        if isinstance(entry, str):  # Compose 1 prints HOST_IP:PUBLISHED:TARGET
            host_ip, published, target = entry.rsplit(":", 2)
        else:
            host_ip, published, target = entry["host_ip"], entry["published"], entry["target"]
        if int(str(target).removesuffix("/tcp")) == container_port:
            assert host_ip == "127.0.0.1"
            return int(published)
    raise AssertionError(f"port {container_port} is not published")


# --- the trust boundary: who reaches Temporal and its database ---------------------------------

TEMPORAL_CALLERS = {"setup", "promote", "worker", "gateway", "temporal-ui"}


def networks_of(service: dict[str, Any]) -> set[str]:
    """The networks a service joins (Compose puts a service that names none on `default`)."""
    return set(service.get("networks") or {"default"})


def neighbours(config: dict[str, Any], name: str) -> set[str]:
    """The other services that share at least one network with `name`, so can open a
    connection to it."""
    services = config["services"]
    mine = networks_of(services[name])
    return {
        other
        for other, service in services.items()
        if other != name and networks_of(service) & mine
    }


def is_internal(config: dict[str, Any], network: str) -> bool:
    return bool((config.get("networks") or {}).get(network, {}).get("internal"))


def published_ports(service: dict[str, Any]) -> list[tuple[str, int]]:
    """(host address, container port) of every port the service publishes on the host."""
    ports = []
    for entry in service.get("ports", []):
        if isinstance(entry, str):  # Compose 1 prints [[HOST_IP:]PUBLISHED:]TARGET
            parts = entry.split(":")
            host_ip, target = (parts[0] if len(parts) == 3 else ""), parts[-1]
        else:
            host_ip, target = entry.get("host_ip", ""), entry["target"]
        ports.append((host_ip, int(str(target).removesuffix("/tcp"))))
    return ports


def test_only_the_set_up_jobs_workers_gateway_and_web_ui_share_a_network_with_temporal(
    resolved: dict[str, Any],
) -> None:
    # PostgreSQL shares Temporal's database network, where Temporal is its only client.
    assert neighbours(resolved, "temporal") == TEMPORAL_CALLERS | {"postgresql"}
    callers_network = networks_of(resolved["services"]["temporal"]) - {"temporal-db"}
    for name in set(resolved["services"]) - TEMPORAL_CALLERS - {"temporal"}:
        assert not networks_of(resolved["services"][name]) & callers_network, name
    # Every returnflow process on Temporal's network is told to call it there.
    for name in TEMPORAL_CALLERS - {"temporal-ui"}:
        assert resolved["services"][name]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_temporal_s_port_is_not_published_on_the_host(resolved: dict[str, Any]) -> None:
    temporal = resolved["services"]["temporal"]
    assert published_ports(temporal) == []
    # Its networks are internal: Docker publishes nothing from them and routes nothing out.
    for network in networks_of(temporal):
        assert is_internal(resolved, network), network
    # No container shares the host's own network stack, where 7233 would be the host's.
    for name, service in resolved["services"].items():
        assert service.get("network_mode", "bridge") != "host", name
    # Nothing else forwards a host port to Temporal's.
    for name, service in resolved["services"].items():
        assert 7233 not in [target for _, target in published_ports(service)], name


def test_the_database_is_reachable_only_by_temporal(resolved: dict[str, Any]) -> None:
    postgresql = resolved["services"]["postgresql"]
    assert neighbours(resolved, "postgresql") == {"temporal"}
    assert published_ports(postgresql) == []
    for network in networks_of(postgresql):
        assert is_internal(resolved, network), network


def test_the_store_is_shared_by_the_set_up_job_the_workers_and_the_gateway_alone(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    store = services["store"]
    assert neighbours(resolved, "store") == {"setup", "worker", "gateway"}
    assert published_ports(store) == []
    for network in networks_of(store):
        assert is_internal(resolved, network), network
    # Every process using it is told where it is, with the operator's password.
    for name in ("setup", "worker", "gateway"):
        url = urlsplit(services[name]["environment"]["RETURNFLOW_STORE_URL"])
        assert (url.scheme, url.hostname, url.port) == ("postgresql", "store", 5432), name
        assert url.password == SECRETS["RETURNFLOW_STORE_PASSWORD"], name
        assert url.path == "/" + store["environment"]["POSTGRES_DB"], name
        assert url.username == store["environment"]["POSTGRES_USER"], name
    # The schema is migrated before the workers and the gateway start.
    assert services["setup"]["command"][2].startswith("python starter.py store migrate")
    assert services["gateway"]["depends_on"]["setup"]["condition"] == (
        "service_completed_successfully"
    )


def test_the_codec_server_cannot_reach_temporal(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert not networks_of(services["codec-server"]) & networks_of(services["temporal"])
    assert "codec-server" not in neighbours(resolved, "temporal")


def test_what_the_host_publishes_is_the_gateway_the_codec_server_the_web_ui_and_grafana(
    resolved: dict[str, Any],
) -> None:
    publishing = {
        name: published_ports(service)
        for name, service in resolved["services"].items()
        if published_ports(service)
    }
    assert publishing == {
        "gateway": [("127.0.0.1", 8000)],
        "codec-server": [("127.0.0.1", 8234)],
        "temporal-ui": [("127.0.0.1", 8080)],
        "grafana": [("127.0.0.1", 3000)],
    }


def test_the_operator_door_opens_temporal_on_loopback_only_when_asked_for(
    env_file: Path,
) -> None:
    result = compose_config(
        env_file,
        "docker-compose.yml",
        "deploy/compose.operator.yml",
        **SECRETS,
        RETURNFLOW_PUBLISH_HOST="192.0.2.10",  # a LAN address for the other services
    )
    assert result.returncode == 0, result.stderr
    opened: dict[str, Any] = yaml.safe_load(result.stdout)
    temporal = opened["services"]["temporal"]
    # Loopback whatever the other services are published on.
    assert published_ports(temporal) == [("127.0.0.1", 7233)]
    # The door's network is Temporal's alone: it lets in the host, and no other container.
    door = networks_of(temporal) - {"temporal-db", "temporal-frontend"}
    assert door == {"operator"}
    for name, service in opened["services"].items():
        if name != "temporal":
            assert "operator" not in networks_of(service), name
    assert neighbours(opened, "codec-server") & {"temporal"} == set()
    assert neighbours(opened, "postgresql") == {"temporal"}


# --- monitoring: Prometheus scrapes each process, Grafana shows the dashboard ------------------

SCRAPED = {"worker", "gateway", "codec-server"}


def mounts_of(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Each container path a service mounts: (its source, read-only)."""
    mounts = {}
    for volume in service["volumes"]:
        source, target, *mode = volume.split(":")
        mounts[target] = (source, mode == ["ro"])
    return mounts


def project_file(service: dict[str, Any], container_path: str) -> Path:
    """The project's file or directory mounted read-only where the container reads
    `container_path` (a path in a mounted directory too)."""
    for target, (source, read_only) in mounts_of(service).items():
        if container_path == target or container_path.startswith(target + "/"):
            assert read_only, f"{target} is mounted writable"
            path = Path(source) / container_path.removeprefix(target).lstrip("/")
            assert path.resolve().is_relative_to(ROOT), path
            return path
    raise AssertionError(f"nothing is mounted at {container_path}")


def test_prometheus_scrapes_each_process_on_its_metrics_port_and_loads_the_alert_rules(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    prometheus = services["prometheus"]
    flags = dict(flag.removeprefix("--").split("=", 1) for flag in prometheus["command"])
    config = yaml.safe_load(project_file(prometheus, flags["config.file"]).read_text())

    serving = {
        name
        for name, service in returnflow_services(resolved).items()
        if service["environment"].get("RETURNFLOW_METRICS_ADDRESS")
    }
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == serving == SCRAPED
    for name in SCRAPED:
        host, _, port = services[name]["environment"]["RETURNFLOW_METRICS_ADDRESS"].rpartition(":")
        # On the container's networks, not on its loopback alone.
        assert host == "0.0.0.0", name  # noqa: S104
        # Every replica, by the service's name in Docker's DNS, on the port it serves.
        [lookup] = jobs[name]["dns_sd_configs"]
        assert (lookup["names"], lookup["type"], lookup["port"]) == ([name], "A", int(port))
        assert name in neighbours(resolved, "prometheus"), name
    rules = [project_file(prometheus, path) for path in config["rule_files"]]
    assert rules == [ROOT / "monitoring" / "prometheus" / "alerts.yml"]
    # Its API has no authentication: nothing published, no route out.
    assert published_ports(prometheus) == []
    for network in networks_of(prometheus):
        assert is_internal(resolved, network), network


def test_grafana_shows_the_dashboard_on_prometheus_with_the_operator_s_password(
    resolved: dict[str, Any],
) -> None:
    grafana = resolved["services"]["grafana"]
    provisioning = project_file(grafana, "/etc/grafana/provisioning")
    assert provisioning == ROOT / "deploy" / "grafana" / "provisioning"

    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    url = urlsplit(source["url"])
    assert (source["type"], source["uid"], url.hostname) == (
        "prometheus",
        "prometheus",
        "prometheus",
    )
    assert "prometheus" in neighbours(resolved, "grafana")
    # Prometheus listens on its default port: its command names no other.
    assert url.port == 9090
    flags = resolved["services"]["prometheus"]["command"]
    assert not [flag for flag in flags if flag.startswith("--web.listen-address")]

    [provider] = yaml.safe_load((provisioning / "dashboards" / "returnflow.yml").read_text())[
        "providers"
    ]
    assert provider["type"] == "file"
    dashboards = project_file(grafana, provider["options"]["path"])
    assert dashboards == ROOT / "monitoring" / "grafana"
    board = json.loads((dashboards / "returnflow.json").read_text())
    [variable] = [v for v in board["templating"]["list"] if v["name"] == "datasource"]
    assert variable["current"]["value"] == source["uid"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert project_file(grafana, home) == dashboards / "returnflow.json"

    # The operator's secrets, nothing public; nobody in without signing in.
    env = grafana["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == SECRETS["GRAFANA_ADMIN_PASSWORD"]
    assert env["GF_SECURITY_SECRET_KEY"] == SECRETS["GRAFANA_SECRET_KEY"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"


# --- the image, without Docker -----------------------------------------------------------------


def dockerfile_copies() -> list[str]:
    sources: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
    return [source.rstrip("/") for source in sources]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's /app: exactly what the Dockerfile copies, nothing of the project beside."""
    app = tmp_path_factory.mktemp("image") / "app"
    app.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for source in dockerfile_copies():
        path = ROOT / source
        if path.is_dir():
            shutil.copytree(path, app / source, ignore=ignore)
        else:
            shutil.copy2(path, app / source)
    return app


def test_the_image_installs_every_package_it_copies() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [
        source for source in dockerfile_copies() if (ROOT / source / "__init__.py").exists()
    ]
    assert packages
    for package in packages:
        assert f"{package}*" in included, f"pip install . would leave out {package}"
    ignored = (ROOT / ".dockerignore").read_text().split()
    for source in dockerfile_copies():
        assert source not in ignored, f"{source} is copied but kept out of the build context"


def container_env(
    service: dict[str, Any], tmp: Path, **overrides: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The service's environment, with the container's paths mapped onto this machine."""
    mounts: dict[str, str] = {}
    for volume in service["volumes"]:
        source, target = volume.split(":")[:2]
        mounts[target] = source if source.startswith("/") else str(tmp / source)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp)}
    for name, value in service["environment"].items():
        text = str(value)
        for target, source in mounts.items():
            text = text.replace(target, source)
        env[name] = text
    env.update(overrides)
    return env, mounts


def test_the_image_runs_every_process_from_its_own_files(
    resolved: dict[str, Any], image: Path, tmp_path: Path
) -> None:
    """Each entry point imports from the image's copy alone: nothing the Dockerfile forgot is
    found in the project beside it."""
    for name, service in returnflow_services(resolved).items():
        env, _ = container_env(service, tmp_path)
        check = (
            "import importlib, sys\n"
            "for module in ('worker', 'starter', 'carrier_sandbox.__main__', "
            "'mail_sink.__main__', 'gateway.app', 'codec_server.server'):\n"
            "    importlib.import_module(module)\n"
            "files = [getattr(m, '__file__', None) or '' for m in list(sys.modules.values())]\n"
            f"outside = [f for f in files if f.startswith({str(ROOT) + '/'!r}) "
            "and not f.startswith(sys.prefix + '/')]\n"
            "print('\\n'.join(outside))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", check],
            cwd=image,
            env={**env, "PYTHONPATH": str(image), "PYTHONSAFEPATH": "1"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert result.stdout.strip() == "", f"{name} imports from outside the image"


@pytest.fixture
def codec_server(
    resolved: dict[str, Any], image: Path, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """The codec-server container's command, environment and files, on this machine."""
    service = resolved["services"]["codec-server"]
    port, nowhere, metrics_port = free_ports(3)
    env, mounts = container_env(
        service,
        tmp_path,
        RETURNFLOW_CODEC_HOST="127.0.0.1",
        RETURNFLOW_CODEC_PORT=str(port),
        RETURNFLOW_METRICS_ADDRESS=f"127.0.0.1:{metrics_port}",
        TEMPORAL_ADDRESS=f"127.0.0.1:{nowhere}",
    )
    Path(mounts["/var/lib/returnflow"]).mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, *service["command"][1:]],
        cwd=image,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the codec server did not come up"
            time.sleep(0.3)
        yield url, env["RETURNFLOW_PAYLOAD_KEYS"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_codec_container_serves_the_ui_origin_with_a_token_and_nobody_without(
    codec_server: tuple[str, str],
) -> None:
    url, _keys = codec_server
    body = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "e30="}]}

    with_token = httpx.post(
        f"{url}/encode",
        json=body,
        headers={"Origin": UI, "Authorization": f"Bearer {OPERATOR_TOKEN}"},
        timeout=10,
    )
    assert with_token.status_code == 200
    assert with_token.headers["access-control-allow-origin"] == UI
    encoded = with_token.json()["payloads"][0]["metadata"]
    assert encoded["encryption-key-id"] == "Y29tcG9zZS0x"  # base64 of compose-1

    without = httpx.post(f"{url}/encode", json=body, headers={"Origin": UI}, timeout=10)
    assert without.status_code == 401
    elsewhere = httpx.post(
        f"{url}/encode",
        json=body,
        headers={
            "Origin": "https://elsewhere.example",
            "Authorization": f"Bearer {OPERATOR_TOKEN}",
        },
        timeout=10,
    )
    assert elsewhere.status_code == 403


def test_each_service_reads_its_settings_as_composed(
    resolved: dict[str, Any], tmp_path: Path
) -> None:
    """Every returnflow container's environment is settings the product accepts: keys, the
    gateway's tokens, the sellers file mounted from the host."""
    for name, service in returnflow_services(resolved).items():
        env, _ = container_env(service, tmp_path)
        check = (
            "from plumbing.settings import Settings\n"
            "from gateway.auth import TokenBook\n"
            "s = Settings()\n"
            "assert s.sellers_file.is_file(), s.sellers_file\n"
            "print(s.payload_keyring().key_ids, len(TokenBook.from_settings(s)))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", check],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert result.stdout.split() == ["['compose-1']", "1"], name


def test_the_example_env_file_leaves_every_secret_to_the_operator() -> None:
    example = (ROOT / "deploy" / "returnflow.env.example").read_text()
    for line in example.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#") and re.search(r"KEYS|SECRETS|TOKENS|PASSWORD", name):
            assert value == "", f"{name} has a value in the example"
    assert "/deploy/returnflow.env" in (ROOT / ".gitignore").read_text().split()
