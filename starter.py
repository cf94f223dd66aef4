"""returnflow's command line: start returns, look at them, act on them.

    python starter.py retract EVENT.json
    python starter.py status ORDER_ID[-LINE]
    python starter.py choose ORDER_ID-LINE --method mailbox_pickup --carrier sandbox \
        --pickup-date 2026-11-26
    python starter.py give-address ORDER_ID-LINE --file ADDRESS.json --by operations:alice
    python starter.py schema [--check]
    python starter.py serve
    python starter.py dead-letters list|show|replay|discard|seal
    python starter.py feed parked | show ORDER_ID-LINE | replay ORDER_ID-LINE --subscriber NAME \
        --by operations:NAME
    python starter.py schedule install|show|trigger|pause|unpause [--note TEXT]
    python starter.py codec-server
    python starter.py keys new [--id KEY_ID] | show
    python starter.py search-attributes [--wait SECONDS]
    python starter.py deployment show | promote [BUILD_ID] [--wait SECONDS]

Exit status: 0 done, 1 refused by the return (or not found), 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter, ValidationError
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.carriers.registry import CarrierConfigurationError, CarrierRegistry
from client import feed_commands
from client.reading import (
    StatusUnreadable,
    UpdateNotTaken,
    execute_taken_update,
    how_it_ended,
    status_of,
    update_refusal,
)
from client.start import Arrival, EventRejected, parse_event, start_return
from client.status_view import render_status
from codec_server import openapi as codec_openapi
from codec_server.server import CodecAccess, CodecConfigError, create_codec_app
from dead_letters import commands as dead_letter_commands
from domain.addresses import PostalAddress
from domain.base import Identifier, field_problems
from domain.events import RetractEvent
from domain.feed_schemas import event_schema_files
from domain.ids import PREFIX
from domain.returns import ReturnAddressReply, ReturnMethodChoice, ReturnStatus
from gateway.app import OPENAPI_PATH, create_app, openapi_document
from gateway.auth import TokenBook
from gateway.guard import proxies
from marketplace_sandbox import app as marketplace
from plumbing import encryption, logs, settings_reference, telemetry, temporal, versioning
from plumbing.bearer import TokenConfigError
from plumbing.encryption import EncryptionCodec, PayloadKeyError
from plumbing.public_defaults import (
    PublicDefaultsRefused,
    refuse_public_codec_tokens,
    refuse_public_defaults,
)
from plumbing.serving import ConnectionLimits, HostedApp
from plumbing.settings import Settings
from plumbing.settings import refusal as settings_refusal
from plumbing.telemetry import TelemetryConfigError
from reminders import schedule as reminder_schedule
from store import StoreError, open_store
from store import commands as store_commands
from workflows.return_workflow import ReturnWorkflow

HERE = Path(__file__).resolve().parent
SCHEMA_PATH = HERE / "schemas" / "retract-event.json"
EVENT_SCHEMAS = HERE / "schemas" / "events"
"""The JSON Schema of each event of the event feed (domain.feed_schemas)."""
OK, REFUSED, BAD_INPUT = 0, 1, 2

Connect = Callable[[], Awaitable[Client]]
"""Commands check their input first and connect to Temporal only then."""


ORDER_ID: TypeAdapter[str] = TypeAdapter(Identifier)
"""An order's ID as the commands take it: nothing that could change a visibility query."""


class CommandError(Exception):
    def __init__(self, message: str, code: int = REFUSED) -> None:
        super().__init__(message)
        self.code = code


# --- schema ----------------------------------------------------------------------------------


def retract_event_schema() -> str:
    """The JSON Schema of the retract event, generated from the pydantic model."""
    schema = RetractEvent.model_json_schema()
    schema["$id"] = "https://returnflow.dev/schemas/retract-event.json"
    schema["title"] = "order.retract_requested"
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


CONFIGURATION_PAGE = HERE / "docs" / "configuration.md"


