"""`python -m carrier_sandbox`: serve Sandbox Post until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from carrier_sandbox.app import DEFAULT_API_KEY
from carrier_sandbox.server import SandboxServer
from returnflow import logs

logger = logging.getLogger("carrier_sandbox")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m carrier_sandbox",
        description=(
            "Sandbox Post, the embedded carrier: return labels, counter codes, mailbox pickups "
            "and tracking over HTTP (see carrier_sandbox/API.md). Every default can also be set "
            "with the environment variable named in parentheses."
        ),
    )
    parser.add_argument(
        "--host",
        default=env("RETURNFLOW_SANDBOX_HOST", "127.0.0.1"),
        help="interface to listen on (RETURNFLOW_SANDBOX_HOST; default %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(env("RETURNFLOW_SANDBOX_PORT", "8081")),
        help="TCP port, 0 for any free one (RETURNFLOW_SANDBOX_PORT; default %(default)s)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=Path(env("RETURNFLOW_SANDBOX_DB", "var/carrier-sandbox.sqlite")),
        help="SQLite file holding the carrier's state (RETURNFLOW_SANDBOX_DB; default %(default)s)",
    )
    parser.add_argument(
        "--api-key",
        default=env("RETURNFLOW_CARRIER_SANDBOX_API_KEY", DEFAULT_API_KEY),
        help=(
            "the X-Api-Key clients must send; the worker sends the same variable's value "
            "(RETURNFLOW_CARRIER_SANDBOX_API_KEY; default sandbox-key)"
        ),
    )
    parser.add_argument(
        "--log-level",
        default=env("RETURNFLOW_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
        help="(RETURNFLOW_LOG_LEVEL; default %(default)s)",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    async with SandboxServer(
        args.db, host=args.host, port=args.port, api_key=args.api_key, access_log=True
    ) as sandbox:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, sandbox.request_stop)
        logger.info("carrier sandbox listening", extra={"url": sandbox.url, "db": str(args.db)})
        await sandbox.wait_stopped()
    logger.info("carrier sandbox stopped")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logs.configure("carrier-sandbox", args.log_level)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
