"""The one Server-Sent Events parser of the tests, and the readings of a stream built on it.

`Parser` follows the WHATWG event-stream rules: lines end at `\\n`, `\\r\\n` or `\\r`; a line is a
`field: value` pair (one space after the colon dropped) or a `:` comment; a blank line ends a frame;
several `data:` lines join with `\\n`. Unlike a browser it also hands back frames that hold only
comments (a keep-alive `: ping`), since tests assert on those too, and it keeps `event:` names, which
the Responses API streams as `event: X` / `data: Y` pairs. A frame left without its blank line at the
end is dropped, as the rules say; `openai_stream` is the strict reading that notices such bytes.

Readings: `frames` (everything), `data` (each payload, `[DONE]` included), `chunks` (the JSON payloads),
`openai_stream` (the exact framing OpenAI uses, failing on any other byte), and `iter_frames` /
`aiter_frames` over a body as it arrives.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

DONE = "[DONE]"
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame: the lines up to a blank line."""

    data: str | None = None
    """The `data:` lines joined with `\\n`; None when the frame had no data line (only comments)."""
    event: str | None = None
    id: str | None = None
    comments: tuple[str, ...] = ()
    """Each comment line's text after the `:`, a leading space dropped."""

    @property
    def done(self) -> bool:
        return self.data == DONE

    def json(self) -> Any:
        assert self.data is not None, f"a frame without data: {self}"
        return json.loads(self.data)


@dataclass
class Parser:
    """Incremental: `feed` text as it arrives and take the frames it completes."""

    _pending: str = ""
    _data: list[str] = field(default_factory=list)
    _event: str | None = None
    _id: str | None = None
    _comments: list[str] = field(default_factory=list)
    _seen: bool = False

    def feed(self, text: str) -> list[Frame]:
        buffer = self._pending + text
        # A trailing `\r` may be the first half of `\r\n`: it waits for the next piece (or `end`).
        held = "\r" if buffer.endswith("\r") else ""
        lines = _LINE_END.split(buffer[: len(buffer) - len(held)])
        self._pending = lines.pop() + held  # the last piece has no line end yet
        return [frame for frame in map(self._line, lines) if frame is not None]

    def end(self) -> list[Frame]:
        """The body is over: a held `\r` ended its line; an unfinished line is dropped."""
        pending, self._pending = self._pending, ""
        frame = self._line(pending[:-1]) if pending.endswith("\r") else None
        return [frame] if frame is not None else []

    def _line(self, line: str) -> Frame | None:
        if line == "":
            return self._dispatch()
        self._seen = True
        name, colon, value = line.partition(":")
        value = value.removeprefix(" ") if colon else ""
        if name == "":
            self._comments.append(value)
        elif name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        return None

    def _dispatch(self) -> Frame | None:
        if not self._seen:
            return None
        frame = Frame(
            data="\n".join(self._data) if self._data else None,
            event=self._event,
            id=self._id,
            comments=tuple(self._comments),
        )
        self._data, self._event, self._id, self._comments, self._seen = [], None, None, [], False
        return frame


def _text(body: bytes | str) -> str:
    return body.decode("utf-8") if isinstance(body, bytes) else body


def frames(body: bytes | str) -> list[Frame]:
    """Every complete frame of a whole body, comment-only frames included."""
    parser = Parser()
    return parser.feed(_text(body)) + parser.end()


def data(body: bytes | str) -> list[str]:
    """Each frame's data payload, in order, `[DONE]` included."""
    return [frame.data for frame in frames(body) if frame.data is not None]


def chunks(body: bytes | str) -> list[dict[str, Any]]:
    """The JSON objects a stream carried (chunks and error frames); `[DONE]` left out."""
    out = []
    for payload in data(body):
        if payload != DONE:
            value = json.loads(payload)
            assert isinstance(value, dict), f"a payload that is not a JSON object: {payload[:80]!r}"
            out.append(value)
    return out


def openai_stream(body: bytes) -> list[str]:
    """The payloads of a body framed exactly as OpenAI frames a stream, `[DONE]` last and included.

    Every frame is `data: <payload>\\n\\n` and nothing else (no `\\r`, comment, `event:`, `id:` or
    second data line), each payload one JSON object or `[DONE]`; this fails at the first byte that
    is not part of such a frame.
    """
    assert b"\r" not in body, "OpenAI ends lines with \\n only"
    payloads: list[str] = []
    position = 0
    for frame in frames(body):
        expected = f"data: {frame.data}\n\n".encode()
        at = body[position : position + 80]
        assert frame.data is not None, f"a frame without data at {position}: {at!r}"
        assert body.startswith(expected, position), f"malformed bytes at {position}: {at!r}"
        assert frame.done or (frame.data.startswith("{") and frame.data.endswith("}")), at
        payloads.append(frame.data)
        position += len(expected)
    assert position == len(body), f"bytes after the last frame at {position}: {body[position:][:80]!r}"
    assert payloads[-1:] == [DONE], f"the stream must end with [DONE], not {payloads[-1:]!r}"
    return payloads


def iter_frames(texts: Iterable[str]) -> Iterator[Frame]:
    """Frames as they complete, from text arriving in pieces (`response.iter_text()`)."""
    parser = Parser()
    for text in texts:
        yield from parser.feed(text)
    yield from parser.end()


async def aiter_frames(texts: AsyncIterable[str]) -> AsyncIterator[Frame]:
    """Frames as they complete, from text arriving in pieces (`response.aiter_text()`)."""
    parser = Parser()
    async for text in texts:
        for frame in parser.feed(text):
            yield frame
    for frame in parser.end():
        yield frame
