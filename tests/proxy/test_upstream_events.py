"""A chat stream's piece that is whole `data:` events written as the server frames them passes on as
it came (`Frames`); whatever an upstream sends and wherever the network cuts it, the client gets the
bytes it would get were the stream read line by line, and the stream ends where it would."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import example, given, settings
from hypothesis import strategies as st

from backends.base import Frames, Payload
from backends.upstream_events import ChatEvents
from server.http.sse import frame

CHUNK = b'{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"Hi"}}]}'
# Events an upstream may send: as the server frames them, and in every other way the format allows.
EVENTS = [
    b"data: " + CHUNK + b"\n\n",
    b'data: {"a":"data: [DONE]"}\n\n',
    b'data: {"content":"[DONE]"}\n\n',
    b"data: \n\n",
    b"data:  two spaces\n\n",
    b"data:" + CHUNK + b"\n\n",  # no space after the colon
    b"data: one\ndata: two\n\n",  # a payload of two lines
    b": keep-alive\n\n",
    b"\n",  # a blank line more
    b"event: x\nid: 7\ndata: named\n\n",
    b"data: " + CHUNK + b"\r\n\r\n",
    b"data: carriage\r\r",
    b"data: [DONE]\n\n",
]


def passed_on(stream: bytes, cuts: list[int]) -> tuple[bytes, list[Payload], bool]:
    """What the client gets of `stream` arriving in pieces cut at `cuts`, what it was passed on as,
    and whether the stream ended as it should."""
    events, out = ChatEvents(), []
    bounds = [0, *sorted(set(cuts)), len(stream)]
    for start, end in pairwise(bounds):
        if start == end:
            continue
        payload = events.feed(stream[start:end])
        if payload is not None:
            out.append(payload)
        if events.done:
            break
    else:
        last = events.end()
        if last is not None:
            out.append(last)
    ended = events.done or events.ended()
    return b"".join(frame(payload) for payload in out), out, ended


def line_by_line(stream: bytes) -> tuple[bytes, bool]:
    """The same a byte at a time: no piece is ever whole events, so every line is read."""
    framed, _, ended = passed_on(stream, list(range(1, len(stream))))
    return framed, ended


def test_a_piece_of_events_framed_as_the_server_would_passes_as_it_came() -> None:
    events = b"data: " + CHUNK + b"\n\ndata: {}\n\n"
    framed, out, ended = passed_on(events + b"data: [DONE]\n\n", [])
    assert out == [Frames(events)]
    assert framed == events
    assert ended
    assert Frames(events).payloads == [CHUNK, b"{}"]  # what the recorder reads of it


def test_done_alone_ends_the_stream_with_nothing_passed_on() -> None:
    assert passed_on(b"data: [DONE]\n\n", []) == (b"", [], True)


def test_a_piece_that_is_not_framed_so_is_read_line_by_line() -> None:
    stream = b"data:" + CHUNK + b"\n\n: keep-alive\n\ndata: [DONE]\n\n"
    framed, out, ended = passed_on(stream, [])
    assert not any(isinstance(payload, Frames) for payload in out)
    assert framed == b"data: " + CHUNK + b"\n\n: keep-alive\n\n"
    assert ended


def test_nothing_after_done_is_passed_on() -> None:
    stream = b"data: [DONE]\n\ndata: late\n\n"
    assert passed_on(stream, []) == (b"", [], True)
    stream = b"data: early\n\ndata: [DONE]\n\ndata: late\n\n"
    assert passed_on(stream, [])[0] == b"data: early\n\n"


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from(EVENTS), max_size=12),
    st.lists(st.integers(0, 2000), max_size=6),
    st.booleans(),
)
@example([b"data: carriage\r\r", b"data: {}\n\n"], [], True)  # a `\r` ends a line too
@example([b"data: one\ndata: two\n\n"], [11], False)  # a piece ending inside its second line
def test_pieces_pass_on_as_the_stream_read_line_by_line(
    events: list[bytes], cuts: list[int], done: bool
) -> None:
    stream = b"".join(events) + (b"data: [DONE]\n\n" if done else b"")
    framed, _, ended = passed_on(stream, [cut for cut in cuts if cut < len(stream)])
    assert (framed, ended) == line_by_line(stream)
