"""The one interface a backend implements, and the events it yields.

A backend turns a validated request into a stream of events tagged by choice index. It never builds
HTTP responses, SSE frames, ids or usage: the server's pipeline applies stop, length, `n`, usage and
framing to whatever a backend produced, so every backend gets the same contract for free.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from server.errors import APIError
from server.generation.conversation import Conversation
from server.generation.events import (
    AnsweredAs,
    Due,
    Event,
    Finish,
    FinishReason,
    FunctionCallDelta,
    OutputItem,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
)
from server.generation.tokens import Tokenizer

__all__ = [
    "AnsweredAs",
    "Backend",
    "BackendError",
    "Conversation",
    "DropConnection",
    "Due",
    "EmbeddingRequest",
    "Event",
    "Finish",
    "FinishReason",
    "ForwardCall",
    "Frames",
    "FunctionCallDelta",
    "GenerationRequest",
    "NamedEvent",
    "Notes",
    "OutputItem",
    "Payload",
    "ReasoningDelta",
    "RefusalDelta",
    "TextDelta",
    "Together",
    "ToolCallDelta",
    "Upstream",
]

RecordMode = Literal["passthrough", "record", "replay", "auto"]


@dataclass(slots=True)
class Notes:
    """What a backend did with one request, for the request journal; filled in as it answers."""

    fixture: str | None = None  # the fixture (or recording) that answered
    source: str | None = None  # where it is: file and line
    mode: RecordMode | None = None  # a proxy's record mode
    outcome: str | None = None  # a proxy's outcome: forwarded, recorded, replayed, ...
    request: dict[str, Any] | None = None  # the normalized request, as recordings hold it
    hash: str | None = None  # its key
    # The request the backend got (set when one is built with these notes): what the in-memory
    # journal keeps for verify; None when the request never reached a backend.
    subject: GenerationRequest | EmbeddingRequest | None = None


@dataclass(slots=True)
class GenerationRequest:
    """What a backend gets: the neutral conversation and what the server decided about it."""

    conversation: Conversation
    n: int
    tokenizer: Tokenizer
    namespace: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    raw: bytes = b""  # the client's exact body
    # What the backend did, for the request journal; None when no journal is kept, so backends
    # skip the bookkeeping.
    notes: Notes | None = None

    def __post_init__(self) -> None:
        if self.notes is not None and self.notes.subject is None:
            self.notes.subject = self


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    """What a backend gets for `POST /v1/embeddings`: the validated inputs, each as its tokens and
    its text (token-id inputs decoded), and the vector size the server settled on."""

    model: str
    tokens: list[list[int]]
    texts: list[str]
    dimensions: int
    tokenizer: Tokenizer
    namespace: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    raw: bytes = b""
    notes: Notes | None = None  # as in GenerationRequest

    def __post_init__(self) -> None:
        if self.notes is not None and self.notes.subject is None:
            self.notes.subject = self


class BackendError(APIError):
    """A backend's failure, answered to the client in OpenAI's envelope with the given status."""


class DropConnection(Exception):  # noqa: N818 - a command to the server, not an error report
    """Raised by a backend to have the server close the connection abruptly (a scripted network fault)."""


@dataclass(frozen=True, slots=True)
class ForwardCall:
    """A request as a forwarding backend gets it: the client's exact bytes and the JSON they parse to."""

    raw: bytes
    body: dict[str, Any]
    headers: Mapping[str, str]
    namespace: str = ""
    notes: Notes | None = None  # as in GenerationRequest
    path: str = "chat/completions"  # where it goes, relative to the API root (`responses`)

    @property
    def stream(self) -> bool:
        return self.body.get("stream") is True


@dataclass(frozen=True, slots=True)
class Comment:
    """An SSE comment line of an upstream stream (`: keep-alive`): what a slow upstream sends to keep
    the client's read timeout from firing, so it is passed on in its place among the payloads."""

    text: bytes  # the line after its colon


@dataclass(frozen=True, slots=True)
class NamedEvent:
    """A payload of an upstream stream that came under an `event:` line, as the Responses API frames
    every event (`event: response.created` / `data: {...}`); passed on with its name."""

    name: bytes
    data: bytes


@dataclass(frozen=True, slots=True)
class Together:
    """Payloads of an upstream stream that arrived together (in one read), passed on together: the
    server frames them in one go and they leave in one message. One by one, each took a pass through
    every layer of the stream, which was most of what a proxied stream cost."""

    payloads: tuple[bytes | NamedEvent | Comment, ...]


@dataclass(slots=True)
class Frames:
    """Whole events of an upstream chat stream that came written exactly as the server frames a
    payload (`data: <payload>\n\n` each, and nothing else), passed on as the bytes they came in:
    cutting them into payloads only to frame and join them again was the largest part of what the
    proxy spent on a stream. `payloads` cuts them, for a reader that wants them one by one (the
    recorder). Not frozen: one is made for each piece of a proxied stream, and a frozen dataclass
    sets its field through `object.__setattr__`, at nearly twice the cost."""

    data: bytes

    @property
    def payloads(self) -> list[bytes]:
        return self.data[6:-2].split(b"\n\ndata: ")


Payload = bytes | NamedEvent | Comment | Together | Frames


@dataclass(slots=True)
class Upstream:
    """An upstream's answer, passed to the client as it is: status, the headers worth passing on, and
    either the whole body or the stream's payloads and comments. Chat's payloads are the `data:`
    lines, without the final `[DONE]` (`done`: the client gets one too); the Responses API's are
    named events, and its stream just ends (`done` False)."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    chunks: AsyncGenerator[Payload, None] | None = None
    done: bool = True


class Backend(abc.ABC):
    """A source of assistant replies."""

    name: str = "backend"
    # True when replies never wait on anything (no timing, no I/O): the server then need not watch
    # for the client leaving before the answer is ready.
    instant: bool = False
    forwards_models: bool = False  # answers GET /v1/models through `forward_models`
    # True when `stream()` yields an `AnsweredAs` before anything else and without waiting, when it
    # has one (a replayed recording's model), and otherwise its first event without waiting: a
    # dialect that names the model before the first event may wait for that first item.
    announces: bool = False

    @abc.abstractmethod
    def stream(self, request: GenerationRequest) -> AsyncIterator[Event | AnsweredAs]:
        """Yield events for every choice in `range(request.n)`; raise `BackendError` on failure.
        A backend that paces its reply awaits a `Due` for each pause (a stream's sender then keeps
        the time for it)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release anything the backend holds (connections, file watchers)."""

    async def forward(self, call: ForwardCall) -> Upstream | None:
        """A backend whose upstream already applies the API's semantics (ids, usage, stop, `n`)
        answers here and the server passes the answer through untouched. None, the default, means
        "not forwarded": the request is validated and served from `stream()` through the pipeline."""
        return None

    async def embed(self, request: EmbeddingRequest) -> list[list[float]] | None:
        """One vector of `request.dimensions` floats per input, in order. None, the default, means
        "nothing of my own": the server answers with its deterministic vectors
        (server/generation/embedding.py), as the echo backend does."""
        return None

    async def forward_models(self, path: str, headers: Mapping[str, str]) -> Upstream | None:
        """`GET /v1/models` or `/v1/models/{id}` (`path` relative to the API root) answered by an
        upstream, when `forwards_models` is set."""
        return None
