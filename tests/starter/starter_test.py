"""The command line an operator uses: help everywhere, clear errors, nothing half-done."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import run_command_now
from tests.keys import TEST_KEYS

ROOT = Path(__file__).resolve().parents[2]


def starter(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_the_installed_returnflow_command_is_the_same_command_line() -> None:
    installed = Path(sys.executable).with_name("returnflow")
    answer = subprocess.run(
        [str(installed), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    by_script = starter("--help")

    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.startswith("usage: returnflow ")
    assert answer.stdout.replace("returnflow", "starter.py") == by_script.stdout


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["retract"],
        ["status"],
        ["choose"],
        ["give-address"],
        ["schema"],
        ["schedule"],
        ["search-attributes"],
        ["deployment"],
        ["deployment", "show"],
        ["deployment", "promote"],
        *(["feed", verb] for verb in ("parked", "show", "replay", "forget")),
        *(["schedule", action] for action in ("install", "show", "trigger", "pause", "unpause")),
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = run_command_now([*command, "--help"], os.environ)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: starter.py")


def test_the_committed_schema_passes_the_check() -> None:
    result = starter("schema", "--check")
    assert result.returncode == 0, result.stderr


def test_an_invalid_event_file_names_its_fields_before_anything_starts(tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text('{"event_id": "EVT-1", "type": "order.retract_requested"}')
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{s.getsockname()[1]}"

    result = starter("retract", str(bad), env={"TEMPORAL_ADDRESS": nowhere})

    assert result.returncode == 2
    assert "occurred_at: Field required" in result.stderr
    assert "customer: Field required" in result.stderr


def test_temporal_out_of_reach_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{s.getsockname()[1]}"
    result = run_command_now(
        ["status", "ORD-1"], {"TEMPORAL_ADDRESS": nowhere, "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS}
    )
    assert result.returncode == 1
    assert f"cannot reach Temporal at {nowhere}" in result.stderr


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        (
            {"TEMPORAL_CONFIG_FILE": "{profile}", "TEMPORAL_PROFILE": "production"},
            "error: Temporal's client configuration: Profile 'production' not found: check "
            "TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE",
        ),
        (
            {"TEMPORAL_CONFIG_FILE": "{not_toml}"},
            "error: Temporal's client configuration: Configuration loading error: TOML parse error",
        ),
        (
            {
                "TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/client.pem",
                "TEMPORAL_TLS_CLIENT_KEY_PATH": "/nonexistent/client.key",
            },
            "error: /nonexistent/client.pem: No such file or directory: check the "
            "TEMPORAL_TLS_*_PATH settings",
        ),
    ],
    ids=["a profile not in the file", "a file that is not TOML", "a certificate not there"],
)
def test_temporal_settings_that_cannot_be_used_are_named_not_a_traceback(
    tmp_path: Path, variables: dict[str, str], said: str
) -> None:
    (tmp_path / "temporal.toml").write_text('[profile.default]\naddress = "127.0.0.1:9"\n')
    (tmp_path / "broken.toml").write_text("not toml [[[\n")
    paths = {"profile": str(tmp_path / "temporal.toml"), "not_toml": str(tmp_path / "broken.toml")}
    env = {
        "PATH": os.environ["PATH"],
        "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS,
        **{k: v.format(**paths) for k, v in variables.items()},
    }

    result = run_command_now(["status", "ORD-1"], env)

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(said), result.stderr
    assert "Traceback" not in result.stderr


def test_a_gateway_whose_carriers_are_not_configured_names_the_setting(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "RETURNFLOW_VAR_DIR": str(tmp_path / "var"),
        "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS,
        "RETURNFLOW_ALLOW_SANDBOX_CARRIERS": "true",
        "RETURNFLOW_CARRIERS": "colissimo",
    }

    result = starter("serve", env=env)

    assert result.returncode == 2, result.stderr
    assert "error: RETURNFLOW_COLISSIMO_" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_address_given_by_no_staff_id_is_refused_naming_by(tmp_path: Path) -> None:
    from tests.factories import SELLER_ADDRESS

    address = tmp_path / "address.json"
    address.write_text(SELLER_ADDRESS.model_dump_json())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{s.getsockname()[1]}"

    result = run_command_now(
        ["give-address", "ORD-1-1", "--file", str(address), "--by", "alice"],
        {"TEMPORAL_ADDRESS": nowhere, "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS},
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: --by: 'alice' is neither 'seller' nor 'operations:")
    assert "Traceback" not in result.stderr


def test_a_choice_missing_its_pickup_date_is_refused_naming_the_choice() -> None:
    result = run_command_now(
        ["choose", "ORD-1-1", "--method", "mailbox_pickup", "--carrier", "sandbox"],
        {"RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS},
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: (the choice): "), result.stderr
    assert "pickup_date is required" in result.stderr


def test_a_codec_server_on_a_taken_port_says_which_settings_to_change() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = starter(
            "codec-server",
            env={
                **os.environ,
                "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS,
                "RETURNFLOW_CODEC_TOKENS": "staff=codec-token-for-tests-0001",
                "RETURNFLOW_CODEC_PORT": str(port),
            },
        )

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        "error: RETURNFLOW_CODEC_HOST and RETURNFLOW_CODEC_PORT: cannot listen on "
        f"127.0.0.1:{port}: "
    ), result.stderr
    assert "Traceback" not in result.stderr


def test_a_setting_refused_as_a_whole_is_named_once() -> None:
    result = run_command_now(
        ["store", "status"], {**os.environ, "RETURNFLOW_EVENT_SUBSCRIBERS": "bi"}
    )

    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid settings: RETURNFLOW_EVENT_SUBSCRIBERS: ")


@pytest.mark.parametrize(
    "setting",
    [
        "GATEWAY_SIGNATURE_TOLERANCE_SECONDS",
        "HTTP_HEADER_TIMEOUT_SECONDS",
        "WORKER_SHUTDOWN_SECONDS",
    ],
)
def test_a_bound_set_to_infinity_is_refused_naming_it(setting: str) -> None:
    # `inf` would switch the bound off: signatures replayed from any time, slow headers let be.
    result = run_command_now(["store", "status"], {**os.environ, f"RETURNFLOW_{setting}": "inf"})

    assert result.returncode == 2
    assert f"RETURNFLOW_{setting}: Input should be a finite number" in result.stderr


def codec_server(**settings: str) -> subprocess.CompletedProcess[str]:
    """`starter.py codec-server` with the test keys and a token, and `settings`: what it said
    when it stopped (it stops at once when refusing)."""
    return starter(
        "codec-server",
        env={
            **os.environ,
            "RETURNFLOW_PAYLOAD_KEYS": TEST_KEYS,
            "RETURNFLOW_CODEC_TOKENS": "staff=codec-token-for-tests-0001",
            **settings,
        },
    )


def test_a_codec_server_with_a_metrics_address_it_cannot_serve_on_names_it() -> None:
    result = codec_server(RETURNFLOW_METRICS_ADDRESS="localhost:9464")

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: RETURNFLOW_METRICS_ADDRESS: cannot serve metrics on ")
    assert "Traceback" not in result.stderr


def test_a_codec_server_with_the_dev_stacks_published_token_refuses_to_start() -> None:
    """Whoever holds a codec token reads every customer's data in clear: the dev stack's,
    written in the code, is refused outside a dev stack or a trial."""
    result = codec_server(
        RETURNFLOW_CODEC_TOKENS="ops-demo=devstack-codec-token",
        RETURNFLOW_ALLOW_SANDBOX_CARRIERS="false",
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        "error: RETURNFLOW_CODEC_TOKENS: holds a public default secret, known to everyone"
    ), result.stderr
    assert "Traceback" not in result.stderr
