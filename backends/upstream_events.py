"""An upstream event stream read: its bytes cut into lines as the SSE format ends them (at `\\n`,
`\\r\\n` or `\\r`, wherever the network cut the bytes), and the lines read as a chat stream's
payloads or a Responses stream's named events. Lines stay bytes: what the upstream sent is passed on
as sent, never decoded and encoded again. A chat stream's piece that holds whole events written just
as the server would frame them again is not cut at all (`Frames`)."""

from __future__ import annotations

from backends.base import Comment, Frames, NamedEvent, Payload, Together

Read = bytes | NamedEvent | Comment  # what a stream's lines make: a payload, a named event, a comment
# The events a Responses stream ends with (`error` is followed by `response.failed`).
TERMINAL_EVENTS = (b"response.completed", b"response.incomplete", b"response.failed", b"response.done")
DONE = b"data: [DONE]\n\n"
DONE_INSIDE = b"\n\n" + DONE  # `[DONE]` after another event (a long needle: found faster than `[DONE]`)


class Lines:
    def __init__(self) -> None:
        self._rest = b""  # a line not ended yet
        self._cr = False  # the last piece ended with `\r`: a `\n` first in the next is its other half

    @property
    def idle(self) -> bool:
        """Whether the next piece starts a line of its own."""
        return not self._rest and not self._cr

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


def passed(reads: list[Read]) -> Payload | None:
    """What a piece's lines made, as the stream passes it on: those that came together, together."""
    if len(reads) > 1:
        return Together(tuple(reads))
    return reads[0] if reads else None


# The readers below run for every line or piece of every proxied stream, so they are written for
# speed:
# - a line is told apart by its first bytes compared as a slice, not with `bytes.startswith`, whose
#   every call in CPython 3.11 parses its arguments the slow, old way (at a hundred lines a stream,
#   that parsing was most of what reading one cost the proxy, about 0.3 us a line); a piece's last
#   bytes likewise, not with `endswith`;
# - bytes are searched for with `find`, not `in`, which first tries to read its operand as an
#   integer and clears the error that raises (with `in`, `startswith` and `endswith`, a stream paced
#   one event a piece cost the proxy 2% more than reading each piece line by line);
# - a field's value is what follows its colon and one space, if there is one;
# - an event's payload is its `data:` values joined by `\n` (one value: itself, not a copy).


def as_framed(piece: bytes) -> bool:
    """Whether `piece` is whole `data: <payload>\\n\\n` events and nothing else: no other line, no
    payload of several lines, no blank line more, no `\\r`. Framing its payloads again gives back its
    very bytes, so it can pass on as it came. Told by a few passes in C, not line by line: with what
    comes between two events (`\\n\\ndata: `) taken out, the only newlines left must be the last two.
    (`bytes.count` of a newline reads a byte at a time: counting them cost twice as much.)"""
    if piece[:6] != b"data: " or piece.find(b"\r") >= 0:
        return False
    joined = piece.replace(b"\n\ndata: ", b"")
    return joined.find(b"\n") == len(joined) - 2 and joined[-1:] == b"\n"


class Events:
    """A stream's lines, read as they come (`read`, which each kind of stream has its own way of)."""

    def __init__(self) -> None:
        self.lines = Lines()
        self.data: list[bytes] = []  # the `data:` values of an event not ended yet

    def feed(self, piece: bytes) -> Payload | None:
        """What the stream passes on of the piece of it that came next."""
        return passed(self.read(self.lines.feed(piece)))

    def end(self) -> Payload | None:
        """What the stream passes on of a last line the body ended inside."""
        return passed(self.read(self.lines.end()))

    def read(self, lines: list[bytes]) -> list[Read]:
        raise NotImplementedError


class ChatEvents(Events):
    """A chat stream's `data:` payloads and comment lines, up to `[DONE]` (`done`)."""

    unfinished = "ended without [DONE]"

    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def feed(self, piece: bytes) -> Payload | None:
        if not self.data and self.lines.idle:
            # The usual piece, whole events as the server frames them, passes as it came; `[DONE]`
            # only as its last event (one before others is left to the lines, which stop there).
            done = piece[-len(DONE) :] == DONE
            events = piece[: -len(DONE)] if done else piece
            if not events or (
                as_framed(events) and events[: len(DONE)] != DONE and events.find(DONE_INSIDE) < 0
            ):
                self.done = done
                return Frames(events) if events else None
        return super().feed(piece)

    def read(self, lines: list[bytes]) -> list[Read]:
        out: list[Read] = []
        data = self.data
        for line in lines:
            if not line:
                if data:
                    payload = b"\n".join(data)
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


class NamedEvents(Events):
    """A Responses stream's events with their names, and its comment lines. It ends with the body,
    after a terminal event."""

    unfinished = "ended before its last event"
    done = False  # the body's end says

    def __init__(self) -> None:
        super().__init__()
        self.name = self.last = b""

    def read(self, lines: list[bytes]) -> list[Read]:
        out: list[Read] = []
        data = self.data
        for line in lines:
            if not line:
                if data:
                    payload = b"\n".join(data)
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
