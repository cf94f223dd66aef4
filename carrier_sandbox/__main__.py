"""`python -m carrier_sandbox`: serve the sandbox's carriers until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from carrier_sandbox.app import DEFAULT_API_KEY, DEFAULT_TICK_SECONDS
from carrier_sandbox.carriers import DEFAULT_CARRIERS_FILE, load_carriers
from carrier_sandbox.faults import load_plan
from carrier_sandbox.server import SandboxServer
from carrier_sandbox.webhooks import DEFAULT_WEBHOOK_SECRET, WebhookPolicy
from plumbing import logs

logger = logging.getLogger("carrier_sandbox")


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _optional_int(value: str | None) -> int | None:
    return int(value) if value else None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m carrier_sandbox",
        description=(
            "The carrier sandbox: carriers' return APIs (labels, counter codes, mailbox "
            "pickups, post offices, tracking, signed webhooks) over HTTP, see "
            "carrier_sandbox/API.md. Every default can also be set with the environment "
            "variable named in parentheses."
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
        default=env("RETURNFLOW_SANDBOX_PORT", "8081"),
        help="TCP port, 0 for any free one (RETURNFLOW_SANDBOX_PORT; default %(default)s)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=Path(env("RETURNFLOW_SANDBOX_DB", "var/carrier-sandbox.sqlite")),
        help="SQLite file holding the carriers' state (RETURNFLOW_SANDBOX_DB; default %(default)s)",
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
        "--carriers",
        type=Path,
        default=Path(env("RETURNFLOW_SANDBOX_CARRIERS_FILE") or DEFAULT_CARRIERS_FILE),
        help=(
            "JSON file of the carriers to play (RETURNFLOW_SANDBOX_CARRIERS_FILE; default the "
            "built-in carriers.json: sandbox and relay)"
        ),
    )
    parser.add_argument(
        "--webhook-url",
        default=env("RETURNFLOW_SANDBOX_WEBHOOK_URL") or None,
        help=(
            "where to POST signed tracking webhooks; {carrier} is replaced by the carrier's "
            "code (RETURNFLOW_SANDBOX_WEBHOOK_URL; default: no webhooks)"
        ),
    )
    parser.add_argument(
        "--webhook-secret",
        default=env("RETURNFLOW_CARRIER_SANDBOX_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET),
        help=(
            "HMAC-SHA256 key of the webhook signatures; the gateway verifies with the same "
            "variable's value (RETURNFLOW_CARRIER_SANDBOX_WEBHOOK_SECRET; default "
            "sandbox-webhook-secret)"
        ),
    )
    parser.add_argument(
        "--webhook-attempts",
        type=int,
        default=env("RETURNFLOW_SANDBOX_WEBHOOK_ATTEMPTS", "10"),
        help="attempts per webhook before giving up (RETURNFLOW_SANDBOX_WEBHOOK_ATTEMPTS; "
        "default %(default)s)",
    )
    parser.add_argument(
        "--no-rounds",
        dest="rounds",
        action="store_false",
        default=env("RETURNFLOW_SANDBOX_ROUNDS", "on").lower() not in ("off", "0", "false", "no"),
        help=(
            "do not collect and move parcels on the carriers' own rounds: scans only on "
            "command (RETURNFLOW_SANDBOX_ROUNDS=off)"
        ),
    )
    parser.add_argument(
        "--tick",
        type=float,
        default=env("RETURNFLOW_SANDBOX_TICK_SECONDS", str(DEFAULT_TICK_SECONDS)),
        help="real seconds between rounds and webhook passes "
        "(RETURNFLOW_SANDBOX_TICK_SECONDS; default %(default)s)",
    )
    parser.add_argument(
        "--faults",
        type=_optional_path,
        default=_optional_path(env("RETURNFLOW_SANDBOX_FAULTS_FILE")),
        help="JSON fault plan to start with, as PUT /sandbox/faults takes "
        "(RETURNFLOW_SANDBOX_FAULTS_FILE; default: no faults)",
    )
    parser.add_argument(
        "--fault-seed",
        type=_optional_int,
        default=env("RETURNFLOW_SANDBOX_FAULT_SEED"),
        help="seed of the fault injection's RNG, for a repeatable run "
        "(RETURNFLOW_SANDBOX_FAULT_SEED; default: random)",
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
    webhooks = WebhookPolicy(
        url=args.webhook_url, secret=args.webhook_secret, max_attempts=args.webhook_attempts
    )
    async with SandboxServer(
        args.db,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        carriers=args.carriers,
        webhooks=webhooks,
        faults=args.faults,
        fault_seed=args.fault_seed,
        rounds=args.rounds,
        tick_seconds=args.tick,
        access_log=True,
    ) as sandbox:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, sandbox.request_stop)
        logger.info(
            "carrier sandbox listening",
            extra={
                "url": sandbox.url,
                "db": str(args.db),
                "carriers": list(sandbox.sandbox.carriers),
                "webhooks": args.webhook_url is not None,
                "rounds": args.rounds,
            },
        )
        await sandbox.wait_stopped()
    logger.info("carrier sandbox stopped")


def files_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the carriers file or the fault plan the options name, read before the
    server starts; None when both can be used."""
    try:
        load_carriers(args.carriers)
        if args.faults is not None:
            load_plan(args.faults)
    except ValueError as err:  # CarriersFileError too: each names the file and the fault
        return str(err)
    return None


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    problem = files_problem(args)
    if problem is not None:
        raise SystemExit(f"python -m carrier_sandbox: error: {problem}")
    logs.configure("carrier-sandbox", args.log_level)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
