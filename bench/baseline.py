"""The benchmark's fixtures and its baseline: a bare Starlette app (no FastAPI, no validation).

`benchmark_request()` is the request both servers get. chatdouble's echo backend answers it with the
user message, which is exactly 48 tokens in o200k_base (gpt-4o's encoding), so a streamed reply is a
role chunk, 48 content chunks and a finish chunk: 50 chunks, then `data: [DONE]`.

The baseline answers the same request with fixed bytes of the same shape and size: the non-stream
`chat.completion` body in chatdouble's layout (two-space indentation, trailing newline) and a fixed
50-chunk SSE stream sent through `StreamingResponse`, one `send` per frame (chatdouble sends the frames
that are ready together in one). It reads the request body (as any server must) but does not parse
it: `"stream":true` in the compact JSON the load generator sends selects the stream.
`POST /v1/responses` answers the same conversation's Responses stream as fixed bytes
(bench/responses_stream.py).

Run it alone with `python -m bench.baseline --port N`: uvicorn gets the settings the `chatdouble
serve` command gives it (1 worker, loop "auto", log level warning, no access log), but with uvicorn's
own http "auto" and defaults, not chatdouble's joined writes and the proxy-headers middleware left
out (bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bench import responses_stream

MODEL = "gpt-4o"
PATH = "/v1/chat/completions"
SYSTEM = "You are a helpful assistant."
MESSAGE = (
    "The quick brown fox jumps over the lazy dog while the patient engineer measures how many chat "
    "completion chunks a small Python server can stream per second on a single core, compared with a "
    "bare Starlette baseline that does no real work at all today."
)
# MESSAGE as o200k_base splits it: chatdouble's echo backend streams one chunk per piece.
PIECES = (
    "The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", " while", " the",
    " patient", " engineer", " measures", " how", " many", " chat", " completion", " chunks", " a",
    " small", " Python", " server", " can", " stream", " per", " second", " on", " a", " single",
    " core", ",", " compared", " with", " a", " bare", " Star", "lette", " baseline", " that", " does",
    " no", " real", " work", " at", " all", " today", ".",
)  # fmt: skip
STREAM_CHUNKS = len(PIECES) + 2  # role chunk + one per piece + finish chunk
PROMPT_TOKENS = 68  # what chatdouble counts for the benchmark request (only its reply's size matters)
COMPLETION_ID = "chatcmpl-BenchBaseline0000000000000000"  # 29 characters after the prefix
FINGERPRINT = "fp_0123456789"

assert "".join(PIECES) == MESSAGE
assert len(COMPLETION_ID) == len("chatcmpl-") + 29


def benchmark_body(stream: bool) -> bytes:
    """The JSON request body, compact as the OpenAI SDKs send it."""
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": MESSAGE}],
    }
    if stream:
        body["stream"] = True
    return json.dumps(body, separators=(",", ":")).encode()


def benchmark_request(host: str, port: int, stream: bool) -> bytes:
    """The full HTTP/1.1 keep-alive request, headers included."""
    body = benchmark_body(stream)
    accept = "text/event-stream" if stream else "application/json"
    head = (
        f"POST {PATH} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Accept: {accept}\r\n"
        "Content-Type: application/json\r\n"
        "Authorization: Bearer sk-bench\r\n"
        "User-Agent: chatdouble-bench/1\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode() + body


def completion_body(created: int) -> bytes:
    """A `chat.completion` in chatdouble's byte layout, the size of its reply to the benchmark request."""
    completion_tokens = len(PIECES)
    value = {
        "id": COMPLETION_ID,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": MESSAGE, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": completion_tokens,
            "total_tokens": PROMPT_TOKENS + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode()


def stream_frames(created: int) -> tuple[bytes, ...]:
    """50 `chat.completion.chunk` frames shaped as chatdouble's (obfuscation pad included), then [DONE]."""
    head = json.dumps(
        {
            "id": COMPLETION_ID,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
        },
        separators=(",", ":"),
    )[:-1]
    pad = "aB3dE5gH7jK9mN1pQ"
    deltas: list[tuple[dict[str, Any], str | None]] = [
        ({"role": "assistant", "content": "", "refusal": None}, None)
    ]
    deltas += [({"content": piece}, None) for piece in PIECES]
    deltas.append(({}, "stop"))
    frames = []
    for number, (delta, finish) in enumerate(deltas):
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        chunk = (
            f'{head},"choices":[{json.dumps(choice, ensure_ascii=False, separators=(",", ":"))}],'
            f'"obfuscation":"{pad[: number * 7 % 16]}"}}'
        )
        frames.append(b"data: " + chunk.encode() + b"\n\n")
    frames.append(b"data: [DONE]\n\n")
    return tuple(frames)


def responses_request(host: str, port: int) -> bytes:
    """The same conversation as a streamed Responses request (bench/responses_stream.py)."""
    return responses_stream.request(host, port, MODEL, SYSTEM, MESSAGE)


RESPONSES_EVENTS = len(PIECES) + responses_stream.AROUND  # events in a Responses stream: 56
CREATED = int(time.time())
COMPLETION = completion_body(CREATED)
FRAMES = stream_frames(CREATED)
RESPONSES_FRAMES = responses_stream.frames(CREATED, MODEL, MESSAGE, PIECES, PROMPT_TOKENS)
assert len(FRAMES) == STREAM_CHUNKS + 1
assert len(RESPONSES_FRAMES) == RESPONSES_EVENTS


async def _frames() -> AsyncIterator[bytes]:
    for frame in FRAMES:
        yield frame


async def chat_completions(request: Request) -> Response:
    body = await request.body()
    if b'"stream":true' in body:
        return StreamingResponse(_frames(), media_type="text/event-stream")
    return Response(COMPLETION, media_type="application/json")


async def _responses_frames() -> AsyncIterator[bytes]:
    for frame in RESPONSES_FRAMES:
        yield frame


async def responses(request: Request) -> Response:
    await request.body()  # read, as any server must; only the stream is benchmarked
    return StreamingResponse(_responses_frames(), media_type="text/event-stream")


app = Starlette(
    routes=[
        Route(PATH, chat_completions, methods=["POST"]),
        Route(responses_stream.PATH, responses, methods=["POST"]),
    ]
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    # The settings `chatdouble serve` passes to uvicorn.run with one worker and log level warning.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
