"""The tests' SSE parser (tests/support/sse.py) reads streams as the event-stream rules say.

Proven: frames end at a blank line whatever the line ending, data lines join, `event:` names and
comments are kept, an unfinished last frame is dropped, a body read in pieces gives the same frames
as read whole, and the strict OpenAI reading refuses every byte OpenAI would not send.
"""

from __future__ import annotations

import pytest

from tests.support import sse

BODY = (
    "data: a\r\n\r\n: ping\n\nevent: response.created\ndata: 1\ndata: 2\rid: 7\r\r"
    + "data: [DONE]\n\ndata: cut"
)


def test_frames_keep_data_event_names_ids_and_comments_and_drop_an_unfinished_one() -> None:
    assert sse.frames(BODY) == [
        sse.Frame(data="a"),
        sse.Frame(comments=("ping",)),
        sse.Frame(data="1\n2", event="response.created", id="7"),
        sse.Frame(data="[DONE]"),
    ]
    assert sse.data(BODY) == ["a", "1\n2", "[DONE]"]


def test_a_body_read_one_character_at_a_time_gives_the_same_frames() -> None:
    assert list(sse.iter_frames(iter(BODY))) == sse.frames(BODY)


def test_the_openai_reading_returns_every_payload_with_done_last() -> None:
    assert sse.openai_stream(b'data: {"a":1}\n\ndata: [DONE]\n\n') == ['{"a":1}', "[DONE]"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'data: {"a":1}\r\n\r\ndata: [DONE]\r\n\r\n', id="CRLF"),
        pytest.param(b": ping\n\ndata: [DONE]\n\n", id="a comment"),
        pytest.param(b"event: x\ndata: {}\n\ndata: [DONE]\n\n", id="an event name"),
        pytest.param(b"data: {}\ndata: {}\n\ndata: [DONE]\n\n", id="two data lines in a frame"),
        pytest.param(b"data:{}\n\ndata: [DONE]\n\n", id="no space after the colon"),
        pytest.param(b"data: 5\n\ndata: [DONE]\n\n", id="a payload that is not an object"),
        pytest.param(b"data: {}\n\n", id="no [DONE]"),
        pytest.param(b"data: {}\n\ndata: [DONE]\n", id="an unfinished last frame"),
    ],
)
def test_the_openai_reading_refuses_any_other_framing(body: bytes) -> None:
    with pytest.raises(AssertionError):
        sse.openai_stream(body)
