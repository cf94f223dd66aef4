"""`starter.py` commands run in the test's own process, as an operator's shell would run them:
the environment given in place of the process's, what they print captured, and the exit status
`starter.main` would exit with. No interpreter is started and no import paid again for each
command (a few seconds each on two cores); the command line as a process of its own is run by
tests/starter/starter_test.py."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from unittest import mock

import starter


@dataclass(frozen=True)
class Ran:
    """A command's exit status and what it printed, named as `subprocess` names them."""

    returncode: int
    stdout: str
    stderr: str


async def run_command(
    args: Sequence[str], env: Mapping[str, str], *, together: bool = False
) -> Ran:
    """`starter.py ARGS` with `env` as its whole environment; `together`: what it prints to
    either stream in `stdout`, in the order printed, as a terminal shows it."""
    out = io.StringIO()
    err = out if together else io.StringIO()
    with (
        mock.patch.dict(os.environ, env, clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = await starter.run(list(args))
        except SystemExit as exited:  # argparse: `--help`, or a usage error
            code = exited.code if isinstance(exited.code, int) else 1
    return Ran(code, out.getvalue(), "" if together else err.getvalue())


def run_command_now(args: Sequence[str], env: Mapping[str, str]) -> Ran:
    """`run_command`, from a test that runs no event loop of its own."""
    return asyncio.run(run_command(args, env))
