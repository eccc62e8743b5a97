"""`POST /v1/embeddings`: validate, let the routed backend answer or fall back to the server's
deterministic vectors, and write the body as the API does.

A forwarding backend (the proxy) passes the request upstream byte for byte and its answer back; one
that replays answers through `Backend.embed` like any other backend."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from backends.base import EmbeddingRequest
from backends.fixtures.embeddings import as_conversation
from server.config import Route
from server.embeddings.plan import EmbeddingPlan, plan_embeddings
from server.embeddings.render import body_bytes
from server.errors import server_error
from server.generation.conversation import Conversation
from server.generation.embedding import embed
from server.generation.tokens import Tokenizer, encoding_for_model
from server.http.trace import Trace
from server.http.validation import parse_body
from server.runtime import Runtime, runtime_of
from server.wire.embeddings import EmbeddingCreateRequest

PATH = "/v1/embeddings"
FLOAT32_MAX = 3.4028234663852886e38
# Above this many tokens the vectors and the body are made off the event loop (tens of milliseconds
# and more), so other requests are not held up.
IN_LOOP_TOKENS = 20_000

log = logging.getLogger("chatdouble.embeddings")


async def create_embedding(request: Request, trace: Trace | None = None) -> Response:
    """`trace` is given when a journal is kept (`server.control.journal.journaled`)."""
    runtime = runtime_of(request)
    intake = await runtime.intake(request, trace)
    if runtime.forwarders:  # a backend may pass an upstream's answer through (most servers have none)
        forwarded = await runtime.forwarded(request, intake, "embeddings", asked)
        if forwarded is not None:
            return forwarded
    namespace, raw = intake.namespace, intake.raw
    route, tokenizer, plan = _planned(runtime, raw)
    if runtime.limiter is not None:
        await runtime.limiter.admit(request, namespace, plan.model, plan.prompt_tokens)  # input only
    backend = await runtime.backend(route, namespace)
    vectors = await backend.embed(
        EmbeddingRequest(
            plan.model,
            plan.tokens,
            plan.texts,
            plan.dimensions,
            tokenizer,
            namespace=namespace,
            headers=request.headers,
            raw=raw,
            notes=intake.notes,
        )
    )
    if vectors is not None and not _fits(vectors, plan):
        log.error("backend %s answered embeddings of the wrong count or size", backend.name)
        raise server_error()
    if plan.prompt_tokens <= IN_LOOP_TOKENS:
        content = _content(plan, tokenizer, vectors)
    else:
        content = await asyncio.to_thread(_content, plan, tokenizer, vectors)
    return Response(content, media_type="application/json")


def _planned(runtime: Runtime, raw: bytes) -> tuple[Route, Tokenizer, EmbeddingPlan]:
    body = parse_body(raw, EmbeddingCreateRequest, reject_unknown=runtime.settings.unknown_fields == "reject")
    route = runtime.route(body.model)
    profile = runtime.profile(route, body.model)  # models: strict refuses a name no profile knows
    # Every embedding model counts in cl100k_base; a route's `encoding` still decides.
    tokenizer = runtime.tokenizer(
        route.encoding or profile.encoding or encoding_for_model(body.model, "cl100k_base")
    )
    return route, tokenizer, plan_embeddings(body, tokenizer, profile)


async def asked(runtime: Runtime, namespace: str, raw: bytes) -> list[Conversation]:
    """What an embeddings request asks, each input a user message, as runtime fixtures match it
    (`Runtime.forwarded`)."""
    _, tokenizer, plan = _planned(runtime, raw)
    return [
        as_conversation(EmbeddingRequest(plan.model, plan.tokens, plan.texts, plan.dimensions, tokenizer))
    ]


def _content(plan: EmbeddingPlan, tokenizer: Tokenizer, vectors: Sequence[Sequence[float]] | None) -> bytes:
    if vectors is None:
        vectors = [
            embed(tokens, tokenizer, text, plan.dimensions, plan.model)
            for tokens, text in zip(plan.tokens, plan.texts, strict=True)
        ]
    return body_bytes(plan, vectors)


def _fits(vectors: list[list[float]], plan: EmbeddingPlan) -> bool:
    """One vector per input, each of the planned size, every value a finite float32."""
    return len(vectors) == len(plan.tokens) and all(
        len(vector) == plan.dimensions
        and all(isinstance(v, float | int) and math.isfinite(v) and abs(v) <= FLOAT32_MAX for v in vector)
        for vector in vectors
    )
