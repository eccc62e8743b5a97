"""`POST /v1/completions`: the legacy text completions, on the neutral pipeline and the same backends.

A forwarding backend (the proxy) passes the request upstream byte for byte and its answer back, as on
chat; one that replays answers here through the pipeline.
"""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import Response

from backends.base import GenerationRequest
from server.completions.body import collect
from server.completions.chunks import TextStream
from server.completions.conversation import to_conversation
from server.completions.fanout import fan_out
from server.completions.plan import plan_completion
from server.completions.prompts import read_prompts
from server.completions.rules import check_completion, check_for_model
from server.generation.contract import Guard
from server.generation.conversation import Conversation
from server.generation.models import chat_model, not_a_completions_model
from server.generation.pipeline import Generation
from server.http.disconnect import ClientGoneError, client_gone, unless_disconnected
from server.http.json_response import JSONBody
from server.http.logit_bias import check_logit_bias_tokens
from server.http.sse import open_stream
from server.http.trace import Trace
from server.http.validation import parse_body
from server.runtime import Runtime, runtime_of
from server.wire.completions_request import CompletionRequest

PATH = "/v1/completions"


async def create_completion(request: Request, trace: Trace | None = None) -> Response:
    """A plain Starlette endpoint, like chat's; server/openapi.py documents it. `trace` is given when
    a journal is kept."""
    runtime = runtime_of(request)
    settings = runtime.settings
    intake = await runtime.intake(request, trace)
    if runtime.forwarders:  # a backend may pass an upstream's answer through (most servers have none)
        forwarded = await runtime.forwarded(request, intake, "completions", asked)
        if forwarded is not None:
            return forwarded
    namespace, raw, notes = intake.namespace, intake.raw, intake.notes
    body = _parse(runtime, raw)
    route = runtime.route(body.model)
    if chat_model(body.model):
        raise not_a_completions_model()
    profile = runtime.profile(route, body.model)  # models: strict refuses a name no profile knows
    tokenizer = runtime.tokenizer_for(route, body.model)
    check_logit_bias_tokens(body.logit_bias, tokenizer.vocabulary_size)
    prompts = read_prompts(body, tokenizer)
    check_for_model(body, prompts, profile)
    conversations = [to_conversation(body, prompt) for prompt in prompts]
    plan = plan_completion(body, prompts, tokenizer)
    if runtime.limiter is not None:
        # `max_tokens` defaults to 16 here, as on the API: every choice of every prompt may use it.
        tokens = plan.plan.prompt_tokens + plan.plan.n * body.completion_limit
        await runtime.limiter.admit(request, namespace, body.model, tokens)
    backend = await runtime.backend(route, namespace)
    shaping = await runtime.shaping(route, body.model, namespace, request.scope) if runtime.shapes else None

    requests = [
        GenerationRequest(
            conversation,
            n=plan.per_prompt,
            tokenizer=tokenizer,
            namespace=namespace,
            headers=request.headers,
            raw=raw,
            notes=notes,
        )
        for conversation in conversations
    ]
    generation = Generation(
        plan.plan,
        fan_out([functools.partial(backend.stream, one) for one in requests], plan.per_prompt),
        Guard(conversations[0], route.backend, warn_only=settings.contract == "warn"),
        shaping=shaping,
    )
    receive = None if backend.instant and shaping is None else request.receive
    try:
        if body.stream:
            stream = TextStream(plan, generation)
            return await open_stream(stream.chunks(generation.events()), {}, runtime.stream_options, receive)
        return JSONBody(await unless_disconnected(collect(plan, generation, generation.events()), receive))
    except ClientGoneError:
        return client_gone()


def _parse(runtime: Runtime, raw: bytes) -> CompletionRequest:
    reject = runtime.settings.unknown_fields == "reject"
    return parse_body(raw, CompletionRequest, reject_unknown=reject, rules=check_completion)


async def asked(runtime: Runtime, namespace: str, raw: bytes) -> list[Conversation]:
    """What a legacy completion asks, one conversation per prompt, as runtime fixtures match it
    (`Runtime.forwarded`)."""
    body = _parse(runtime, raw)
    tokenizer = runtime.tokenizer_for(runtime.route(body.model), body.model)
    return [to_conversation(body, prompt) for prompt in read_prompts(body, tokenizer)]
