"""The one scripted backend of the tests: it plays a script of events, pauses and failures.

A test injects it through the app factory, under the name of a configured backend (the default config
routes every model to `echo`): `create_app(settings, backends={"echo": ScriptedBackend([...])})`, or
the `make_app(backend=...)` fixture. It records each request it got and how far it got, so a test can
ask whether the server stopped it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import threading
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

from backends.base import AnsweredAs, Backend, Due, EmbeddingRequest, Event, GenerationRequest


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait `seconds` (a generation's pace, never synchronisation); None waits until cancelled."""

    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Paced:
    """A pacing pause of `seconds`, as a backend that paces its reply takes it: a `Due` that much
    later, awaited (a paced stream's sender keeps its time; elsewhere it is a sleep)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Raise:
    """Raise `error` at this point of the script."""

    error: BaseException


Step = Event | AnsweredAs | Pause | Paced | Raise


class ScriptedBackend(Backend):
    """Plays `script` for every request.

    `every_choice`: each event is played once per choice of the request (`n`), retagged. `forever`:
    the script repeats until the server closes the stream. `sent` counts the events yielded, and
    `tasks` holds the task each was yielded in; `stopped` is set when a stream ends by any way (a thread-safe event, as a loopback server runs
    the app in another thread). `vectors` are its answer to every embeddings request.
    """

    def __init__(
        self,
        script: Sequence[Step],
        *,
        every_choice: bool = False,
        forever: bool = False,
        vectors: list[list[float]] | None = None,
    ) -> None:
        self.script = list(script)
        self.vectors = vectors  # what `embed` answers (None: the server's own vectors)
        self.embeddings: list[EmbeddingRequest] = []
        self.every_choice = every_choice
        self.forever = forever
        self.requests: list[GenerationRequest] = []
        self.sent = 0
        self.tasks: list[asyncio.Task[object] | None] = []
        self.stopped = threading.Event()

    async def embed(self, request: EmbeddingRequest) -> list[list[float]] | None:
        self.embeddings.append(request)
        return self.vectors

    async def stream(self, request: GenerationRequest) -> AsyncIterator[Event | AnsweredAs]:
        self.requests.append(request)
        steps: Iterable[Step] = itertools.cycle(self.script) if self.forever else self.script
        try:
            for step in steps:
                if isinstance(step, Pause):
                    await _pause(step.seconds)
                elif isinstance(step, Paced):
                    await Due(time.monotonic() + step.seconds)
                elif isinstance(step, Raise):
                    raise step.error
                elif self.every_choice and not isinstance(step, AnsweredAs):
                    for choice in range(request.n):
                        self.sent += 1
                        yield dataclasses.replace(step, choice=choice)
                else:
                    self.sent += 1
                    self.tasks.append(asyncio.current_task())
                    yield step
        finally:
            self.stopped.set()


async def _pause(seconds: float | None) -> None:
    if seconds is None:
        await asyncio.get_running_loop().create_future()
    else:
        await asyncio.sleep(seconds)
