"""Payloads that came from the upstream in one read are framed as each would be alone, in order:
chat chunks alone (joined in one go) and mixed with comments and named events (one by one)."""

from __future__ import annotations

from backends.base import Comment, NamedEvent, Payload, Together
from server.http.sse import frame


def one_by_one(payloads: tuple[bytes | NamedEvent | Comment, ...]) -> bytes:
    return b"".join(frame(payload) for payload in payloads)


def test_chat_chunks_that_came_together_are_framed_as_each_alone() -> None:
    payloads: tuple[bytes | NamedEvent | Comment, ...] = (b'{"a":1}', b'{"b":2}', b'{"c":3}')
    together: Payload = Together(payloads)
    assert frame(together) == b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: {"c":3}\n\n'
    assert frame(together) == one_by_one(payloads)


def test_comments_and_named_events_among_them_keep_their_place() -> None:
    payloads = (b'{"a":1}', Comment(b" keep-alive"), NamedEvent(b"response.done", b"{}"), b'{"b":2}')
    assert frame(Together(payloads)) == (
        b'data: {"a":1}\n\n: keep-alive\n\nevent: response.done\ndata: {}\n\ndata: {"b":2}\n\n'
    )
    assert frame(Together(payloads)) == one_by_one(payloads)
