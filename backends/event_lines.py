"""An upstream event stream's bytes cut into lines, as the SSE format ends them: at `\\n`, `\\r\\n` or
`\\r`, wherever the network cut the bytes. Lines stay bytes: what the upstream sent is passed on as
sent, never decoded and encoded again. A leaf that imports nothing of ours."""

from __future__ import annotations

from collections.abc import AsyncGenerator


class Lines:
    def __init__(self) -> None:
        self._rest = b""  # a line not ended yet
        self._cr = False  # the last piece ended with `\r`: a `\n` first in the next is its other half

    def feed(self, data: bytes) -> list[bytes]:
        """The lines that `data` ends."""
        if self._cr:
            self._cr = False
            if data.startswith(b"\n"):
                data = data[1:]
        if self._rest:
            data = self._rest + data
        if b"\r" in data:
            self._cr = data.endswith(b"\r")
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = data.split(b"\n")
        self._rest = lines.pop()
        return lines

    def end(self) -> list[bytes]:
        """The last line, when the stream ended inside it."""
        rest, self._rest = self._rest, b""
        return [rest] if rest else []


async def event_lines(pieces: AsyncGenerator[bytes, None]) -> AsyncGenerator[list[bytes], None]:
    """The lines of a stream that arrives in `pieces`, a batch per piece, the last line last.
    Closing it closes `pieces`."""
    lines = Lines()
    try:
        async for piece in pieces:
            batch = lines.feed(piece)
            if batch:
                yield batch
    finally:
        await pieces.aclose()
    last = lines.end()
    if last:
        yield last
