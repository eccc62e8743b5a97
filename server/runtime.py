"""Per-process state, built once by `create_app` and held on `app.state.runtime`; endpoints reach
it through `runtime_of(request)`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from backends import build_backends
from backends.base import Backend
from backends.fixtures import FixturesBackend
from backends.proxy import ProxyBackend
from server.config import Route, Settings
from server.errors import APIError
from server.generation.conversation import Conversation
from server.generation.ids import fingerprint
from server.generation.latency import LatencyProfile
from server.generation.profiles import Profile, builtin_profile
from server.generation.shaping import Shaping, Sleep
from server.generation.tokens import Tokenizer, encoding_for_model
from server.http.chaos_board import ChaosBoard
from server.http.event_stream import StreamOptions
from server.http.forward import forward_call, try_forward
from server.http.intake import Intake, take
from server.http.middleware import arrival_of
from server.http.ratelimit import Limiter
from server.http.shaping import Profiles, shape
from server.http.trace import Trace
from server.state.budgets import Budgets, MemoryBudgets
from server.state.completions import CompletionStore, MemoryCompletionStore
from server.state.fixtures import MemoryRuntimeFixtures, RuntimeFixtures
from server.state.journal_file import Journal
from server.state.redis_budgets import RedisBudgets
from server.state.redis_completions import RedisCompletionStore
from server.state.redis_fixtures import RedisRuntimeFixtures
from server.state.redis_ledger import RedisLedger
from server.state.redis_requests import RedisRequests
from server.state.redis_responses import RedisResponseStore
from server.state.requests import RequestLog, Requests
from server.state.responses import MemoryResponseStore, ResponseStore
from server.state.shared import Shared, connect

# How a dialect reads a body for runtime fixtures to match: what it asks (one conversation, or one
# per prompt of a legacy completion), given the runtime, the namespace and the client's bytes; an
# APIError when this server would refuse it.
Probe = Callable[["Runtime", str, bytes], Awaitable[Sequence[Conversation]]]


@dataclass
class Runtime:
    settings: Settings
    backends: dict[str, Backend]
    system_fingerprint: str
    started: int = field(default_factory=lambda: int(time.time()))
    _tokenizers: dict[str, Tokenizer] = field(default_factory=dict)
    _profiles: dict[str, Profile] = field(default_factory=dict)  # by model name: read on every request
    _routes: dict[str, Route] = field(default_factory=dict)  # by model name: the glob matched once
    _model_tokenizers: dict[str, Tokenizer] = field(default_factory=dict)  # by model name, as `_profiles`
    # Backends that may pass an upstream's answer through (they override `Backend.forward`).
    forwarders: frozenset[str] = frozenset()
    # Backends answering GET /v1/models from an upstream, in config order.
    model_forwarders: tuple[str, ...] = ()
    journal: Journal | None = None  # the file journal
    requests: Requests | None = None  # the journal the admin API lists and verifies, per namespace
    fixtures: RuntimeFixtures = field(default_factory=MemoryRuntimeFixtures)  # added over the admin API
    stream_options: StreamOptions = field(default_factory=StreamOptions)
    responses: ResponseStore = field(default_factory=lambda: MemoryResponseStore(1000))
    completions: CompletionStore = field(default_factory=lambda: MemoryCompletionStore(1000))
    # None without `rate_limits`: the routes then skip admission (docs/limits.md).
    limiter: Limiter | None = None
    # Latency profiles and chaos (docs/latency-and-chaos.md): None when there are none, so a request
    # pays one check for them. The admin routes set and clear `chaos` at runtime.
    latency: Profiles | None = None
    chaos: ChaosBoard | None = None  # `chaos_board` while it has anything to strike
    chaos_board: ChaosBoard = field(default_factory=ChaosBoard)
    sleep: Sleep = asyncio.sleep  # every pause of a latency profile and every chaos hold
    clock: Callable[[], float] = time.perf_counter  # what the pauses are counted against
    shared: Shared | None = None  # the Redis of `state: redis://...`; None: everything in this process

    @classmethod
    def build(
        cls,
        settings: Settings,
        given: Mapping[str, Backend] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Runtime:
        """The runtime for `settings`. `given` backends (a test's scripted one) stand in for the
        configured backends of the same names, which are then never built: the settings' routes
        still decide which backend answers a model, so a name the settings lack is an error.
        `clock` (seconds) is what rate limits replenish by; a test gives one it moves itself."""
        given = given or {}
        unknown = sorted(set(given) - set(settings.backends))
        if unknown:
            raise ValueError(f"no configured backend to replace: {', '.join(unknown)}")
        for name, backend in given.items():
            backend.name = name
        built = build_backends({k: v for k, v in settings.backends.items() if k not in given})
        backends = {name: given[name] if name in given else built[name] for name in settings.backends}
        shared = _shared(settings, backends)
        budgets: Budgets = MemoryBudgets()
        if shared is not None:
            budgets = RedisBudgets(shared)
            if clock is time.monotonic:
                clock = time.time  # replicas on other hosts share the wall clock, not this one's uptime
        fp = settings.system_fingerprint or fingerprint(settings.model_dump_json())
        forwarders = frozenset(
            name for name, backend in backends.items() if type(backend).forward is not Backend.forward
        )
        return cls(
            settings=settings,
            backends=backends,
            system_fingerprint=fp,
            forwarders=forwarders,
            model_forwarders=tuple(name for name, backend in backends.items() if backend.forwards_models),
            journal=Journal(settings.journal.file) if settings.journal.file else None,
            requests=_requests(settings, shared),
            fixtures=MemoryRuntimeFixtures() if shared is None else RedisRuntimeFixtures(shared),
            stream_options=StreamOptions(settings.sse_ping_seconds, settings.shutdown_grace_seconds),
            responses=_responses(settings, shared),
            completions=_completions(settings, shared),
            limiter=None if settings.rate_limits is None else Limiter(settings.rate_limits, budgets, clock),
            latency=_profiles(settings),
            shared=shared,
        ).with_chaos(_board(settings))

    def with_chaos(self, board: ChaosBoard) -> Runtime:
        """Hold `board`, and put it on the request path only while it may strike."""
        self.chaos_board = board
        self.chaos = None if board.idle else board
        return self

    def tokenizer(self, name: str) -> Tokenizer:
        tokenizer = self._tokenizers.get(name)
        if tokenizer is None:
            tokenizer = self._tokenizers[name] = Tokenizer.named(name)
        return tokenizer

    def warm(self) -> None:
        """Load the encodings the routes name (their own, or the default one that every model
        tiktoken does not know uses), so no request pays for them. Any other is loaded when a model
        first needs it (gpt-4 and gpt-3.5's cl100k_base: about 0.1 s once, and 31 MB of memory a
        process that never sees those models does not hold; issue 14)."""
        for route in self.settings.routes:
            self.tokenizer(route.encoding or self.settings.default_encoding)

    def route(self, model: str) -> Route:
        route = self._routes.get(model)
        if route is None:
            route = self.settings.route_for(model)  # glob matching, once per model name
            if route is None:
                raise model_not_found(model)
            _keep(self._routes, model, route)
        return route

    async def backend(self, route: Route, namespace: str) -> Backend:
        """What answers a request of `namespace` routed by `route`: the route's backend, behind the
        namespace's runtime fixtures when it holds any (with shared state, Redis is asked)."""
        backend = self.backends[route.backend]
        if self.fixtures.empty:
            return backend
        return await self.fixtures.over(namespace, backend)

    def forwarder(self, model: str) -> Backend | None:
        """The backend `model` is routed to, when it may pass an upstream's answer through."""
        route = self.settings.route_for(model)
        if route is None or route.backend not in self.forwarders:
            return None
        return self.backends[route.backend]

    def model_forwarder(self, model: str | None) -> Backend | None:
        """The backend answering `GET /v1/models` (model None: the first that forwards models) or
        `GET /v1/models/{model}` (the one `model` is routed to, if it forwards models)."""
        if model is None:
            return self.backends[self.model_forwarders[0]] if self.model_forwarders else None
        route = self.settings.route_for(model)
        if route is None or route.backend not in self.model_forwarders:
            return None
        return self.backends[route.backend]

    def intake(self, request: Request, trace: Trace | None = None) -> Awaitable[Intake]:
        """The caller's namespace and the body, under this server's keys and body limit."""
        return take(request, self.settings.api_keys, self.settings.max_body_bytes, trace)

    async def forwarded(self, request: Request, intake: Intake, path: str, probe: Probe) -> Response | None:
        """The upstream's answer when the body's model is routed to a forwarding backend that takes
        it (`path`: where it goes upstream, relative to the API root); None otherwise, and None when
        one of the namespace's runtime fixtures matches the body as its dialect's `probe` reads it."""
        if not self.forwarders:
            return None
        call = forward_call(intake.raw, request, intake.namespace, intake.notes, path)
        backend = self.forwarder(str(call.body["model"])) if call is not None else None
        if backend is None or call is None:
            return None
        if not self.fixtures.empty and await self._overridden(intake, probe, embeds=path == "embeddings"):
            return None  # the pipeline runs, and the runtime fixture answers there
        return await try_forward(backend, call, request, self.stream_options)

    @property
    def shapes(self) -> bool:
        """Whether latency profiles or chaos may shape an answer: routes ask `shaping` only then,
        which spares every other request a coroutine."""
        return self.latency is not None or self.chaos is not None

    async def shaping(
        self, route: Route, model: str, namespace: str, scope: Mapping[str, Any] | None
    ) -> Shaping | None:
        """The request's latency pauses and chaos fault (server/http/shaping.py): a chaos HTTP error
        is raised here and a chaos timeout held here. None when neither is configured. `scope`: the
        HTTP request's (its id, and its arrival, which a time to first token counts from)."""
        if not self.shapes:
            return None
        arrival = arrival_of(scope)
        return await shape(
            self.latency,
            self.chaos,
            route=route.model,
            model=model,
            namespace=namespace,
            request_id=arrival.request_id,
            # A test's clock has nothing to do with the arrival time the middleware read: the
            # reply's time then counts from when its pacing starts.
            started=arrival.at if self.clock is time.perf_counter else None,
            hold_seconds=self.settings.chaos_timeout_seconds,
            sleep=self.sleep,
            clock=self.clock,
        )

    async def _overridden(self, intake: Intake, probe: Probe, *, embeds: bool) -> bool:
        """Whether a runtime fixture of the request's namespace matches it (none is used up by
        asking). A body this server would refuse matches none: the upstream answers it, as it
        would without runtime fixtures."""
        namespace = intake.namespace
        fixtures = await self.fixtures.layer(namespace)
        if fixtures is None:
            return False
        try:
            conversations = await probe(self, namespace, intake.raw)
        except APIError:
            return False
        return await fixtures.answers(conversations, intake.raw, namespace, embeds=embeds)

    def tokenizer_for(self, route: Route, model: str) -> Tokenizer:
        """`model`'s tokenizer on `route` (the route a model takes is fixed: kept by model name)."""
        tokenizer = self._model_tokenizers.get(model)
        if tokenizer is None:
            encoding = route.encoding or builtin_profile(model).encoding
            tokenizer = self.tokenizer(encoding or encoding_for_model(model, self.settings.default_encoding))
            _keep(self._model_tokenizers, model, tokenizer)
        return tokenizer

    def profile(self, route: Route, model: str) -> Profile:
        """`model`'s profile: the built-in one with its route's overrides. With `models: strict`, a
        model no profile knows does not exist, as on the real API."""
        profile = self.described(route, model)
        if not profile.known and self.settings.models == "strict":
            raise model_not_found(model)
        return profile

    def described(self, route: Route, model: str) -> Profile:
        """`model`'s profile whether or not `models: strict` would let it be used (for listings)."""
        profile = self._profiles.get(model)
        if profile is None:
            profile = builtin_profile(model)
            if route.profile is not None:
                profile = profile.overridden(route.profile.changes())
            _keep(self._profiles, model, profile)
        return profile

    async def aclose(self) -> None:
        await self.responses.aclose()
        for backend in self.backends.values():
            await backend.aclose()
        if self.journal is not None:
            self.journal.close()
        if self.requests is not None:
            await self.requests.aclose()
        if self.shared is not None:
            await self.shared.aclose()


_MODELS_KEPT = 4096  # model names whose profile, tokenizer and route are remembered
_V = TypeVar("_V")


def _keep(cache: dict[str, _V], model: str, value: _V) -> None:
    """Remember `value` for `model`. The names are the clients' own choice, so a full cache starts
    over rather than grow without end."""
    if len(cache) >= _MODELS_KEPT:
        cache.clear()
    cache[model] = value


def _shared(settings: Settings, backends: Mapping[str, Backend]) -> Shared | None:
    """With `state: redis://...`, the Redis client, and every fixtures backend (a replaying proxy's
    cassettes too) counting its uses there; None with `state: memory`."""
    if settings.state == "memory":
        return None
    shared = connect(settings.state, settings.state_prefix, settings.state_ttl_seconds)
    for name, backend in backends.items():
        counted = backend.replayer if isinstance(backend, ProxyBackend) else backend
        if isinstance(counted, FixturesBackend):
            counted.share(RedisLedger(shared, "fixtures", name))
    return shared


def _requests(settings: Settings, shared: Shared | None) -> Requests | None:
    """The journal the admin API reads: None with `journal.memory: 0`, else in this process or,
    with `state: redis://...`, in Redis."""
    capacity = settings.journal.memory
    if not capacity:
        return None
    return RequestLog(capacity) if shared is None else RedisRequests(shared, capacity)


def _responses(settings: Settings, shared: Shared | None) -> ResponseStore:
    if shared is None:
        return MemoryResponseStore(settings.stored_responses)
    return RedisResponseStore(shared, settings.stored_responses)


def _completions(settings: Settings, shared: Shared | None) -> CompletionStore:
    if shared is None:
        return MemoryCompletionStore(settings.stored_completions)
    return RedisCompletionStore(shared, settings.stored_completions)


def _profiles(settings: Settings) -> Profiles | None:
    """Each route's latency profile: its own, else its backend's default; None when none has one."""
    by_route: dict[str, LatencyProfile] = {}
    for route in settings.routes:
        profile = route.latency or settings.backends[route.backend].latency
        if profile is not None and route.model not in by_route:
            by_route[route.model] = profile
    return Profiles(by_route) if by_route else None


def _board(settings: Settings) -> ChaosBoard:
    configured = {route.model: route.chaos for route in settings.routes if route.chaos is not None}
    return ChaosBoard(default=settings.chaos, configured=configured)


def runtime_of(request: HTTPConnection) -> Runtime:
    """The runtime of the app serving `request` (an HTTP request or a WebSocket)."""
    runtime: Runtime = request.scope["app"].runtime  # `Application.runtime` (`request.app` reads it there)
    return runtime


def model_not_found(model: str) -> APIError:
    return APIError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )
