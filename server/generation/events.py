"""The events a backend yields and the pipeline passes on, tagged by choice index.

The pipeline normalizes them (cuts at stops and limits, one `Finish` per choice with its reason), and
each dialect renders the normalized events in its own wire format.

Events are values: nothing changes one once it is made. They are slotted but not frozen dataclasses
all the same, as are the other records made for every request (the conversation and its messages,
the plan, the backend's request, the usage): a frozen dataclass's `__init__` sets each field through
`object.__setattr__`, about five times the cost of a plain one, and a request makes dozens of fields
of them (issue 14: unfreezing these cut a non-stream chat request's instructions by 14%, a stream's
by 5%).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from server.generation.logprobs import TokenLogprob

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]
ChannelKind = Literal["content", "refusal", "tool", "function"]


@dataclass(slots=True)
class TextDelta:
    """A piece of the assistant's text for one choice."""

    text: str
    choice: int = 0


@dataclass(slots=True)
class RefusalDelta:
    """A piece of the assistant's refusal for one choice."""

    text: str
    choice: int = 0


@dataclass(slots=True)
class ToolCallDelta:
    """Part of a tool call. The first delta of a call carries `id` and `name`; later ones only arguments."""

    call: int
    arguments: str
    id: str | None = None
    name: str | None = None
    choice: int = 0
    parallel: bool = False  # on a first delta: more calls follow in this choice


@dataclass(slots=True)
class FunctionCallDelta:
    """Part of a legacy function call: the name first, then argument fragments."""

    arguments: str
    name: str | None = None
    choice: int = 0


@dataclass(slots=True)
class ReasoningDelta:
    """A piece of a reasoning summary, in a dialect that shows one (the Responses API). `part` numbers
    the summary's parts; chat has no place for it and drops it."""

    text: str
    part: int = 0
    choice: int = 0


@dataclass(slots=True)
class OutputItem:
    """A whole output item a backend scripts as the dialect writes it (a hosted tool's call: web
    search, file search, code interpreter, MCP). Passed through as it is; chat drops it."""

    item: Mapping[str, Any]
    choice: int = 0


@dataclass(slots=True)
class Finish:
    """The backend is done with a choice. `reason` None lets the pipeline infer it."""

    reason: FinishReason | None = None
    choice: int = 0


@dataclass(slots=True)
class AnsweredAs:
    """The answer's own fields as a recording holds them, yielded before any other event: the model
    that answered (a dated name where the request gave an alias), its `system_fingerprint`, and
    whether its chunks carried an `obfuscation` pad, and each choice's token logprobs (by choice
    index; None where none were recorded). None leaves the server's own value. The pipeline keeps it
    for the dialect (`Generation.answered_as`); it is not a normalized event."""

    model: str | None = None
    system_fingerprint: str | None = None
    obfuscation: bool | None = None
    logprobs: tuple[tuple[TokenLogprob, ...] | None, ...] = ()
    # The backend paces this reply itself (a fixture's `timing`, a recording's recorded pace): a
    # route's latency profile then adds no pauses of its own.
    paced: bool = False


# The task whose stream's sender waits for a `Due` itself (server/http/event_stream.py sets it while
# it sends a stream's frames). A context variable, not a flag passed down: the `Due` is awaited deep
# in the backend, below every layer between it and the sender, and none of them need know of it.
# It names the task, so a task started from that context (which inherits the variable) still sleeps.
SENDER_PACES: ContextVar[asyncio.Task[Any] | None] = ContextVar("chatdouble_sender_paces", default=None)


class Due:
    """`await Due(at)`: what follows is due at `at` (seconds on `time.monotonic()`). A backend that
    paces its reply awaits it instead of sleeping.

    Under a stream's sender that paces (`SENDER_PACES`), the `Due` itself is what the await yields:
    it rises through every generator between the backend and the sender as any awaited thing does
    (none of their own code runs for it), and the sender holds the stream until then (server/http/pacer.py:
    one timer for all the streams due in the same millisecond, instead of a sleep per stream per
    chunk); resumed, the backend goes on from its await. Anywhere else (a whole response, the
    first chunk of a stream, a background run) it is a plain sleep. Not an event: a plain class,
    since one is made per paced chunk and a frozen dataclass's `__init__` costs more."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at

    def __repr__(self) -> str:
        return f"Due({self.at!r})"

    def __await__(self) -> Generator[Any, None, None]:
        sender = SENDER_PACES.get()
        # The sender's loop is named: asking for the running loop (no loop given) costs a
        # system call (getpid) on Python 3.11, once per paced chunk.
        if sender is not None and sender is asyncio.current_task(sender.get_loop()):
            yield self
        else:
            yield from asyncio.sleep(max(0.0, self.at - time.monotonic())).__await__()


Event = TextDelta | RefusalDelta | ToolCallDelta | FunctionCallDelta | ReasoningDelta | OutputItem | Finish
