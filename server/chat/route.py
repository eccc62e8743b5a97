"""`POST /v1/chat/completions`."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import orjson
from starlette.requests import Request
from starlette.responses import Response

from backends.base import GenerationRequest
from server.chat.chunks import StreamFormatter
from server.chat.completion import collect
from server.chat.conversation import to_conversation
from server.chat.plan import ChatPlan, plan_chat
from server.chat.rules import check_for_model
from server.chat.stored import stored
from server.chat.validation import parse_request
from server.generation.contract import Guard
from server.generation.conversation import Conversation
from server.generation.events import Event
from server.generation.models import completions_model, not_a_chat_model
from server.generation.pipeline import Generation
from server.http.disconnect import ClientGoneError, client_gone, unless_disconnected
from server.http.images import with_fetched_images
from server.http.json_response import JSONBody
from server.http.logit_bias import check_logit_bias_tokens
from server.http.sse import FRAMED, open_stream
from server.http.trace import Trace
from server.runtime import Runtime, runtime_of
from server.wire.chat_request import ChatCompletionRequest
from server.wire.chat_response import ChatCompletion

PATH = "/v1/chat/completions"


async def create_chat_completion(request: Request, trace: Trace | None = None) -> Response:
    """A plain Starlette endpoint: the hot path skips FastAPI's dependency machinery (it has no
    dependencies to solve); server/openapi.py documents it from the wire schemas. `trace` is given
    when a journal is kept (`server.control.journal.journaled`)."""
    runtime = runtime_of(request)
    settings = runtime.settings
    intake = await runtime.intake(request, trace)
    if runtime.forwarders:  # a backend may pass an upstream's answer through (most servers have none)
        forwarded = await runtime.forwarded(request, intake, "chat/completions", asked)
        if forwarded is not None:
            return forwarded
    namespace, raw, notes = intake.namespace, intake.raw, intake.notes
    body = parse_request(raw, reject_unknown=settings.unknown_fields == "reject")
    route = runtime.route(body.model)
    if completions_model(body.model):
        raise not_a_chat_model()
    profile = runtime.profile(route, body.model)
    check_for_model(body, profile)
    tokenizer = runtime.tokenizer_for(route, body.model)
    if body.logit_bias:
        check_logit_bias_tokens(body.logit_bias, tokenizer.vocabulary_size)
    conversation = to_conversation(body)
    if settings.images == "fetch":
        conversation = await with_fetched_images(conversation)
    chat = plan_chat(body, conversation, tokenizer, runtime.system_fingerprint, profile)
    if runtime.limiter is not None:
        # The API counts the prompt and the completion budget asked for, for every choice.
        budget = chat.plan.n * (body.completion_limit or 0)
        await runtime.limiter.admit(request, namespace, body.model, chat.plan.prompt_tokens + budget)
    backend = await runtime.backend(route, namespace)
    shaping = await runtime.shaping(route, body.model, namespace, request.scope) if runtime.shapes else None
    generation = Generation(
        chat.plan,
        backend.stream(
            # conversation, n, tokenizer, namespace, headers, raw, notes: in order, not by keyword,
            # since a class called with keywords first puts them in a dict
            GenerationRequest(conversation, chat.plan.n, tokenizer, namespace, request.headers, raw, notes)
        ),
        Guard(conversation, route.backend, warn_only=settings.contract == "warn"),
        shaping=shaping,
    )
    # A backend that may wait (timing, stalls, an upstream) is raced against the client leaving.
    receive = None if backend.instant and shaping is None else request.receive
    keep = _Keeper(runtime, namespace, body, raw, chat, generation) if body.store else None
    try:
        if body.stream:
            obfuscate = not (body.stream_options and body.stream_options.include_obfuscation is False)
            formatter = StreamFormatter(chat, generation, obfuscation=obfuscate)
            events = generation.events() if keep is None else keep.watch(generation.events())
            chunks = formatter.chunks(events)
            # The writer frames its chunks itself (`FRAMED`): one copy of each chunk fewer.
            framed = chunks if keep is None else keep.after(chunks)
            return await open_stream(framed, {}, runtime.stream_options, receive, FRAMED)
        completion = await unless_disconnected(collect(chat, generation, generation.events()), receive)
    except ClientGoneError:
        return client_gone()
    if keep is not None:
        await keep.put(completion)
    return JSONBody(completion)


async def asked(runtime: Runtime, namespace: str, raw: bytes) -> list[Conversation]:
    """What a chat request asks, as runtime fixtures match it (`Runtime.forwarded`)."""
    return [to_conversation(parse_request(raw, reject_unknown=runtime.settings.unknown_fields == "reject"))]


class _Keeper:
    """`store: true`: the completion is kept once whole; a stream's is folded from the events it
    sent, after its last chunk (a stream that fails or loses its client keeps nothing)."""

    def __init__(
        self,
        runtime: Runtime,
        namespace: str,
        body: ChatCompletionRequest,
        raw: bytes,
        chat: ChatPlan,
        generation: Generation,
    ) -> None:
        self.runtime, self.namespace, self.metadata = runtime, namespace, body.metadata
        self.chat, self.generation = chat, generation
        self.messages = orjson.loads(raw)["messages"]
        self.seen: list[Event] = []

    async def put(self, completion: ChatCompletion) -> None:
        await self.runtime.completions.put(self.namespace, stored(completion, self.messages, self.metadata))

    async def watch(self, events: AsyncGenerator[Event, None]) -> AsyncGenerator[Event, None]:
        try:
            async for event in events:
                self.seen.append(event)
                yield event
        finally:
            await events.aclose()

    async def after(self, chunks: AsyncGenerator[bytes, None]) -> AsyncGenerator[bytes, None]:
        async for chunk in chunks:
            yield chunk
        await self.put(await collect(self.chat, self.generation, self._replay()))

    async def _replay(self) -> AsyncGenerator[Event, None]:
        for event in self.seen:
            yield event
