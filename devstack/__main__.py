"""`python -m devstack up`: the embedded stack, until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from devstack.config import StackConfig
from devstack.interrupts import Interrupted, Interrupts
from devstack.stack import DevStack, StackError
from monitoring import scraping
from plumbing import logs
from plumbing.settings import refusal
from plumbing.temporal import exit_process


def log_to_file(config: StackConfig) -> None:
    """The launcher's own JSON log goes to var/log/devstack.log; the terminal gets prose."""
    config.log_dir.mkdir(parents=True, exist_ok=True)
    logs.configure("devstack", "INFO", stream=(config.log_dir / "devstack.log").open("a"))


def where_to_watch(config: StackConfig) -> list[str]:
    """Where each service serves its metrics, and where Prometheus shows them all."""
    if not config.metrics:
        return []
    served = ", ".join(f"{s} http://{a}/metrics" for s, a in config.metrics_addresses().items())
    prometheus = (
        f"{config.prometheus_url} (scrapes every service; alert rules loaded)"
        if scraping.PROMETHEUS.exists()
        else "not installed: `make prometheus` (Debian's), and the stack runs it"
    )
    return [f"  metrics         {served}", f"  Prometheus      {prometheus}"]


def banner(stack: DevStack) -> str:
    c = stack.config
    return "\n".join(
        [
            "returnflow dev stack is up:",
            f"  Temporal        {c.temporal_address} (namespace {c.namespace})",
            f"  Web UI          {c.web_ui_url} (decrypts through the codec server)",
            f"  codec server    {c.codec_url} (serves the Web UI's origin without a token)",
            f"  carrier sandbox {c.sandbox_url} (carriers under /carriers/<code>/)",
            f"  marketplace     {c.marketplace_url} (the order service and the sellers; what "
            "it received: /sandbox/refunds, /sandbox/claims, /sandbox/sellers/<id>/messages)",
            f"  gateway         {c.gateway_url} (order events, carriers' webhooks, actions; "
            "the customer's pages under /my/)",
            f"  SMTP sink       {c.host}:{c.smtp_port} -> {c.mail_dir}/",
            *where_to_watch(c),
            f"  logs            {c.log_dir}/",
            "Ctrl-C stops everything.",
        ]
    )


async def serve(stack: DevStack, interrupts: Interrupts) -> int:
    """Keep the stack up until Ctrl-C (0) or until a service dies (1)."""
    try:
        proc = await interrupts.guard(stack.watch())
    except Interrupted:
        print("\nstopping the stack ...", flush=True)
        return 0
    print(
        f"{proc.name} exited unexpectedly (status {proc.returncode}); stopping the stack.\n"
        f"{proc.log_tail()}",
        file=sys.stderr,
    )
    return 1


async def run_stack(after_start: Callable[[DevStack, Interrupts], Awaitable[int]]) -> int:
    """Start the stack, hand it over, stop it whatever happens; Ctrl-C works at any moment."""
    interrupts = Interrupts()
    try:
        config = StackConfig()
        stack = DevStack(config, progress=lambda line: print(line, flush=True))
    except ValidationError as err:
        # A RETURNFLOW_STACK_* value, or a RETURNFLOW_* one the stack's services would take.
        prefix = "RETURNFLOW_STACK_" if err.title == StackConfig.__name__ else "RETURNFLOW_"
        print(f"error: {refusal(err, prefix)}", file=sys.stderr)
        return 2
    log_to_file(config)
    print("starting the returnflow dev stack ...", flush=True)
    try:
        await interrupts.guard(stack.start())
        return await after_start(stack, interrupts)
    except Interrupted:
        print("\ninterrupted; stopping the stack ...", flush=True)
        return 130
    except StackError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        await stack.stop()


async def up(stack: DevStack, interrupts: Interrupts) -> int:
    print(banner(stack), flush=True)
    return await serve(stack, interrupts)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("command", choices=["up"], help="up: start the stack until Ctrl-C")
    parser.parse_args()
    exit_process(asyncio.run(run_stack(up)))


if __name__ == "__main__":
    main()
