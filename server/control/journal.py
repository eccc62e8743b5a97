"""The request journal: one JSON line per chat request, appended when the request is over.

Enabled by the `journal` setting's `file` (a path). Each line holds the time the request arrived, the
model, the route and backend, the request's key (the normalized request hash replay matching uses)
with a short digest per field, the mode of a proxy, which fixture or recording answered, the
outcome, the HTTP status, the error code if any, whether it streamed and the duration. A stream is
journaled when it ends (or breaks, or the client leaves), so its outcome is the real one. No
header, key or message text is written. `chatdouble cassettes check` reads it.

The same wrapper feeds the in-memory journal (`journal.memory`, `server.control.entries`). When
neither is kept the app builds the endpoints without it (`server.app`): nothing of this module is
on the request path.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response

from backends.base import DropConnection
from backends.request_key import field_digests, normalize, request_key
from server.config import Settings
from server.control.entries import USAGE, Answer, Recorder
from server.errors import APIError
from server.http.event_stream import EventStream
from server.http.trace import Trace
from server.state.journal_file import Journal

MISSES = ("recording_not_found", "fixture_not_matched")
LAST_FRAMES = 8  # a stream's last frames searched for its error and usage (room for comments)


def entry(trace: Trace, settings: Settings, status: int | None, error: str | None) -> dict[str, Any]:
    try:
        body = orjson.loads(trace.raw) if trace.raw else None
    except orjson.JSONDecodeError:
        body = None
    body = body if isinstance(body, dict) else None
    model = body.get("model") if body is not None else None
    model = model if isinstance(model, str) else None
    route = settings.route_for(model) if model is not None else None
    notes = trace.notes
    request = notes.request
    if request is None and body is not None:
        request = normalize(body)
    # What answered; `status` and `error` say whether the answer was an error. `error` is left for
    # requests nothing answered (invalid, or an upstream that could not be reached).
    if error in MISSES:
        outcome = "miss"
    elif notes.outcome is not None:
        outcome = notes.outcome
    elif notes.fixture is not None:
        outcome = "fixture"
    elif error is not None or (status or 0) >= 400:
        outcome = "error"
    else:
        outcome = "generated"
    return {
        "time": datetime.fromtimestamp(trace.arrived, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
        "model": model,
        "route": route.model if route is not None else None,
        "backend": route.backend if route is not None else None,
        "mode": notes.mode,
        "hash": notes.hash or (request_key(request) if request is not None else None),
        "fields": field_digests(request) if request is not None else None,
        "outcome": outcome,
        "fixture": notes.fixture,
        "source": notes.source,
        "status": status,
        "error": error,
        "stream": bool(body and body.get("stream") is True),
        "duration_ms": round((time.perf_counter() - trace.started) * 1000, 1),
    }


def error_code(payload: bytes) -> str | None:
    """The `code` (else `type`) of an error envelope, or None when `payload` is not one."""
    try:
        error = orjson.loads(payload).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    return str(error.get("code") or error.get("type") or "error")


class Handler(Protocol):
    """An endpoint that takes the journal's trace when one is kept."""

    def __call__(self, request: Request, trace: Trace | None = None) -> Awaitable[Response]: ...


Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Sinks:
    """Where a request is journaled: the file, the in-memory journal, or both."""

    settings: Settings
    file: Journal | None = None
    memory: Recorder | None = None

    async def done(
        self, request: Request, trace: Trace, status: int | None, error: str | None, answer: Answer
    ) -> None:
        if self.file is not None:
            self.file.append(entry(trace, self.settings, status, error))
        if self.memory is not None:
            scope = request.scope
            request_id = scope.get("state", {}).get("request_id", "")
            await self.memory.record(
                trace, scope["method"], scope["path"], request_id, status or 0, error, answer
            )


