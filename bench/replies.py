"""What a server answers to the benchmark request, fetched once each way before any load.

The check makes the comparison fair to judge: both servers must answer 200 with a `chat.completion`
whose content is the benchmark message, and a stream of exactly 50 `chat.completion.chunk` events
carrying that message, then `data: [DONE]`; and a Responses stream of 56 named events whose text
deltas carry that message, ending with `response.completed`. The sizes and counts go into the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bench import responses_stream
from bench.baseline import MESSAGE, RESPONSES_EVENTS, STREAM_CHUNKS, benchmark_request, responses_request
from bench.processes import HOST
from bench.responses import fetch, sse_events


@dataclass
class ReplyCheck:
    """What a server answers to the benchmark request, once each way."""

    body_bytes: int = 0
    stream_bytes: int = 0
    chunks: int = 0  # chat.completion.chunk events before [DONE]
    done: bool = False
    responses_bytes: int = 0
    responses_events: int = 0  # Responses stream events, its terminal one included
    problems: list[str] = field(default_factory=list)


async def check_replies(port: int) -> ReplyCheck:
    check = ReplyCheck()
    reply = await fetch(HOST, port, benchmark_request(HOST, port, stream=False))
    check.body_bytes = len(reply.body)
    if reply.status != 200:
        check.problems.append(f"non-stream: HTTP {reply.status}: {reply.body[:300]!r}")
    else:
        completion = json.loads(reply.body)
        if completion.get("object") != "chat.completion":
            check.problems.append(f"non-stream: object is {completion.get('object')!r}")
        elif completion["choices"][0]["message"]["content"] != MESSAGE:
            check.problems.append("non-stream: content is not the benchmark message")
    reply = await fetch(HOST, port, benchmark_request(HOST, port, stream=True))
    check.stream_bytes = len(reply.body)
    if reply.status != 200:
        check.problems.append(f"stream: HTTP {reply.status}: {reply.body[:300]!r}")
        return check
    _check_stream(check, sse_events(reply.body))
    reply = await fetch(HOST, port, responses_request(HOST, port))
    check.responses_bytes = len(reply.body)
    if reply.status != 200:
        check.problems.append(f"responses stream: HTTP {reply.status}: {reply.body[:300]!r}")
        return check
    _check_responses_stream(check, reply.body)
    return check


def _check_stream(check: ReplyCheck, events: list[bytes]) -> None:
    check.done = bool(events) and events[-1] == b"[DONE]"
    chunks = [json.loads(event) for event in events if event != b"[DONE]"]
    check.chunks = len(chunks)
    if not check.done:
        check.problems.append("stream: does not end with data: [DONE]")
    if check.chunks != STREAM_CHUNKS:
        check.problems.append(f"stream: {check.chunks} chunks, expected {STREAM_CHUNKS}")
    if any(chunk.get("object") != "chat.completion.chunk" for chunk in chunks):
        check.problems.append("stream: an event is not a chat.completion.chunk")
    content = "".join(
        chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks if chunk.get("choices")
    )
    if content != MESSAGE:
        check.problems.append("stream: content is not the benchmark message")


def _check_responses_stream(check: ReplyCheck, body: bytes) -> None:
    events = [json.loads(event) for event in sse_events(body)]
    check.responses_events = len(events)
    if check.responses_events != RESPONSES_EVENTS:
        check.problems.append(
            f"responses stream: {check.responses_events} events, expected {RESPONSES_EVENTS}"
        )
    if not responses_stream.ends(body):
        check.problems.append("responses stream: does not end with response.completed")
    text = "".join(event["delta"] for event in events if event.get("type") == "response.output_text.delta")
    if text != MESSAGE:
        check.problems.append("responses stream: text is not the benchmark message")
