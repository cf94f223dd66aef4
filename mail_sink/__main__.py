"""`python -m mail_sink`: run the SMTP sink as a process until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Sequence
from pathlib import Path

from mail_sink.server import UNDELIVERABLE_TLD, MailSink
from plumbing import logs
from plumbing.settings import Settings

logger = logging.getLogger("mail_sink")


def parse_args(argv: Sequence[str] | None, settings: Settings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mail_sink",
        description=(
            "SMTP sink for returnflow's notices: stores each message it receives as an .eml "
            f"file. Recipients in the reserved {UNDELIVERABLE_TLD} domain are refused (550). "
            "Defaults come from the RETURNFLOW_SMTP_* settings, so the product finds it."
        ),
    )
    parser.add_argument(
        "--host", default=settings.smtp_host, help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=settings.smtp_port,
        help="port to listen on, 0 for any free port (default: %(default)s)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=settings.mail_dir,
        help="directory of the .eml files (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level", default=settings.log_level, help="log level (default: %(default)s)"
    )
    return parser.parse_args(argv)


async def serve(directory: Path, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, then close the server and its connections."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with MailSink(directory, host=host, port=port) as sink:
        logger.info(
            "mail sink listening",
            extra={"host": sink.host, "port": sink.port, "directory": str(sink.directory)},
        )
        await stop.wait()
        logger.info("mail sink stopping")
    logger.info("mail sink stopped")


def main(argv: Sequence[str] | None = None) -> None:
    settings = Settings()
    args = parse_args(argv, settings)
    logs.configure("mail-sink", args.log_level)
    asyncio.run(serve(args.dir, args.host, args.port))


if __name__ == "__main__":
    main()
