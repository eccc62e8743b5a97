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

import os
import time
from collections.abc import AsyncGenerator, Mapping
from pathlib import Path
from typing import Any

import orjson

from backends.base import (
    AnsweredAs,
    Backend,
    BackendError,
    EmbeddingRequest,
    Event,
    ForwardCall,
    GenerationRequest,
    Upstream,
)
from backends.proxy_config import ProxyConfig
from backends.recording import Recorder, Replayer
from backends.recording.cassette import Exchange
from backends.request_key import Scrubber, normalize, request_key
from backends.upstream import UpstreamClient
from server.headers import bearer


class ProxyBackend(Backend):
    name = "proxy"

    def __init__(self, config: ProxyConfig, *, env: Mapping[str, str] | None = None) -> None:
        """`env` holds the variable `config.api_key_env` names (default: the process environment)."""
        self.config = config
        api_key = config.upstream_key(os.environ if env is None else env)
        self.upstream = UpstreamClient(config, api_key=api_key)
        self.forwards_models = config.models and config.mode != "replay"
        self.scrubber = Scrubber([api_key], config.scrub)
        self.recorder: Recorder | None = None
        self.replayer: Replayer | None = None
        self._written: set[str] = set()  # keys this process recorded
        if config.mode == "passthrough":
            return
        if config.cassettes is None:
            raise ValueError(f"mode {config.mode!r} needs a cassettes directory")
        if config.mode != "replay":
            Path(config.cassettes).mkdir(parents=True, exist_ok=True)
            self.recorder = Recorder(config.cassettes)
        if config.mode != "record":
            self.replayer = Replayer(config, view=self.view_of, owner=self)
            self.announces = True

    def __repr__(self) -> str:  # never show the key
        return f"ProxyBackend({self.upstream.shown_url!r}, mode={self.config.mode!r})"

    # ------------------------------------------------------------ how requests are matched

    def view(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> tuple[dict[str, Any], str]:
        """The request as recordings hold it (normalized, scrubbed), and its key."""
        request = self.scrubber.with_literals(bearer(headers)).value(
            normalize(body, self.config.ignore_fields)
        )
        return request, request_key(request)

    def view_of(self, request: GenerationRequest | EmbeddingRequest) -> dict[str, Any]:
        notes = request.notes
        if notes is not None and notes.request is not None:
            return notes.request
        if request.raw or isinstance(request, EmbeddingRequest):
            body = orjson.loads(request.raw)
        else:
            body = request.conversation.wire()
        view, key = self.view(body, request.headers)
        if notes is not None:
            notes.request, notes.hash = view, key
        return view

    # ------------------------------------------------------------ answering

    async def forward(self, call: ForwardCall) -> Upstream | None:
        notes = call.notes
        if notes is not None:
            notes.mode = self.config.mode
        if self.config.mode == "passthrough":
            return self._answered(call, await self.upstream.post(call))
        if self.config.mode == "replay":
            return None
        view, key = self.view(call.body, call.headers)
        if notes is not None:
            notes.request, notes.hash = view, key
        if self.config.mode == "auto" and self._recorded(key):
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
        answer = self._answered(call, await self.upstream.post(call))
        exchange = Exchange(
            view, key, self.upstream.shown_url, answer.status, dict(answer.headers), 0.0, path=call.path
        )
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
            request.notes.mode, request.notes.outcome = self.config.mode, "replayed"
            self.view_of(request)  # the journal gets the key even when no recording is compared
        async for event in self.replayer.stream(request):
            yield event

    async def embed(self, request: EmbeddingRequest) -> list[list[float]] | None:
        """The recorded vectors (replay, or auto with a recording); a 400 `recording_not_found`
        when none matches."""
        if self.replayer is None:
            raise BackendError(500, "The proxy backend only forwards requests.", type="server_error")
        if request.notes is not None:
            request.notes.mode, request.notes.outcome = self.config.mode, "replayed"
            self.view_of(request)
        return await self.replayer.embed(request)

    async def forward_models(self, path: str, headers: Mapping[str, str]) -> Upstream:
        return await self.upstream.get(path, headers)

    async def aclose(self) -> None:
        await self.upstream.aclose()