def settings_groups() -> list[settings_reference.Group]:
    """The settings every returnflow process reads, in the configuration reference's order."""
    from activities.carriers.colissimo.config import ColissimoConfig
    from activities.carriers.easypost.config import EasyPostConfig
    from devstack.config import StackConfig

    return [
        settings_reference.Group(
            "returnflow", "RETURNFLOW_", Settings, "Read by the worker, the gateway, the CLI."
        ),
        settings_reference.Group(
            "Colissimo",
            "RETURNFLOW_COLISSIMO_",
            ColissimoConfig,
            "Read when `RETURNFLOW_CARRIERS` names `colissimo`.",
        ),
        settings_reference.Group(
            "EasyPost",
            "RETURNFLOW_EASYPOST_",
            EasyPostConfig,
            "Read when `RETURNFLOW_CARRIERS` names `easypost`; lists are JSON.",
        ),
        settings_reference.Group(
            "The embedded stack",
            "RETURNFLOW_STACK_",
            StackConfig,
            "Read by `make demo` and `make stack` only (`python -m devstack`).",
        ),
    ]


def cmd_schema(args: argparse.Namespace) -> int:
    """The generated files: the retract event's JSON Schema, the OpenAPI descriptions of the
    gateway, the codec server and the marketplace's services, the event feed's JSON Schemas,
    the configuration reference.
    Written, or (`--check`) compared with what is committed."""
    groups = settings_groups()
    files = {
        SCHEMA_PATH: retract_event_schema(),
        OPENAPI_PATH: openapi_document(),
        codec_openapi.OPENAPI_PATH: codec_openapi.openapi_document(),
        marketplace.OPENAPI_PATH: marketplace.openapi_document(),
        **{EVENT_SCHEMAS / name: text for name, text in event_schema_files().items()},
    }
    if args.check:
        stale = [path for path, text in files.items() if _text(path) != text]
        if not settings_reference.is_current(CONFIGURATION_PAGE, groups):
            stale.append(CONFIGURATION_PAGE)
        extra = sorted(set(EVENT_SCHEMAS.glob("*.json")) - set(files))
        stale += extra
        if stale:
            names = ", ".join(str(path.relative_to(HERE)) for path in stale)
            raise CommandError(f"stale: {names}: run `python starter.py schema`")
        print("schemas/ and the configuration reference are up to date")
        return OK
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        print(f"wrote {path.relative_to(HERE)}")
    settings_reference.write(CONFIGURATION_PAGE, groups)
    print(f"wrote the reference in {CONFIGURATION_PAGE.relative_to(HERE)}")
    return OK


def _text(path: Path) -> str | None:
    return path.read_text("utf-8") if path.exists() else None


# --- returns ---------------------------------------------------------------------------------


async def cmd_retract(args: argparse.Namespace, connect: Connect, settings: Settings) -> int:
    try:
        event = parse_event(Path(args.event).read_bytes())
    except OSError as err:
        raise CommandError(f"{args.event}: {err.strerror}", BAD_INPUT) from err
    except EventRejected as err:
        lines = "\n".join(f"  {p}" for p in err.problems)
        message = f"{args.event} is not a valid retract event:\n{lines}"
        raise CommandError(message, BAD_INPUT) from err
    client = await connect()
    started = await start_return(client, settings, event)
    if started.arrival is Arrival.CONFLICT:
        fields = ", ".join(started.conflicts)
        raise CommandError(
            f"{started.workflow_id}: an event with this event_id came before with other facts "
            f"({fields}): nothing started\n  {started.link}"
        )
    if started.arrival is Arrival.ENDED:
        raise CommandError(
            f"{started.workflow_id} has ended: a new withdrawal for its order line starts "
            f"nothing\n  {started.link}"
        )
    verdict = "started" if started.created else "already exists (duplicate event, nothing started)"
    print(f"{started.workflow_id} {verdict}")
    print(f"  {started.link}")
    return OK


def _json_file(path: str) -> Any:
    try:
        return json.loads(Path(path).read_bytes())
    except OSError as err:
        raise CommandError(f"{path}: {err.strerror}", BAD_INPUT) from err
    except ValueError as err:
        raise CommandError(f"{path} is not JSON: {err}", BAD_INPUT) from err


