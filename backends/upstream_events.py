"""An upstream event stream read: its bytes cut into lines as the SSE format ends them (at `\\n`,
`\\r\\n` or `\\r`, wherever the network cut the bytes), and the lines read as a chat stream's
payloads or a Responses stream's named events. Lines stay bytes: what the upstream sent is passed on
as sent, never decoded and encoded again."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from backends.base import Comment, NamedEvent

Read = bytes | NamedEvent | Comment  # what a stream's lines make: a payload, a named event, a comment
# The events a Responses stream ends with (`error` is followed by `response.failed`).
TERMINAL_EVENTS = (b"response.completed", b"response.incomplete", b"response.failed", b"response.done")


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


# The readers below run for every line of every proxied stream, so they are written for speed:
# - a line is told apart by its first bytes compared as a slice, not with `bytes.startswith`, whose
#   every call in CPython 3.11 parses its arguments the slow, old way (at a hundred lines a stream,
#   that parsing was most of what reading one cost the proxy, about 0.3 us a line);
# - a field's value is what follows its colon and one space, if there is one;
# - an event's payload is its `data:` values joined by `\n` (one value: itself, not a copy).


class ChatEvents:
    """A chat stream's `data:` payloads and comment lines, up to `[DONE]` (`done`)."""

    unfinished = "ended without [DONE]"

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.done = False

    def read(self, lines: list[bytes]) -> list[Read]:
        out: list[Read] = []
        data = self.data
        for line in lines:
            if not line:
                if data:
                    payload = data[0] if len(data) == 1 else b"\n".join(data)
                    data.clear()
                    if payload == b"[DONE]":
                        self.done = True
                        break
                    out.append(payload)
            elif line[:5] == b"data:":
                data.append(line[6:] if line[5:6] == b" " else line[5:])
            elif line[:1] == b":":
                out.append(Comment(line[1:]))
        return out

    def ended(self) -> bool:
        """Whether a stream that stopped here ended as it should (a last `[DONE]` without its blank line)."""
        return self.data == [b"[DONE]"]


class NamedEvents:
    """A Responses stream's events with their names, and its comment lines. It ends with the body,
    after a terminal event."""

    unfinished = "ended before its last event"
    done = False  # the body's end says

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.name = self.last = b""

    def read(self, lines: list[bytes]) -> list[Read]:
        out: list[Read] = []
        data = self.data
        for line in lines:
            if not line:
                if data:
                    payload = data[0] if len(data) == 1 else b"\n".join(data)
                    data.clear()
                    out.append(NamedEvent(self.name, payload) if self.name else payload)
                    self.last, self.name = self.name, b""
            elif line[:5] == b"data:":
                data.append(line[6:] if line[5:6] == b" " else line[5:])
            elif line[:6] == b"event:":
                self.name = line[7:] if line[6:7] == b" " else line[6:]
            elif line[:1] == b":":
                out.append(Comment(line[1:]))
        return out

    def ended(self) -> bool:
        return not self.data and self.last in TERMINAL_EVENTS
