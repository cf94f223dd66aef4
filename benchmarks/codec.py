"""What payload encryption costs: in the worker's process, and through the codec server.

    python -m benchmarks.codec [--rounds 20000] [--requests 1000] [--concurrency 10]

1. In process: the biggest payload a return carries (the withdrawal event, with the customer's
   name and address) and a small one (a tracking scan), each serialized by the pydantic
   converter and then encrypted, and decrypted back, `--rounds` times. It reports the
   microseconds per payload for each direction and the bytes added.
2. Through the codec server, as the Web UI uses it: `--requests` POST /decode over loopback from
   `--concurrency` clients, one payload per request (a history event's input) and then twenty
   (a page of history), token-authenticated. It reports the latency percentiles.

Prints a report and writes it as JSON to var/bench/codec.json, with when, how and where it was
measured (benchmarks/record.py).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from benchmarks.gateway_load import percentiles
from benchmarks.record import measured
from client.start import parse_event
from codec_server.server import CodecAccess, create_codec_app
from domain.carriers import TrackingScan, TrackingStatus
from plumbing import logs
from plumbing.encryption import EncryptionCodec, Keyring, key_line
from plumbing.serving import HostedApp
from plumbing.settings import Settings
from plumbing.temporal import exit_process

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "var" / "bench" / "codec.json"
TOKEN = "benchmark-codec-token-0123456789"  # noqa: S105 (this benchmark's own server)


@dataclass
class InProcess:
    payload: str
    plain_bytes: int
    encrypted_bytes: int
    encode_us: float
    decode_us: float


@dataclass
class Report:
    rounds: int
    requests: int
    concurrency: int
    in_process: list[InProcess] = field(default_factory=list)
    decode_one_ms: dict[str, float] = field(default_factory=dict)
    decode_twenty_ms: dict[str, float] = field(default_factory=dict)
    requests_per_second: dict[str, float] = field(default_factory=dict)
    refused: int = 0
    peak_rss_mb: float = 0.0


def samples() -> dict[str, BaseModel]:
    event = parse_event((ROOT / "examples" / "events" / "01-mailbox-pickup.json").read_bytes())
    scan = TrackingScan(
        carrier="sandbox",
        tracking_number="SB123456789FR",
        scan_id="SC-1",
        status=TrackingStatus.ACCEPTED,
        occurred_at=dt.datetime.now(dt.UTC),
        location="Lyon sorting centre",
    )
    return {"retract event": event, "tracking scan": scan}


async def in_process(codec: EncryptionCodec, rounds: int) -> list[InProcess]:
    results = []
    for name, value in samples().items():
        [plain] = pydantic_data_converter.payload_converter.to_payloads([value])
        [sealed] = await codec.encode([plain])
        began = time.perf_counter()
        for _ in range(rounds):
            await codec.encode([plain])
        encode = time.perf_counter() - began
        began = time.perf_counter()
        for _ in range(rounds):
            await codec.decode([sealed])
        decode = time.perf_counter() - began
        results.append(
            InProcess(
                name,
                plain.ByteSize(),
                sealed.ByteSize(),
                round(encode / rounds * 1e6, 2),
                round(decode / rounds * 1e6, 2),
            )
        )
    return results


def wire(payload: Payload) -> dict[str, Any]:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


async def through_server(codec: EncryptionCodec, args: argparse.Namespace, report: Report) -> None:
    settings = Settings(codec_tokens=SecretStr(f"bench={TOKEN}"))
    async with httpx.AsyncClient() as jwks_http:
        access = CodecAccess.from_settings(settings, "default", jwks_http)
        app = create_codec_app(codec, access, settings.codec_max_body_bytes)
        async with HostedApp(app) as served:
            event = samples()["retract event"]
            [plain] = pydantic_data_converter.payload_converter.to_payloads([event])
            [sealed] = await codec.encode([plain])
            headers = {"Authorization": f"Bearer {TOKEN}", "X-Namespace": "default"}
            limits = httpx.Limits(max_connections=args.concurrency)
            async with httpx.AsyncClient(
                base_url=served.url, headers=headers, limits=limits
            ) as http:
                for count, target in ((1, "decode_one_ms"), (20, "decode_twenty_ms")):
                    body = json.dumps({"payloads": [wire(sealed)] * count})
                    began = time.perf_counter()
                    latencies = await load(http, body, args, report)
                    rate = args.requests / (time.perf_counter() - began)
                    report.requests_per_second[f"{count} payloads"] = round(rate)
                    setattr(report, target, percentiles(latencies))


async def load(
    http: httpx.AsyncClient, body: str, args: argparse.Namespace, report: Report
) -> list[float]:
    latencies: list[float] = []
    queue = iter(range(args.requests))

    async def sender() -> None:
        for _ in queue:
            began = time.perf_counter()
            answer = await http.post("/decode", content=body)
            latencies.append(time.perf_counter() - began)
            if answer.status_code != 200:
                report.refused += 1

    await asyncio.gather(*(sender() for _ in range(args.concurrency)))
    return latencies


def summary(report: Report) -> str:
    lines = [f"in process, {report.rounds} rounds each:"]
    for row in report.in_process:
        lines.append(
            f"  {row.payload:<14} {row.plain_bytes:>5} B -> {row.encrypted_bytes:>5} B   "
            f"encrypt {row.encode_us:>6.1f} us   decrypt {row.decode_us:>6.1f} us"
        )
    lines.append(
        f"codec server, {report.requests} POST /decode, {report.concurrency} in flight "
        f"({report.refused} not 200):"
    )
    for label, figures in (
        ("1 payload", report.decode_one_ms),
        ("20 payloads", report.decode_twenty_ms),
    ):
        shown = ", ".join(f"{k} {v} ms" for k, v in figures.items())
        rate = report.requests_per_second.get(label.replace("1 payload", "1 payloads"))
        lines.append(f"  {label:<12} {shown}; {rate} requests/s")
    lines.append(f"peak RSS {report.peak_rss_mb} MB")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    stamp = measured("benchmarks.codec", sys.argv[1:])
    logs.configure("benchmark", "WARNING")  # not one audit line per request on the terminal
    keyring = Keyring.parse(key_line("bench"), source="benchmark")
    codec = EncryptionCodec(keyring)
    report = Report(args.rounds, args.requests, args.concurrency)
    report.in_process = await in_process(codec, args.rounds)
    await through_server(codec, args, report)
    report.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"measured": stamp, **asdict(report)}, indent=2) + "\n"
    await asyncio.to_thread(REPORT.write_text, text)
    print(summary(report))
    return 0 if report.refused == 0 else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.codec",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=20_000, help="encryptions per payload")
    parser.add_argument("--requests", type=int, default=1000, help="POST /decode per batch size")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight")
    exit_process(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
