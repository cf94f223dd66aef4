"""A worker that cannot start says why in one line naming what to change, never a traceback:
a setting refused, a metrics address it cannot serve on, Temporal out of reach."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plumbing.public_defaults_test import production_env, run


@pytest.mark.parametrize(
    ("variables", "code", "said"),
    [
        (
            {"RETURNFLOW_GATEWAY_PORT": "abc"},
            2,
            "error: invalid settings: RETURNFLOW_GATEWAY_PORT: Input should be a valid integer",
        ),
        (
            {
                "RETURNFLOW_ALLOW_SANDBOX_CARRIERS": "true",
                "RETURNFLOW_METRICS_ADDRESS": "localhost:9464",
            },
            2,
            "error: RETURNFLOW_METRICS_ADDRESS: cannot serve metrics on localhost:9464: ",
        ),
        (
            {"RETURNFLOW_ALLOW_SANDBOX_CARRIERS": "true"},
            1,
            "error: cannot reach Temporal at 127.0.0.1:",
        ),
        (
            # A trial's env file with the line left blank: every email would link to /my/...
            {"RETURNFLOW_ALLOW_SANDBOX_CARRIERS": "true", "RETURNFLOW_CUSTOMER_PAGE_URL": ""},
            2,
            "error: invalid settings: RETURNFLOW_CUSTOMER_PAGE_URL: not an "
            "absolute http:// or https:// URL",
        ),
        (
            {"RETURNFLOW_ALLOW_SANDBOX_CARRIERS": "true", "TEMPORAL_PROFILE": "production"},
            2,
            "error: Temporal's client configuration: Profile 'production' not found",
        ),
    ],
    ids=[
        "a setting refused",
        "a metrics address not served",
        "Temporal out of reach",
        "a link base left blank",
        "a Temporal profile that is none",
    ],
)
def test_a_worker_that_cannot_start_says_why(
    tmp_path: Path, variables: dict[str, str], code: int, said: str
) -> None:
    started = run("worker.py", env=production_env(**variables), tmp_path=tmp_path)

    assert started.returncode == code, started.stderr
    assert said in started.stderr
    assert "Traceback" not in started.stderr
