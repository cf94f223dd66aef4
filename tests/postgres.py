"""A PostgreSQL server of the tests' own, from Debian's package: one per session, a new
database for each test that asks.

The server runs as the `postgres` user when the tests run as root (PostgreSQL refuses root),
listens on 127.0.0.1 on a free port, and keeps its files in a temporary directory removed at
the end. It runs with `fsync=off`: the tests check what the product does, not the disk.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

USER = "returnflow"
PASSWORD = "test-only-password"


def server_binaries() -> Path:
    """The newest installed PostgreSQL's bin directory (`make postgresql` installs one)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed: `make postgresql` installs Debian's package "
            "(make test does it first)"
        )
    return Path(found[-1]).parent


@dataclass
class PostgresServer:
    port: int
    directory: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new empty database's URL."""
        name = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


SERVER_USER = "postgres" if os.geteuid() == 0 else None
"""Who runs the server: PostgreSQL refuses root."""


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A running server, stopped and removed on leaving."""
    binaries = server_binaries()
    directory = Path(tempfile.mkdtemp(prefix="returnflow-postgres-"))
    data = directory / "data"
    password_file = directory / "password"
    password_file.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (directory, password_file):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    subprocess.run(
        [
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        user=SERVER_USER,
        group=SERVER_USER,
    )
    port = _free_port()
    log = (directory / "server.log").open("wb")
    server = subprocess.Popen(
        [
            str(binaries / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(directory),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        user=SERVER_USER,
        group=SERVER_USER,
    )
    running = PostgresServer(port, directory)
    try:
        _until_accepting(running, server)
        yield running
    finally:
        server.send_signal(signal.SIGINT)  # fast shutdown: ends the sessions left open
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


def _until_accepting(running: PostgresServer, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            output = (running.directory / "server.log").read_text(errors="replace")
            raise RuntimeError(f"PostgreSQL did not start:\n{output}")
        try:
            psycopg.connect(running.url(), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
