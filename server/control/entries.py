"""One request as the in-memory journal lists it (`GET /_chatdouble/requests`), built when it is over.

The entry says which endpoint and model, the status and error code, what answered (the route's
backend, the kind of answer and the fixture or recording), timings and usage. Bodies are added only
with `journal.bodies`, scrubbed as recordings are. Usage is read from the answer's bytes without
parsing a whole body: the last `"usage":` object of a body or of a stream's frames.

`answered_by.kind` is a choice of ours: `runtime_fixture`, `fixture`, `recording` (a replayed
cassette), `proxy` (passed through or recorded), the route backend's type when it generated the
answer (`echo`, the fallback's type behind a fixtures backend), or `server` when chatdouble itself
refused the request before any backend saw it (a validation error, an unknown model).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from backends.base import EmbeddingRequest, GenerationRequest, Notes
from backends.fixtures.embeddings import as_conversation
from backends.fixtures.runtime import SOURCE
from backends.request_key import Scrubber
from server.config import Settings
from server.control.last_frames import USAGE, read_last
from server.generation.conversation import Conversation
from server.http.trace import Trace
from server.state.requests import RequestEntry, RequestLog, Requests, Subject


@dataclass(slots=True)
class Answer:
    """What the journal saw of the answer: a whole body, or a stream's frames."""

    body: bytes | None = None
    frames: list[bytes] | None = None  # a stream's, kept only with `bodies`
    usage_frame: bytes | None = None  # a stream's last frame that carries a usage object
    first_frame: float | None = None  # perf_counter when a stream's first frame went out
    stream: bool = False
    last: tuple[bytes, ...] | None = None  # a stream's last frames, until they are read (`settle`)
    told: str | None = None  # the error code they told

    def settle(self) -> None:
        """Read a stream's last frames, once: the error code they tell, and the last frame with usage."""
        if self.last is not None:
            self.told, self.usage_frame = read_last(self.last)
            self.last = None


def ended_with(answer: Answer, interrupted: str | None) -> str | None:
    """The error code of a request that ended with `interrupted` (None: it did not): a dropped
    connection is told as such; else what a stream's last frames tell comes first."""
    answer.settle()
    return interrupted if interrupted == "connection_dropped" else answer.told or interrupted


@dataclass(frozen=True, slots=True)
class Recorder:
    """Writes entries into the in-memory journal for one endpoint."""

    log: Requests
    settings: Settings
    endpoint: str  # "chat.completions", "responses", "completions", "embeddings"
    scrubber: Scrubber
    # How the endpoint's conversation is made again from a body it accepted (`Subject`); None:
    # the endpoint's conversation is kept (a Responses turn's holds the history it continues).
    rebuild: Callable[[bytes], Conversation] | None = None

    @classmethod
    def of(
        cls,
        log: Requests,
        settings: Settings,
        endpoint: str,
        rebuild: Callable[[bytes], Conversation] | None = None,
    ) -> Recorder:
        return cls(log, settings, endpoint, Scrubber([*settings.api_keys, settings.admin_token]), rebuild)

    async def record(
        self,
        trace: Trace,
        method: str,
        path: str,
        request_id: str,
        status: int,
        error: str | None,
        answer: Answer,
    ) -> None:
        if trace.namespace is None:  # not authenticated: nobody's namespace
            return
        # Only what cannot wait is read now (the times, and what the request's notes and headers
        # say before they are let go); the listed entry is built when it is first listed (by a
        # shared store, when it is written). The store gives it its `object` and `seq`.
        notes = trace.notes
        finished = time.perf_counter()
        ended = _Ended(
            self,
            notes,
            trace.raw,
            trace.arrived,
            trace.started,
            method,
            path,
            request_id,
            status,
            error,
            answer,
            finished,
        )
        ended.reached = notes.subject is not None
        ended.bearer = _bearer(trace) if self.settings.journal.bodies else None
        subject = _subject(trace, self.rebuild)
        entry, log = RequestEntry(0, self.endpoint, subject, ended), self.log
        if isinstance(log, RequestLog):
            log.add(trace.namespace, entry)  # kept in this process: nothing to await
        else:
            await log.append(trace.namespace, entry)

    def answered_by(self, notes: Notes, reached: bool, model: str | None, status: int) -> dict[str, Any]:
        """`reached`: whether a backend was asked (the request's subject was noted)."""
        route = self.settings.route_for(model) if model is not None else None
        backend = route.backend if route is not None else None
        if notes.source == SOURCE:
            kind: str | None = "runtime_fixture"
        elif notes.outcome == "replayed" and notes.fixture is not None:
            kind = "recording"
        elif notes.outcome in ("forwarded", "recorded"):
            kind = "proxy"
        elif notes.fixture is not None:
            kind = "fixture"
        elif backend is None or (not reached and status >= 400):
            kind = "server"
        else:
            kind = self.generated_by(backend)
        return {"backend": backend, "kind": kind, "fixture": notes.fixture}

    def generated_by(self, backend: str) -> str:
        """The type of the backend that generated an answer itself: a fixtures backend's fallback."""
        config = self.settings.backends[backend]
        fallback = getattr(config, "fallback", None)
        if fallback is not None and fallback in self.settings.backends:
            config = self.settings.backends[fallback]
        kind: str = config.type
        return kind


