"""Writing exchanges into a cassette directory: one fixture file per request, named by its key.

A stream is teed: each payload goes to the client as it arrives, with its arrival time noted, and
the file is written once the upstream's `[DONE]` came (a Responses stream: its last event), before
ours is sent, so a client that saw the end of a stream can rely on the file. Comment lines (`: keep-alive`) are passed on, not recorded.
A stream that breaks off, that the client leaves, or that holds an error frame is not written: an
error after the first chunk is the streamed form of a 5xx, and, like one, passed through only. Every write is atomic: a temporary file in the same directory (a dot-name ending in
`.tmp`, which the fixtures loader never reads), flushed and fsynced, then renamed over the target
with `os.replace`, and the directory fsynced. A crash or kill leaves either the old file or the new
one, never half of one (`atomic`); concurrent writers of different requests write different files.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable
from pathlib import Path

from backends.base import Comment, Frames, NamedEvent, Payload, Together
from backends.recording.atomic import write_atomic
from backends.recording.cassette import Exchange, Unrecordable, check, failure, fixture_of, recordable
from backends.recording.files import dump, file_stem
from backends.request_key import Scrubber

log = logging.getLogger("chatdouble.recording")
# A Responses stream's failure after its first event: `error`, then `response.failed`.
FAILED_EVENTS = (b"error", b"response.failed")


class Recorder:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    async def save(self, exchange: Exchange, scrubber: Scrubber) -> Path | None:
        """Write the exchange as a fixture file; None when it is not recorded (a transient error,
        or an answer the fixture format cannot express, which is logged)."""
        if not recordable(exchange.status):
            log.info("not recording a %d answer (transient: clients retry it)", exchange.status)
            return None
        stem = file_stem(exchange.request, exchange.key)
        try:
            fixture = scrubber.value(fixture_of(exchange, stem, scrubber))
            check(fixture)
            data = dump(fixture)
        except (Unrecordable, ValueError, KeyError, TypeError, AttributeError) as exc:  # JSON errors too
            log.warning("not recording the answer to %s: %s", stem, str(exc).splitlines()[0])
            return None
        path = self.directory / f"{stem}.yaml"
        try:
            await asyncio.to_thread(write_atomic, path, data)
        except OSError as exc:
            log.warning("could not write recording %s: %s", path, exc)
            return None
        log.info("recorded %s", path)
        return path

    async def tee(
        self,
        chunks: AsyncGenerator[Payload, None],
        exchange: Exchange,
        started: float,
        scrubber: Scrubber,
        done: Callable[[Path | None], None],
    ) -> AsyncGenerator[Payload, None]:
        """Pass the payloads on as they arrive; record the stream once it ended normally."""
        payloads: list[bytes] = []
        delays: list[float] = []
        last = started
        failed: str | None = None
        try:
            async for chunk in chunks:
                now = time.monotonic()
                for payload in chunk.payloads if isinstance(chunk, Together | Frames) else (chunk,):
                    if isinstance(payload, Comment):
                        continue
                    if isinstance(payload, NamedEvent):
                        failed = failed or (payload.name.decode() if payload.name in FAILED_EVENTS else None)
                        data = payload.data
                    else:
                        failed = failed or failure(payload)
                        data = payload
                    delays.append(now - last)
                    payloads.append(data)
                    last = now
                yield chunk
        finally:
            await chunks.aclose()
        if failed is not None:
            log.info("not recording a stream that failed after its first chunk (%s)", failed)
            done(None)
            return
        exchange.payloads, exchange.delays, exchange.seconds = payloads, delays, last - started
        done(await self.save(exchange, scrubber))