async def _handles(client: Client, ref: str) -> list[WorkflowHandle[Any, Any]]:
    """The returns `ref` names: a workflow ID, ORDER_ID-LINE, or every line of ORDER_ID."""
    candidates = [ref] if ref.startswith(PREFIX) else [f"{PREFIX}{ref}"]
    found = []
    for workflow_id in candidates:
        handle = client.get_workflow_handle(workflow_id)
        try:
            await handle.describe()
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            continue
        found.append(handle)
    if not found:
        try:
            order_id = ORDER_ID.validate_python(ref)
        except ValidationError:
            raise CommandError(
                f"no return found for {ref!r}: not a return's ID, ORDER_ID-LINE or an order's "
                "ID (letters, digits and . _ : -, at most 64)",
                BAD_INPUT,
            ) from None
        query = f'OrderId = "{order_id}"'
        # Every run is listed: a return restarted under its ID is one return, its current run.
        ids = [execution.id async for execution in client.list_workflows(query)]
        found = [client.get_workflow_handle(workflow_id) for workflow_id in dict.fromkeys(ids)]
    if not found:
        raise CommandError(f"no return found for {ref!r}")
    return found


async def _status_of(client: Client, workflow_id: str) -> ReturnStatus:
    try:
        return await status_of(client, workflow_id)
    except StatusUnreadable as err:
        raise CommandError(str(err)) from err


async def cmd_status(args: argparse.Namespace, connect: Connect, settings: Settings) -> int:
    client = await connect()
    for handle in await _handles(client, args.ref):
        status = await _status_of(client, handle.id)
        # A return terminated (or timed out) still answers with the stage it had: say so.
        ended = await how_it_ended(client, handle.id)
        if ended:
            print(f"{handle.id} is {ended}; its last status follows", file=sys.stderr)
        if args.json:
            print(status.model_dump_json())  # one object a line, a line a return
        else:
            link = temporal.web_ui_link(settings, client.namespace, handle.id)
            print(render_status(status, link))
    return OK


async def _single(client: Client, ref: str) -> WorkflowHandle[Any, Any]:
    handles = await _handles(client, ref)
    if len(handles) > 1:
        ids = ", ".join(h.id for h in handles)
        raise CommandError(f"{ref!r} names several returns ({ids}): give ORDER_ID-LINE", BAD_INPUT)
    return handles[0]


async def _update(handle: WorkflowHandle[Any, Any], update: Any, arg: Any) -> None:
    """Send `update`; a refusal, or a return that has ended, is a `CommandError` (exit 1)."""
    try:
        await execute_taken_update(handle, update, arg)
    except WorkflowUpdateFailedError as err:
        raise CommandError(f"refused: {update_refusal(err)}") from err
    except UpdateNotTaken as err:
        raise CommandError(f"{handle.id}: {err}") from err
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        try:
            stage = f" ({(await handle.query(ReturnWorkflow.status)).stage})"
        except (RPCError, WorkflowQueryFailedError):
            stage = ""  # no worker to read it back: what matters is said
        raise CommandError(f"{handle.id} has ended{stage}: nothing to change") from err


async def cmd_choose(args: argparse.Namespace, connect: Connect, settings: Settings) -> int:
    raw: dict[str, Any] = {"method": args.method, "carrier": args.carrier}
    if args.pickup_date:
        raw["pickup_date"] = args.pickup_date
    if args.pickup_address:
        raw["pickup_address"] = _json_file(args.pickup_address)
    try:
        choice = ReturnMethodChoice.model_validate_json(json.dumps(raw))
    except ValidationError as err:
        raise CommandError("; ".join(field_problems(err, "(the choice)")), BAD_INPUT) from err
    client = await connect()
    handle = await _single(client, args.ref)
    await _update(handle, ReturnWorkflow.choose_return_method, choice)
    # The update answers the action's result; the whole state is the status query's.
    status = await handle.query(ReturnWorkflow.status)
    print(render_status(status, temporal.web_ui_link(settings, client.namespace, handle.id)))
    return OK