def journaled(handler: Handler, sinks: Sinks) -> Endpoint:
    """The endpoint `handler` with each request journaled once its response is complete."""

    async def endpoint(request: Request) -> Response:
        trace = Trace()
        try:
            response = await handler(request, trace)
        except APIError as exc:
            await sinks.done(request, trace, exc.status, exc.code or exc.type, Answer())
            raise
        except DropConnection:
            await sinks.done(request, trace, None, "connection_dropped", Answer())
            raise
        except BaseException:
            await sinks.done(request, trace, 500, "server_error", Answer())
            raise
        if isinstance(response, EventStream):
            status = response.status_code
            response.body_iterator = _watch(response.body_iterator, sinks, request, trace, status)
        else:
            body = bytes(response.body)
            failed = error_code(body) if response.status_code >= 400 else None
            await sinks.done(request, trace, response.status_code, failed, Answer(body))
        return response

    return endpoint


async def _watch(
    frames: AsyncIterable[bytes], sinks: Sinks, request: Request, trace: Trace, status: int
) -> AsyncIterator[bytes]:
    interrupted: str | None = None
    answer = Answer(stream=True)
    keep = sinks.memory is not None and sinks.settings.journal.bodies
    # An error frame and the last frame with usage come at a stream's end (before `[DONE]`, or as
    # the Responses API's last events): only its last frames are searched, once it is over, not
    # every frame as it passes (a search per frame was a tenth of a zero-delay stream's cost).
    last: deque[bytes] = deque(maxlen=LAST_FRAMES)
    try:
        async for frame in frames:
            if answer.first_frame is None and not frame.startswith(b":"):  # a comment is not one
                answer.first_frame = time.perf_counter()
            last.append(frame)
            if keep:
                answer.frames.append(frame)
            yield frame
    except DropConnection:
        interrupted = "connection_dropped"
        raise
    except (GeneratorExit, asyncio.CancelledError):
        interrupted = "client_disconnected"
        raise
    except BaseException:
        interrupted = "server_error"
        raise
    finally:
        aclose = getattr(frames, "aclose", None)
        try:
            if aclose is not None:
                await aclose()
        finally:
            told = _read_last(last, answer)
            error = interrupted if interrupted == "connection_dropped" else told or interrupted
            await sinks.done(request, trace, status, error, answer)


def _read_last(frames: Iterable[bytes], answer: Answer) -> str | None:
    """The error code the last of these frames tell, if any; the last with usage goes in `answer`."""
    error: str | None = None
    # What went out in one piece may hold several frames (a proxied stream's, as they came): the
    # last LAST_FRAMES frames are read, as when each went out alone.
    split = [one for piece in frames for one in _last_cut(piece)]
    for frame in split[-LAST_FRAMES:]:
        if frame.startswith(b":"):
            continue  # an upstream's comment
        if frame.startswith(b'data: {"error"'):
            error = error_code(frame[6:])
        elif frame.startswith(b"event: error\n"):  # the Responses API's
            error = error_code(frame.split(b"\n", 2)[1][6:])
        if USAGE in frame:
            answer.usage_frame = frame
    return error


def _last_cut(piece: bytes) -> list[bytes]:
    """The frames of `piece` as `split` cuts it, or its last LAST_FRAMES at least: only those are
    ever read, and cutting all of a proxied stream that went out in one piece was 3% of its cost.
    It is cut from its end, no further than needed."""
    end = len(piece) - 2
    if end > 0 and piece.find(b"\n\n") == end:  # one frame, ending in exactly two newlines
        return [piece[:end]]
    parts = piece.rsplit(b"\n\n", LAST_FRAMES + 1)
    if any(part[-1:] == b"\n" for part in parts):
        # Three newlines in a row or more (a payload that ends with a newline), which `split` cuts
        # from their start, `rsplit` from their end.
        parts = piece.split(b"\n\n")
    elif len(parts) > LAST_FRAMES + 1:  # parts[0] holds the piece's earlier frames, whole
        last = [one for one in parts[1:] if one]
        if len(last) >= LAST_FRAMES:
            return last
        parts = piece.split(b"\n\n")  # blank parts among the last (a payload ending in blank lines)
    return [one for one in parts if one]
