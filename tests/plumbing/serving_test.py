"""A server facing strangers on a real socket: a client trickling its headers is cut off, headers
over the limit are refused in the JSON error shape, and connections beyond the cap are closed
while those within are served."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from plumbing.serving import ConnectionLimits, HostedApp

HANG_GUARD = 20.0
"""Bound on a wait that must end on its own: a failure, never a measure."""


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


@contextlib.asynccontextmanager
async def served(limits: ConnectionLimits) -> AsyncIterator[HostedApp]:
    async with HostedApp(Starlette(routes=[Route("/", hello)]), limits=limits) as server:
        yield server


async def connect(server: HostedApp) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(server.host, server.port)


async def answer_to(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of one answer read off the connection."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HANG_GUARD)
    lines = head.decode().split("\r\n")
    length = next(int(v) for k, _, v in (x.partition(": ") for x in lines) if k == "content-length")
    body = await asyncio.wait_for(reader.readexactly(length), HANG_GUARD)
    return int(lines[0].split()[1]), body


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    return await asyncio.wait_for(reader.read(), HANG_GUARD) == b""


async def fewer_than(server: HostedApp, count: int) -> None:
    """Until the server has noticed enough closes."""
    while server.open_connections >= count:
        await asyncio.sleep(0.01)


GET = b"GET / HTTP/1.1\r\nHost: returnflow\r\n\r\n"


async def test_a_client_trickling_its_headers_is_cut_off_while_a_prompt_one_is_answered() -> None:
    async with served(ConnectionLimits(header_timeout_seconds=0.5)) as server:
        slow_reader, slow = await connect(server)
        prompt_reader, prompt = await connect(server)
        prompt.write(GET)
        status, _ = await answer_to(prompt_reader)

        async def trickle() -> None:
            for byte in GET[:-4]:
                slow.write(bytes([byte]))
                await asyncio.sleep(0.05)

        trickling = asyncio.create_task(trickle())
        cut_off = await closed_by_server(slow_reader)
        trickling.cancel()
        prompt.write(GET)
        again, _ = await answer_to(prompt_reader)
        for writer in (slow, prompt):
            writer.close()

    assert status == 200
    assert cut_off
    assert again == 200, "a kept-alive connection waits for its next request's first byte"


async def test_a_client_trickling_a_body_already_answered_is_cut_off() -> None:
    """The server answered (a refusal) before reading the body; the client goes on sending it a
    byte at a time, each putting off the keep-alive timer: the headers' deadline closes it."""
    limits = ConnectionLimits(header_timeout_seconds=0.5, keep_alive_seconds=0.5)
    async with served(limits) as server:
        reader, writer = await connect(server)
        writer.write(b"POST / HTTP/1.1\r\nHost: returnflow\r\ncontent-length: 100000\r\n\r\n")
        status, _ = await answer_to(reader)

        async def trickle() -> None:
            while True:
                writer.write(b"x")
                await asyncio.sleep(0.1)

        trickling = asyncio.create_task(trickle())
        cut_off = await closed_by_server(reader)
        trickling.cancel()
        writer.close()

    assert status == 405  # refused at once: the route takes no POST
    assert cut_off


async def test_a_silent_connection_is_closed() -> None:
    async with served(ConnectionLimits(header_timeout_seconds=0.3)) as server:
        reader, writer = await connect(server)
        assert await closed_by_server(reader)
        writer.close()


async def test_headers_over_the_limit_are_refused_431_in_the_json_error_shape() -> None:
    async with served(ConnectionLimits(max_header_bytes=2048)) as server:
        reader, writer = await connect(server)
        writer.write(
            b"GET / HTTP/1.1\r\nHost: returnflow\r\nX-Padding: " + b"a" * 4096 + b"\r\n\r\n"
        )
        status, body = await answer_to(reader)
        writer.close()

    assert status == 431
    assert json.loads(body)["error"]["code"] == "headers_too_large"


async def test_connections_beyond_the_cap_are_closed_and_those_within_served() -> None:
    async with served(ConnectionLimits(max_connections=2)) as server:
        first_reader, first = await connect(server)
        second_reader, second = await connect(server)
        first.write(GET)
        second.write(GET)
        answered = [(await answer_to(r))[0] for r in (first_reader, second_reader)]
        third_reader, third = await connect(server)
        refused = await closed_by_server(third_reader)
        first.close()
        await first.wait_closed()
        await asyncio.wait_for(fewer_than(server, 2), HANG_GUARD)
        fourth_reader, fourth = await connect(server)
        fourth.write(GET)
        served_after, _ = await answer_to(fourth_reader)
        for writer in (second, third, fourth):
            writer.close()

    assert answered == [200, 200]
    assert refused
    assert served_after == 200


async def test_what_is_not_http_is_refused_400_in_the_json_error_shape() -> None:
    async with served(ConnectionLimits()) as server:
        reader, writer = await connect(server)
        writer.write(b"\x16\x03\x01 not http at all\r\n\r\n")
        status, body = await answer_to(reader)
        writer.close()

    assert status == 400
    assert json.loads(body)["error"]["code"] == "bad_http"


async def test_a_large_body_after_small_headers_is_not_mistaken_for_long_headers() -> None:
    async with served(ConnectionLimits(max_header_bytes=1024)) as server:
        reader, writer = await connect(server)
        body = b"x" * 200_000
        request = b"POST / HTTP/1.1\r\nHost: returnflow\r\nContent-Length: 200000\r\n\r\n"
        for start in range(0, len(request), 7):  # the head in pieces, across the blank line
            writer.write(request[start : start + 7])
            await writer.drain()
        writer.write(body)
        status, _ = await answer_to(reader)
        writer.close()

    assert status == 405, "the route answers: GET only"