async def cmd_give_address(args: argparse.Namespace, connect: Connect, settings: Settings) -> int:
    try:
        address = PostalAddress.model_validate_json(json.dumps(_json_file(args.file)))
    except ValidationError as err:
        raise CommandError("; ".join(field_problems(err, f"({args.file})")), BAD_INPUT) from err
    try:
        reply = ReturnAddressReply(address=address, given_by=args.by)
    except ValidationError as err:
        raise CommandError(
            f"--by: {args.by!r} is neither 'seller' nor 'operations:<staff id>' (a staff ID: "
            "letters, digits, '.', '_' or '-')",
            BAD_INPUT,
        ) from err
    client = await connect()
    handle = await _single(client, args.ref)
    await _update(handle, ReturnWorkflow.provide_return_address, reply)
    # The update answers the action's result; the whole state is the status query's.
    status = await handle.query(ReturnWorkflow.status)
    print(render_status(status, temporal.web_ui_link(settings, client.namespace, handle.id)))
    return OK


# --- serve -----------------------------------------------------------------------------------


async def cmd_serve(args: argparse.Namespace, connect: Connect, settings: Settings) -> int:
    """The gateway, until SIGINT or SIGTERM. It starts whether or not Temporal is up (it
    connects on first use, answers 503 meanwhile, and /readyz tells)."""
    logs.configure("gateway", settings.log_level)
    log = logging.getLogger("gateway")
    try:
        tokens = TokenBook.from_settings(settings)
    except TokenConfigError as err:
        raise CommandError(str(err), BAD_INPUT) from err
    try:
        refuse_public_defaults(settings)
    except PublicDefaultsRefused as err:
        raise CommandError(str(err), BAD_INPUT) from err
    if not settings.gateway_event_secrets:
        log.warning("RETURNFLOW_GATEWAY_EVENT_SECRETS is not set: every event will be refused")
    if not len(tokens):
        log.warning("no RETURNFLOW_GATEWAY_*_TOKENS are set: every action will be refused")
    exported = telemetry.from_settings(settings, "gateway")
    try:
        client = await temporal.connect(lazy=True, **exported.connect_options())
    except PayloadKeyError as err:
        exported.close()
        raise CommandError(str(err), BAD_INPUT) from err
    try:
        store = open_store(settings)
    except StoreError as err:
        exported.close()
        raise CommandError(str(err), BAD_INPUT) from err
    registry: CarrierRegistry | None = None
    try:
        registry = CarrierRegistry.from_settings(settings, store)
        app = create_app(client, settings, registry, store)
        async with _listening(
            HostedApp(
                exported.serve(app, app.routes),
                host=settings.gateway_host,
                port=settings.gateway_port,
                access_log=True,
                limits=ConnectionLimits.from_settings(settings),
                trusted_proxies=proxies(settings),
            ),
            "RETURNFLOW_GATEWAY_HOST and RETURNFLOW_GATEWAY_PORT",
        ) as server:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, server.request_stop)
            log.info("gateway listening", extra={"url": server.url})
            await server.wait_stopped()
    finally:
        if registry is not None:
            await registry.aclose()
        store.close()
        exported.close()
    return OK


@asynccontextmanager
async def _listening(hosted: HostedApp, settings_named: str) -> AsyncIterator[HostedApp]:
    """`hosted`, serving; an address it cannot listen on (taken, or no such host) is a command
    error naming the settings, not a traceback."""
    async with AsyncExitStack() as stack:
        try:
            server = await stack.enter_async_context(hosted)
        except OSError as err:
            raise CommandError(
                f"{settings_named}: cannot listen on {hosted.host}:{hosted.port}: "
                f"{err.strerror or err}",
                BAD_INPUT,
            ) from err
        yield server


# --- search attributes -----------------------------------------------------------------------


