"""Reading HTTP/1.1 responses: an incremental parser for the load generator, and a one-off fetch.

`ResponseParser` takes bytes as they arrive and says when a response is complete: by
Content-Length, or by decoding a chunked body through its terminating zero-size chunk (trailers are
not supported). Bytes past the end stay buffered for the next response on a keep-alive connection.
`fetch` sends one request on a fresh connection, to check what a server answers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

FETCH_TIMEOUT = 10.0

_HEAD, _BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILER, _COMPLETE = range(7)


class ProtocolError(Exception):
    pass


class ResponseParser:
    """An incremental HTTP/1.1 response parser: Content-Length or chunked bodies, keep-alive."""

    __slots__ = ("body", "buf", "chunked", "length", "need", "state", "status")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.reset()

    def reset(self) -> None:
        """Ready for the next response; bytes already received for it are kept."""
        self.state = _HEAD
        self.status = 0
        self.length = -1
        self.chunked = False
        self.need = 0
        self.body = bytearray()

    def feed(self, data: bytes) -> bool:
        """Consume `data`; True once the response is complete (extra bytes stay buffered)."""
        buf = self.buf
        buf += data
        if self.state == _HEAD:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            self._head(bytes(buf[:end]))
            del buf[: end + 4]
        if self.state == _BODY:
            take = min(len(buf), self.length - len(self.body))
            self.body += buf[:take]
            del buf[:take]
            if len(self.body) == self.length:
                self.state = _COMPLETE
            return self.state == _COMPLETE
        return self._chunks()

    def _head(self, head: bytes) -> None:
        lines = head.lower().split(b"\r\n")
        if not lines[0].startswith(b"http/1.1 "):
            raise ProtocolError(f"bad status line {lines[0]!r}")
        self.status = int(lines[0][9:12])
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name == b"content-length":
                self.length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                self.chunked = True
        if self.chunked:
            self.state = _CHUNK_SIZE
        elif self.length >= 0:
            self.state = _BODY
        else:
            raise ProtocolError("response has neither Content-Length nor chunked encoding")

    def _chunks(self) -> bool:
        buf = self.buf
        pos = 0
        end = len(buf)
        state = self.state
        while True:
            if state == _CHUNK_DATA:
                take = min(self.need, end - pos)
                self.body += buf[pos : pos + take]
                pos += take
                self.need -= take
                if self.need:
                    break
                state = _CHUNK_CRLF
            if state in (_CHUNK_CRLF, _TRAILER):
                if end - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise ProtocolError("chunk not followed by CRLF (trailers are not supported)")
                pos += 2
                if state == _TRAILER:
                    state = _COMPLETE
                    break
                state = _CHUNK_SIZE
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                break
            size = int(buf[pos:eol].split(b";", 1)[0], 16)
            pos = eol + 2
            if size == 0:
                state = _TRAILER
            else:
                self.need = size
                state = _CHUNK_DATA
        del buf[:pos]
        self.state = state
        return state == _COMPLETE


@dataclass
class Response:
    status: int
    body: bytes


def sse_events(body: bytes) -> list[bytes]:
    """The `data:` payloads of an SSE body framed as OpenAI frames it: `data: <json>\\n\\n`, or for
    the Responses API `event: <type>\\ndata: <json>\\n\\n`."""
    return [
        frame[frame.index(b"data: ") + len(b"data: ") :]
        for frame in body.split(b"\n\n")
        if frame.startswith(b"data: ") or (frame.startswith(b"event: ") and b"\ndata: " in frame)
    ]


async def fetch(host: str, port: int, request: bytes) -> Response:
    """One request on a fresh connection, within FETCH_TIMEOUT: for checking what a server answers."""
    async with asyncio.timeout(FETCH_TIMEOUT):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(request)
            parser = ResponseParser()
            while True:
                data = await reader.read(65536)
                if not data:
                    raise ProtocolError("connection closed before the response was complete")
                if parser.feed(data):
                    return Response(parser.status, bytes(parser.body))
        finally:
            writer.close()
