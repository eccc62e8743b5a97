"""Several prompts, one generation: each prompt's conversation goes to the backend in turn, and its
choices are renumbered after the previous prompts' (choice `i` of prompt `p` becomes `p * n + i`), so
the pipeline applies stop, length and usage to all of them as one request with `n * prompts` choices.

A backend's streams are opened one at a time, when the previous prompt's is done, and each is
closed however the generation ends. A recording's `AnsweredAs` is passed on from the first only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence

from server.generation.events import AnsweredAs, Event


async def fan_out(
    streams: Sequence[Callable[[], AsyncIterator[Event | AnsweredAs]]], n: int
) -> AsyncGenerator[Event | AnsweredAs, None]:
    for position, open_stream in enumerate(streams):
        stream = open_stream()
        try:
            async for event in stream:
                if isinstance(event, AnsweredAs):
                    if position == 0:
                        yield event
                    continue
                if not 0 <= event.choice < n:
                    continue  # the pipeline drops a choice out of range; one must not land in the next prompt's
                yield dataclasses.replace(event, choice=position * n + event.choice) if position else event
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