async def cmd_search_attributes(
    args: argparse.Namespace, connect: Connect, settings: Settings
) -> int:
    """Register the custom search attributes the namespace lacks (a self-hosted cluster; the dev
    server registers them itself, Temporal Cloud through its console or tcld). With --wait, a
    cluster or namespace that is still coming up is asked again until it answers."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.wait
    while True:
        try:
            client = await connect()
            added = await temporal.register_search_attributes(client)
            break
        except CommandError as err:
            if err.code == BAD_INPUT or loop.time() >= deadline:
                raise
            reason = str(err)
        except RPCError as err:
            if loop.time() >= deadline:
                raise CommandError(f"cannot register the search attributes: {err.message}") from err
            reason = err.message
        except temporal.NamespaceMissing as err:
            # A cluster's setup creates the namespace once its frontend answers.
            if loop.time() >= deadline:
                raise
            reason = str(err)
        print(f"waiting for Temporal: {reason}", file=sys.stderr)
        await asyncio.sleep(2)
    namespace = client.namespace
    if added:
        print(f"registered in {namespace}: {', '.join(added)}")
    else:
        print(f"{namespace} already has every search attribute")
    return OK


# --- deployment ------------------------------------------------------------------------------


async def cmd_deployment(args: argparse.Namespace, connect: Connect, settings: Settings) -> int:
    """Which build takes new returns, and how many returns each build still runs."""
    client = await connect()
    name = settings.deployment_name
    if args.action == "promote":
        build = args.build_id or versioning.build_id(settings)
        try:
            previous = await versioning.promote(
                client, name, build, wait=timedelta(seconds=args.wait)
            )
        except versioning.VersionNotPolling as err:
            raise CommandError(str(err)) from err
        before = f" (was {previous})" if previous else " (was unversioned)"
        if previous == build:
            before = " (already)"
        print(f"{name}: build {build} is current: new returns go to it{before}")
        return OK
    state = await versioning.describe(client, name)
    if state is None:
        raise CommandError(f"no worker of deployment {name!r} has polled yet")
    state = await versioning.with_running_counts(client, settings, state)
    print(f"deployment {name}: current build {state.current or '(none: unversioned)'}")
    for v in state.versions:
        drainage = f", {v.drainage}" if v.drainage else ""
        print(f"  {v.build_id:<20} {v.status}{drainage}; {v.running} running pinned to it")
    return OK


# --- codec server and keys ------------------------------------------------------------------


async def cmd_codec_server(args: argparse.Namespace, connect: Connect, settings: Settings) -> int:
    """The Web UI's codec server, until SIGINT or SIGTERM."""
    logs.configure("codec-server", settings.log_level)
    log = logging.getLogger("codec-server")
    namespace = temporal.connect_config().get("namespace") or "default"
    async with httpx.AsyncClient(timeout=10.0) as http:
        try:
            refuse_public_codec_tokens(settings)
            codec = EncryptionCodec(settings.payload_keyring())
            access = CodecAccess.from_settings(settings, namespace, http)
        except (PayloadKeyError, CodecConfigError, TokenConfigError, PublicDefaultsRefused) as err:
            raise CommandError(str(err), BAD_INPUT) from err
        if access.trusted_origins:
            log.warning(
                "the codec server decrypts for these origins WITHOUT a token (dev stack only)",
                extra={"trusted_origins": sorted(access.trusted_origins)},
            )
        app = create_codec_app(
            codec, access, settings.codec_max_body_bytes, settings.http_body_timeout_seconds
        )
        exported = telemetry.from_settings(settings, "codec-server")
        try:
            async with _listening(
                HostedApp(
                    exported.serve(app, app.routes),
                    host=settings.codec_host,
                    port=settings.codec_port,
                    limits=ConnectionLimits.from_settings(settings),
                ),
                "RETURNFLOW_CODEC_HOST and RETURNFLOW_CODEC_PORT",
            ) as server:
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, server.request_stop)
                log.info(
                    "codec server listening",
                    extra={"url": server.url, "namespaces": access.namespaces},
                )
                await server.wait_stopped()
        finally:
            exported.close()
    return OK


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "new":
        try:
            print(encryption.key_line(args.id or f"key-{datetime.now(UTC):%Y%m%d}"))
        except PayloadKeyError as err:
            raise CommandError(str(err), BAD_INPUT) from err
        return OK
    try:
        keyring = settings.payload_keyring()
    except PayloadKeyError as err:
        raise CommandError(str(err), BAD_INPUT) from err
    for key_id in keyring.key_ids:
        current = key_id == keyring.current
        print(f"{key_id}  (current: new payloads are encrypted with it)" if current else key_id)
    return OK


