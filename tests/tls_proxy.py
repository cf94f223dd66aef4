"""A TLS-terminating TCP proxy for tests: what a TLS (or mTLS) Temporal frontend looks like to
a client, in front of the dev server, which only speaks plaintext gRPC.

It terminates TLS (offering ALPN `h2`, which gRPC needs), optionally requires a client
certificate signed by a given CA, and forwards the decrypted bytes both ways to the upstream
port. It records what a test wants to assert on: the subject CN of every client certificate it
accepted, why it refused each handshake it refused, and the decrypted bytes the clients sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path
from types import TracebackType
from typing import Self


class TlsProxy:
    """`async with TlsProxy(...) as proxy:` listens on `proxy.port` (loopback) until the end of
    the block; every connection it accepted is closed on the way out."""

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        cert: Path,
        key: Path,
        client_ca: Path | None = None,
        handshake_timeout: float = 5.0,
    ) -> None:
        self.upstream = upstream
        self.client_cns: list[str] = []
        """The subject CN of each accepted client certificate, in order."""
        self.refusals: list[str] = []
        """Why each refused handshake failed (OpenSSL's reason, e.g. a missing certificate)."""
        self.accepted = 0
        """How many handshakes succeeded."""
        self.received = bytearray()
        """Everything the clients sent, decrypted (HTTP/2 frames for a gRPC client)."""
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._context.set_alpn_protocols(["h2"])
        if client_ca is not None:
            self._context.verify_mode = ssl.CERT_REQUIRED
            self._context.load_verify_locations(cafile=client_ca)
        self._handshake_timeout = handshake_timeout
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._handshakes = asyncio.Condition()

    @property
    def port(self) -> int:
        assert self._server is not None, "the proxy is not listening"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def address(self) -> str:
        """`localhost:<port>`: the name the test server certificate carries."""
        return f"localhost:{self.port}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def first_refusal(self) -> str:
        """The reason of the first refused handshake, once there is one (a client may give up
        before the proxy has recorded why)."""
        async with self._handshakes:
            await self._handshakes.wait_for(lambda: bool(self.refusals))
        return self.refusals[0]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            # Only the proxy's own exit cancels a connection; asyncio (3.11) would report a
            # cancelled connection task as an error, so it ends here as a normal close.
            pass
        finally:
            self._connections.discard(task)
            self._writers.discard(writer)
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await writer.start_tls(self._context, ssl_handshake_timeout=self._handshake_timeout)
        except (OSError, TimeoutError) as err:  # ssl.SSLError is an OSError
            await self._record(refusal=getattr(err, "reason", None) or type(err).__name__)
            return
        peer = writer.get_extra_info("peercert")
        subject = dict(pair for rdn in peer.get("subject", ()) for pair in rdn) if peer else {}
        await self._record(client_cn=str(subject.get("commonName", "")) if peer else None)
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self._writers.add(up_writer)
        try:
            pumps = [
                asyncio.ensure_future(self._pump(reader, up_writer, record=True)),
                asyncio.ensure_future(self._pump(up_reader, writer, record=False)),
            ]
            try:
                # Either side closing ends the connection: gRPC never half-closes a stream.
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            self._writers.discard(up_writer)
            up_writer.transport.abort()

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, record: bool
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                if record:
                    self.received += data
                sink.write(data)
                await sink.drain()

    async def _record(self, *, refusal: str | None = None, client_cn: str | None = None) -> None:
        async with self._handshakes:
            if refusal is not None:
                self.refusals.append(refusal)
            else:
                self.accepted += 1
            if client_cn is not None:
                self.client_cns.append(client_cn)
            self._handshakes.notify_all()
