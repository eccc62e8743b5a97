"""Keep-alive HTTP/1.1 connections to one upstream origin, and the answers read from them.

A request takes the connection released last (the one the upstream's keep-alive timeout is least
likely to have closed), or opens one; nothing limits how many are open at once, as each serves one
request the server already admitted. An answer read to its end on a connection both sides keep open
gives the connection back (up to MAX_IDLE wait); any other end closes it, so an answer abandoned
midway (its client left) closes its connection, and the upstream sees its client leave.

An upstream may close an idle connection just as a request is written to it. A reused connection
that ends without a byte of an answer is therefore tried once more, on a new connection. (The
upstream sent nothing; it could in principle have read the request and then died, and only then does
a request go twice.)
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncGenerator, Callable

from backends.http1.connection import Connection, Decoder
from backends.http1.errors import BrokenConnectionError, ConnectError, ConnectTimeoutError, UpstreamError

MAX_IDLE = 64  # idle connections kept for reuse
FINISH_GRACE = 0.25  # seconds a finished answer's last bytes may take before its connection is closed


class Answer:
    """An upstream's status and headers (names in lower case, values as sent), and a body to read
    whole (`read`) or piece by piece (`pieces`). Either gives the connection back or closes it; so
    does `close`, for a body nobody reads, and `finish`, for one whose reader has all it wants."""

    __slots__ = ("_conn", "_decode", "_open", "_pool", "headers", "status")

    def __init__(self, pool: Pool, conn: Connection) -> None:
        self._pool, self._conn = pool, conn
        self._open = True
        self.status, self.headers = conn.status, conn.headers
        encoding = self.header(b"content-encoding")
        self._decode: Callable[[bytes], bytes] | None = (
            Decoder() if encoding is not None and encoding.strip().lower() in (b"gzip", b"deflate") else None
        )

    def header(self, name: bytes) -> bytes | None:
        """The first value of header `name` (lower case)."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    async def read(self) -> bytes:
        conn, pieces = self._conn, []
        try:
            while True:
                pieces.append(conn.take())
                if conn.complete:
                    break
                await conn.more()
        finally:
            self.close()
        body = b"".join(pieces)
        return self._decode(body) if self._decode is not None else body

    async def pieces(self) -> AsyncGenerator[bytes, None]:
        """The body as it arrives."""
        conn = self._conn
        try:
            while True:
                data = conn.take()
                if data:
                    yield data if self._decode is None else self._decode(data)
                if conn.complete and not data:
                    return
                await conn.more()
        finally:
            self.close()

    def close(self) -> None:
        if self._open:
            self._open = False
            self._pool.done(self._conn)

    async def finish(self) -> None:
        """The reader has what it wants, and what may follow is only the body's end (a stream's
        last chunk after `[DONE]`, which may come in a read, or a TLS record, of its own): it is
        read, so the connection can go back, unless it takes longer than FINISH_GRACE seconds."""
        conn = self._conn
        try:
            while not conn.complete:
                conn.take()
                await conn.more(FINISH_GRACE)
        except UpstreamError:
            pass  # then it is closed
        finally:
            self.close()


class Pool:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None,
        connect_timeout: float,
        read_timeout: float,
    ) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self._idle: list[Connection] = []

    async def request(self, message: bytes) -> Answer:
        """Send `message` (the request's head and body) and wait for the answer's head."""
        conn = self._reusable()
        if conn is not None:
            try:
                return await self._exchange(conn, message)
            except BrokenConnectionError:
                if conn.received:
                    raise
        return await self._exchange(await self._open(), message)

    def done(self, conn: Connection) -> None:
        """The answer on `conn` was read, or given up."""
        if conn.reusable and len(self._idle) < MAX_IDLE:
            self._idle.append(conn)
        else:
            conn.close()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _reusable(self) -> Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                return conn
        return None

    async def _exchange(self, conn: Connection, message: bytes) -> Answer:
        try:
            conn.send(message)
            await conn.head()
        except BaseException:
            conn.close()
            raise
        return Answer(self, conn)

    async def _open(self) -> Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: Connection(self.read_timeout),
                    self.host,
                    self.port,
                    ssl=self.tls,
                    server_hostname=self.host if self.tls is not None else None,
                )
        except TimeoutError:
            raise ConnectTimeoutError(f"not connected within {self.connect_timeout:g} s") from None
        except OSError as exc:  # refused, unreachable, a certificate not trusted (ssl.SSLError)
            raise ConnectError(type(exc).__name__) from None
        return conn
