"""`python -m marketplace_sandbox`: serve the marketplace sandbox until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from activities.sellers.directory import SellerDirectoryError
from marketplace_sandbox.app import SELLERS_FILE, create_app
from plumbing import logs
from plumbing.serving import HostedApp

logger = logging.getLogger("marketplace_sandbox")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m marketplace_sandbox",
        description=(
            "The marketplace sandbox: the order service, the seller directory and the seller "
            "chat over HTTP, as "
            "schemas/marketplace-openapi.json describes them, with fault injection "
            "(PUT /sandbox/faults). Defaults come from the environment variables named."
        ),
    )
    parser.add_argument(
        "--host",
        default=env("RETURNFLOW_MARKETPLACE_SANDBOX_HOST", "127.0.0.1"),
        help="interface to listen on (RETURNFLOW_MARKETPLACE_SANDBOX_HOST; default %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=env("RETURNFLOW_MARKETPLACE_SANDBOX_PORT", "8082"),
        help="TCP port (RETURNFLOW_MARKETPLACE_SANDBOX_PORT; default %(default)s)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(env("RETURNFLOW_MARKETPLACE_SANDBOX_DIR", "var/marketplace")),
        help="where refunds and claims are recorded (RETURNFLOW_MARKETPLACE_SANDBOX_DIR)",
    )
    parser.add_argument(
        "--token",
        default=env("RETURNFLOW_MARKETPLACE_TOKEN"),
        required=env("RETURNFLOW_MARKETPLACE_TOKEN") is None,
        help="the bearer token callers show (RETURNFLOW_MARKETPLACE_TOKEN)",
    )
    parser.add_argument(
        "--sellers",
        type=Path,
        default=Path(env("RETURNFLOW_SELLERS_FILE", str(SELLERS_FILE))),
        help="the sellers the directory knows (RETURNFLOW_SELLERS_FILE; default: the samples')",
    )
    parser.add_argument(
        "--webhook-secret",
        action="append",
        default=[
            v.strip()
            for v in (env("RETURNFLOW_MARKETPLACE_SANDBOX_WEBHOOK_SECRET") or "").split(",")
            if v.strip()
        ],
        help="a secret the event feed's deliveries are signed with: NAME=whsec_... for the "
        "subscriber NAME's, whsec_... for any; repeat for several "
        "(RETURNFLOW_MARKETPLACE_SANDBOX_WEBHOOK_SECRET, comma-separated)",
    )
    args = parser.parse_args(argv)
    try:
        # Checked as the app is made, before it serves: said as a bad argument is.
        args.app = create_app(args.dir, args.token, args.sellers, args.webhook_secret)
    except ValueError as err:
        parser.error(f"argument --webhook-secret: {err}")
    try:
        args.app.state.sellers.check()
    except SellerDirectoryError as err:
        parser.error(f"argument --sellers: {err}")
    return args


async def serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with HostedApp(args.app, host=args.host, port=args.port) as server:
        logger.info("marketplace sandbox listening", extra={"url": server.url})
        await stop.wait()
    logger.info("marketplace sandbox stopped")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logs.configure("marketplace-sandbox", "INFO")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