# --- command line ----------------------------------------------------------------------------


async def _connect() -> Client:
    try:
        return await temporal.connect()
    except PayloadKeyError as err:
        raise CommandError(str(err), BAD_INPUT) from err
    except temporal.TemporalUnreachable as err:
        raise CommandError(str(err)) from err


def parser() -> argparse.ArgumentParser:
    invoked = Path(sys.argv[0]).name
    top = argparse.ArgumentParser(
        prog="returnflow" if invoked == "returnflow" else "starter.py",
        description="Start and steer returns. Temporal is found through TEMPORAL_ADDRESS, "
        "TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and the TLS variables.",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("retract", help="start the return of an order.retract_requested event")
    p.add_argument("event", metavar="EVENT.json", help="the event, as the order service sends it")

    p = sub.add_parser("status", help="show a return: stage, deadlines, label, pickup, timeline")
    p.add_argument("ref", metavar="ORDER_ID[-LINE]", help="an order, an order line or a return ID")
    p.add_argument(
        "--json", action="store_true", help="print each return's status as JSON, one a line"
    )

    p = sub.add_parser("choose", help="give the customer's choice of return method (an update)")
    p.add_argument("ref", metavar="ORDER_ID-LINE", help="the order line or return ID")
    p.add_argument(
        "--method",
        required=True,
        choices=["mailbox_pickup", "post_office_drop_off", "post_office_counter"],
    )
    p.add_argument("--carrier", required=True, help="carrier code, e.g. sandbox")
    p.add_argument("--pickup-date", metavar="YYYY-MM-DD", help="mailbox pickup: the day")
    p.add_argument(
        "--pickup-address", metavar="ADDRESS.json", help="mailbox pickup: if not at home"
    )

    p = sub.add_parser("give-address", help="give the seller's return address (an update)")
    p.add_argument("ref", metavar="ORDER_ID-LINE", help="the order line or return ID")
    p.add_argument("--file", required=True, metavar="ADDRESS.json", help="the postal address")
    p.add_argument("--by", required=True, help="who gives it: seller or operations:<name>")

    p = sub.add_parser(
        "schema",
        help="write the generated files: the retract event's JSON Schema, the OpenAPI "
        "descriptions of the gateway, the codec server and the marketplace, the event feed's "
        "JSON Schemas, the configuration reference",
    )
    p.add_argument("--check", action="store_true", help="only check they are up to date")

    sub.add_parser(
        "serve",
        help="run the gateway (events, webhooks, actions) on RETURNFLOW_GATEWAY_HOST:PORT",
    )
    dead_letter_commands.add_parser(sub)
    feed_commands.add_parser(sub)
    store_commands.add_parser(sub)
    sub.add_parser(
        "codec-server",
        help="run the Web UI's codec server (decrypts payloads for authorised staff) on "
        "RETURNFLOW_CODEC_HOST:PORT",
    )
    p = sub.add_parser(
        "search-attributes",
        help="register the custom search attributes the namespace lacks (idempotent; for a "
        "self-hosted cluster)",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="ask again for this long while Temporal or the namespace is not up yet",
    )
    p = sub.add_parser(
        "deployment",
        help="worker builds: which one takes new returns, and what each still runs",
    )
    deployment = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    deployment.add_parser("show", help="the current build, every build's status and returns")
    d = deployment.add_parser(
        "promote", help="make a build current: new returns go to it, the old one drains"
    )
    d.add_argument("build_id", nargs="?", help="default: this installation's build")
    d.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="wait this long for a worker of that build to poll",
    )
    p = sub.add_parser("keys", help="payload encryption keys: make a new one, show the configured")
    keys = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    k = keys.add_parser("new", help="print a new KEY_ID=BASE64 line (32 random bytes)")
    k.add_argument("--id", help="its key ID (default: key-YYYYMMDD)")
    keys.add_parser("show", help="the configured key IDs and the current one (never the keys)")

    p = sub.add_parser(
        "schedule",
        help="the daily reminder of unshipped returns (a Temporal Schedule): install, show, "
        "trigger, pause, unpause",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "install", help="create it, or update it in place to RETURNFLOW_REMINDER_* (idempotent)"
    )
    actions.add_parser("show", help="when it runs, its next and last runs, paused or not")
    actions.add_parser("trigger", help="run the reminder sweep now")
    for action, does in (("pause", "stop"), ("unpause", "resume")):
        a = actions.add_parser(action, help=f"{does} its daily runs")
        a.add_argument("--note", help="why, shown with the schedule (Web UI, schedule show)")
    return top


