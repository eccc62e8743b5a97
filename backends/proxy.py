"""The proxy backend: an OpenAI-compatible upstream, passed through, recorded or replayed.

Modes, in the spirit of VCR:
- `passthrough` (default): forward every request (`backends.upstream`) and pass the answer through
  untouched: status, body, ids, usage, finish reasons, stream chunks as they arrive.
- `record`: the same, and write each answered exchange into the cassette directory as a fixture.
- `replay`: never touch the network; serve the cassette directory (`backends.recording.replay`).
  A request without a recording is a 400 `recording_not_found` saying how to record it.
- `auto`: replay what is recorded, record what is not.

Requests are matched by their normalized, scrubbed form (`backends.request_key`): volatile fields
and `ignore_fields` dropped, the upstream key, the client's key and the `scrub` patterns replaced.
Replayed answers go through the server's pipeline like any fixture; passed-through ones do not.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson

from backends.base import (
    AnsweredAs,
    Backend,
    BackendError,
    Event,
    ForwardCall,
    GenerationRequest,
    Upstream,
)
from backends.recording import Recorder, Replayer
from backends.recording.cassette import Exchange
from backends.request_key import Scrubber, normalize, request_key
from backends.upstream import UpstreamClient
from server.headers import bearer

Mode = Literal["passthrough", "record", "replay", "auto"]


class ProxyBackend(Backend):
    name = "proxy"

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        authorization: Literal["replace", "forward"] = "replace",
        connect_timeout: float = 5.0,
        read_timeout: float = 600.0,
        mode: Mode = "passthrough",
        cassettes: str | None = None,
        timing_factor: float = 1.0,
        scrub: Sequence[str] = (),
        ignore_fields: Sequence[str] = (),
        models: bool = False,
        reload_interval: float | None = 1.0,
    ) -> None:
        self.upstream = UpstreamClient(
            base_url,
            api_key=api_key,
            authorization=authorization,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self.mode = mode
        self.forwards_models = models and mode != "replay"
        self.scrubber = Scrubber([api_key], scrub)
        self.ignore_fields = tuple(ignore_fields)
        self.recorder: Recorder | None = None
        self.replayer: Replayer | None = None
        self._written: set[str] = set()  # keys this process recorded
        if mode == "passthrough":
            return
        if cassettes is None:
            raise ValueError(f"mode {mode!r} needs a cassettes directory")
        if mode != "replay":
            Path(cassettes).mkdir(parents=True, exist_ok=True)
            self.recorder = Recorder(cassettes)
        if mode != "record":
            self.replayer = Replayer(
                cassettes,
                view=self.view_of,
                time_scale=timing_factor,
                reload_interval=reload_interval,
                ignore_fields=ignore_fields,
                owner=self,
            )

    def __repr__(self) -> str:  # never show the key
        return f"ProxyBackend({self.upstream.shown_url!r}, mode={self.mode!r})"

    # ------------------------------------------------------------ how requests are matched

    def view(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> tuple[dict[str, Any], str]:
        """The request as recordings hold it (normalized, scrubbed), and its key."""
        request = self.scrubber.with_literals(bearer(headers)).value(normalize(body, self.ignore_fields))
        return request, request_key(request)

    def view_of(self, request: GenerationRequest) -> dict[str, Any]:
        notes = request.notes
        if notes is not None and notes.request is not None:
            return notes.request
        body = orjson.loads(request.raw) if request.raw else request.conversation.wire()
        view, key = self.view(body, request.headers)
        if notes is not None:
            notes.request, notes.hash = view, key
        return view

    # ------------------------------------------------------------ answering

    async def forward(self, call: ForwardCall) -> Upstream | None:
        notes = call.notes
        if notes is not None:
            notes.mode = self.mode
        if self.mode == "passthrough":
            return self._answered(call, await self.upstream.chat(call))
        if self.mode == "replay":
            return None
        view, key = self.view(call.body, call.headers)
        if notes is not None:
            notes.request, notes.hash = view, key
        if self.mode == "auto" and self._recorded(key):
            return None
        return await self._record(call, view, key)

    def _recorded(self, key: str) -> bool:
        assert self.replayer is not None
        if self.replayer.has(key):
            return True
        if key in self._written:  # recorded since the files were last read
            self.replayer.refresh()
            return key in self.replayer.keys
        return False

    async def _record(self, call: ForwardCall, view: dict[str, Any], key: str) -> Upstream:
        assert self.recorder is not None
        started = time.monotonic()
        answer = self._answered(call, await self.upstream.chat(call))
        exchange = Exchange(view, key, self.upstream.shown_url, answer.status, dict(answer.headers), 0.0)
        scrubber = self.scrubber.with_literals(bearer(call.headers))

        def done(path: Path | None) -> None:
            if path is not None:
                self._written.add(key)
                if call.notes is not None:
                    call.notes.outcome, call.notes.fixture, call.notes.source = (
                        "recorded",
                        path.stem,
                        str(path),
                    )

        if answer.chunks is None:
            exchange.body, exchange.seconds = answer.body, time.monotonic() - started
            done(await self.recorder.save(exchange, scrubber))
        else:
            answer.chunks = self.recorder.tee(answer.chunks, exchange, started, scrubber, done)
        return answer

    @staticmethod
    def _answered(call: ForwardCall, answer: Upstream) -> Upstream:
        """Note that the upstream answered (one that cannot be reached leaves the outcome `error`)."""
        if call.notes is not None:
            call.notes.outcome = "forwarded"  # until the recorder says `recorded`
        return answer

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[Event | AnsweredAs, None]:
        if self.replayer is None:
            raise BackendError(500, "The proxy backend only forwards requests.", type="server_error")
        if request.notes is not None:
            request.notes.mode, request.notes.outcome = self.mode, "replayed"
            self.view_of(request)  # the journal gets the key even when no recording is compared
        async for event in self.replayer.stream(request):
            yield event

    async def forward_models(self, path: str, headers: Mapping[str, str]) -> Upstream:
        return await self.upstream.get(path, headers)

    async def aclose(self) -> None:
        await self.upstream.aclose()
