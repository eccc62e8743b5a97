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
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response

from backends.base import DropConnection
from backends.request_key import field_digests, normalize, request_key
from server.config import Settings
from server.control.entries import Answer, Recorder, ended_with
from server.control.last_frames import LAST_FRAMES, error_code
from server.errors import APIError
from server.http.event_stream import EventStream
from server.http.trace import Trace
from server.state.journal_file import Journal

MISSES = ("recording_not_found", "fixture_not_matched")
# The most bytes of a stream's last frames an entry keeps unread: up to a thousand entries are kept.
UNREAD_BYTES = 8192


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
            self.file.append(entry(trace, self.settings, status, ended_with(answer, error)))
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
    kept: list[bytes] | None = None  # every frame, when bodies are kept
    if sinks.memory is not None and sinks.settings.journal.bodies:
        kept = answer.frames = []
    # Only the last frames are kept, for the error and usage they tell (server/control/last_frames.py):
    # a search of every frame as it passed was a tenth of a zero-delay stream's cost.
    last: deque[bytes] = deque(maxlen=LAST_FRAMES)
    try:
        async for frame in frames:
            if answer.first_frame is None and not frame.startswith(b":"):  # a comment is not one
                answer.first_frame = time.perf_counter()
            last.append(frame)
            if kept is not None:
                kept.append(frame)
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
            answer.last = tuple(last)  # read when the entry is first listed or written (`ended_with`)
            if sum(map(len, last)) > UNREAD_BYTES:
                answer.settle()  # long frames (a proxied stream's pieces) are not kept unread
            await sinks.done(request, trace, status, interrupted, answer)