async def cmd_dead_letters(args: argparse.Namespace, connect: Connect, settings: Settings) -> int:
    try:
        if args.verb == "replay":
            return await dead_letter_commands.replay_letters(args, connect, settings)
        return dead_letter_commands.SYNC_VERBS[args.verb](args, settings)
    except dead_letter_commands.DeadLetterCommandError as err:
        raise CommandError(str(err), err.code) from err


async def cmd_feed(args: argparse.Namespace, connect: Connect, settings: Settings) -> int:
    try:
        return await feed_commands.run(args, connect)
    except feed_commands.FeedCommandError as err:
        raise CommandError(str(err), err.code) from err


async def cmd_store(args: argparse.Namespace, connect: Connect, settings: Settings) -> int:
    try:
        return store_commands.run(args, settings)
    except StoreError as err:
        raise CommandError(str(err), BAD_INPUT) from err


async def cmd_schedule(args: argparse.Namespace, connect: Connect, settings: Settings) -> int:
    try:
        return await reminder_schedule.run_command(args, connect, settings)
    except reminder_schedule.ScheduleMissing as err:
        raise CommandError(str(err)) from err
    except reminder_schedule.ScheduleRefused as err:
        raise CommandError(str(err), BAD_INPUT) from err


COMMANDS = {
    "retract": cmd_retract,
    "status": cmd_status,
    "choose": cmd_choose,
    "give-address": cmd_give_address,
    "serve": cmd_serve,
    "dead-letters": cmd_dead_letters,
    "feed": cmd_feed,
    "store": cmd_store,
    "schedule": cmd_schedule,
    "codec-server": cmd_codec_server,
    "search-attributes": cmd_search_attributes,
    "deployment": cmd_deployment,
}


async def run(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "schema":
            return cmd_schema(args)
        if args.command == "keys":
            return cmd_keys(args, _settings())
        return await COMMANDS[args.command](args, _connect, _settings())
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.code
    except (TelemetryConfigError, temporal.TemporalConfigError, CarrierConfigurationError) as err:
        print(f"error: {err}", file=sys.stderr)
        return BAD_INPUT
    except RPCError as err:
        # Temporal's words, and what to do when it is the deployment's to fix.
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            print(f"error: Temporal did not answer in time: {err.message}", file=sys.stderr)
        else:
            said = f"{err.message}{_rpc_hint(err)}"
            print(f"error: Temporal refused the request: {said}", file=sys.stderr)
        return REFUSED


def _rpc_hint(err: RPCError) -> str:
    if "no mapping defined for search attribute" in err.message:
        return " (register returnflow's search attributes: `starter.py search-attributes`)"
    if err.status in (RPCStatusCode.UNAUTHENTICATED, RPCStatusCode.PERMISSION_DENIED):
        return " (check TEMPORAL_API_KEY or the TLS settings, and what the key may do)"
    return ""


def _settings() -> Settings:
    """The settings from the environment; one naming each setting it refuses, and why."""
    try:
        return Settings()
    except ValidationError as err:
        raise CommandError(settings_refusal(err), BAD_INPUT) from None


def main() -> None:
    temporal.exit_process(asyncio.run(run(sys.argv[1:])))


if __name__ == "__main__":
    main()
