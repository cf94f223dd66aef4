"""The `measured` stamp: when, by which command, on which machine, at which version."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks import record

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
"""
MEMINFO = "MemTotal:       24683784 kB\nMemFree:        1000000 kB\n"
OS_RELEASE = 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'


def test_the_machine_is_read_from_proc_and_os_release(tmp_path: Path) -> None:
    (tmp_path / "cpuinfo").write_text(CPUINFO)
    (tmp_path / "meminfo").write_text(MEMINFO)
    (tmp_path / "os-release").write_text(OS_RELEASE)

    machine = record.machine(tmp_path, tmp_path / "os-release")

    assert machine["cpus"] == 2
    assert machine["cpu_model"] == "AMD EPYC 7B13"
    assert machine["memory_gib"] == 23.5
    assert machine["os"] == "Debian GNU/Linux 12 (bookworm)"
    assert machine["python"].count(".") == 2
    assert record.describe_machine(machine).startswith(
        "2 CPUs (AMD EPYC 7B13), 23.5 GiB of memory, Debian GNU/Linux 12 (bookworm), Python 3."
    )


def test_the_command_is_make_s_target_when_make_ran_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # The arguments make passed are its variables', given as typed: `make --mode` is no command.
    monkeypatch.setenv(record.COMMAND_VARIABLE, "make bench-returns MODE=in-flight RETURNS=100")
    assert (
        record.command("benchmarks.returns_load", ["--mode", "in-flight", "--returns", "100"])
        == "make bench-returns MODE=in-flight RETURNS=100"
    )


def test_make_names_the_variables_it_was_given() -> None:
    make = shutil.which("make")
    assert make is not None
    ran = subprocess.run(
        [make, "-n", "bench-returns", "MODE=crash", "RETURNS=20"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )

    assert "BENCH_COMMAND='make bench-returns MODE=crash RETURNS=20'" in ran.stdout


def test_the_command_is_the_module_with_its_arguments_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(record.COMMAND_VARIABLE, raising=False)
    assert (
        record.command("benchmarks.gateway_load", ["--events", "1000", "--order", "a b"])
        == "python -m benchmarks.gateway_load --events 1000 --order 'a b'"
    )


def test_the_stamp_has_a_utc_date_the_command_the_machine_and_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(record.COMMAND_VARIABLE, raising=False)
    stamp = record.measured("benchmarks.codec", ["--rounds", "10"])

    assert set(stamp) == {"date", "command", "machine", "version"}
    date = dt.datetime.fromisoformat(stamp["date"])
    assert date.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - date) < dt.timedelta(minutes=1)
    assert stamp["command"] == "python -m benchmarks.codec --rounds 10"
    assert {"cpus", "cpu_model", "memory_gib", "os", "python"} <= set(stamp["machine"])
    assert stamp["version"] != ""