@dataclass(slots=True)
class _Ended:
    """What a request's entry is built from when it is first listed (the entry calls it): one
    object, rather than a closure over a dozen cells or the request's trace, kept for each of a
    thousand entries. What an entry keeps, the memory a new request takes is seldom warm in
    (`Subject`), so it keeps what it reads and no more."""

    recorder: Recorder
    notes: Notes
    raw: bytes
    arrived: float  # time.time() when it came
    started: float  # perf_counter when it came
    method: str
    path: str
    request_id: str
    status: int
    error: str | None  # its code; a stream's says how it was cut short (`ended_with` reads the rest)
    answer: Answer
    finished: float  # perf_counter when it ended
    reached: bool = False  # whether a backend was asked (the request's subject was noted)
    bearer: str | None = None  # the caller's key, scrubbed from bodies

    def __call__(self) -> dict[str, Any]:
        recorder, answer = self.recorder, self.answer
        error = ended_with(answer, self.error)  # a stream's last frames read: its usage frame too
        body = _json(self.raw)
        body = body if isinstance(body, dict) else None
        model = body.get("model") if body is not None else None
        model = model if isinstance(model, str) else None
        listed: dict[str, Any] = {
            "id": self.request_id,
            "created": self.arrived,
            "method": self.method,
            "path": self.path,
            "endpoint": recorder.endpoint,
            "model": model,
            "stream": bool(body and body.get("stream") is True),
            "status": self.status,
            "error": error,
            "answered_by": recorder.answered_by(self.notes, self.reached, model, self.status),
            "timings": {
                "ttft_ms": _ms(answer.first_frame - self.started) if answer.first_frame is not None else None,
                "total_ms": _ms(self.finished - self.started),
            },
            "usage": _usage(answer.usage_frame if answer.stream else answer.body),
        }
        if recorder.settings.journal.bodies:
            scrub = recorder.scrubber.with_literals(self.bearer)
            listed["request"] = scrub.value(body) if body is not None else None
            listed["response"] = scrub.value(_response(answer))
        return listed


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _json(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _bearer(trace: Trace) -> str | None:
    subject = trace.notes.subject
    if subject is None:
        return None
    value = subject.headers.get("authorization", "")
    return value[7:] if value[:7].lower() == "bearer " else None


def _usage(payload: bytes | None) -> Any:
    """The last `"usage":` object in `payload` (a body or one frame), or None."""
    if not payload:
        return None
    at = payload.rfind(USAGE)
    if at < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(payload[at + len(USAGE) :].decode("utf-8").lstrip())
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _response(answer: Answer) -> Any:
    if not answer.stream:
        return _json(answer.body)
    events: list[Any] = []
    for frame in answer.frames or ():
        for line in frame.split(b"\n"):
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                event = _json(line[6:])
                if event is not None:
                    events.append(event)
    return events


def _subject(trace: Trace, rebuild: Callable[[bytes], Conversation] | None) -> Subject:
    """What verify reads: the conversation the backend got (an embeddings request's inputs as user
    messages, as embedding fixtures see them), and the client's bytes; `rebuild` makes a
    generation request's conversation again from them."""
    subject = trace.notes.subject
    trace.notes.subject = None  # its headers are not kept
    if isinstance(subject, GenerationRequest):
        return Subject(subject.conversation, trace.raw, rebuild)
    if isinstance(subject, EmbeddingRequest):
        return Subject(as_conversation(subject), trace.raw)
    return Subject(None, trace.raw)
