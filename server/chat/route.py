"""`POST /v1/chat/completions`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from backends.base import GenerationRequest
from server.chat.chunks import StreamFormatter
from server.chat.completion import collect
from server.chat.conversation import to_conversation
from server.chat.plan import plan_chat
from server.chat.validation import parse_request
from server.generation.contract import Guard
from server.generation.models import completions_model, not_a_chat_model
from server.generation.pipeline import Generation
from server.http.auth import authenticate
from server.http.body import check_content_type, read_body
from server.http.disconnect import ClientGoneError, client_gone, unless_disconnected
from server.http.forward import forward_call, try_forward
from server.http.images import with_fetched_images
from server.http.json_response import JSONBody
from server.http.logit_bias import check_logit_bias_tokens
from server.http.sse import open_stream
from server.http.trace import Trace
from server.namespaces import of_request
from server.runtime import runtime_of

PATH = "/v1/chat/completions"


async def create_chat_completion(request: Request, trace: Trace | None = None) -> Response:
    """A plain Starlette endpoint: the hot path skips FastAPI's dependency machinery (it has no
    dependencies to solve); server/openapi.py documents it from the wire schemas. `trace` is given
    when a journal is kept (`server.control.journal.journaled`)."""
    runtime = runtime_of(request)
    settings = runtime.settings
    namespace = of_request(request.headers, authenticate(request.headers, settings.api_keys))
    check_content_type(request)
    raw = await read_body(request, settings.max_body_bytes)
    notes = None
    if trace is not None:
        trace.raw, notes = raw, trace.notes
    if runtime.forwarders:
        call = forward_call(raw, request, namespace, notes)
        backend = runtime.forwarder(str(call.body["model"])) if call is not None else None
        if backend is not None and call is not None:
            forwarded = await try_forward(backend, call, request, runtime.stream_options)
            if forwarded is not None:
                return forwarded
    body = parse_request(raw, reject_unknown=settings.unknown_fields == "reject")
    route = runtime.route(body.model)
    if completions_model(body.model):
        raise not_a_chat_model()
    tokenizer = runtime.tokenizer_for(route, body.model)
    check_logit_bias_tokens(body.logit_bias, tokenizer.vocabulary_size)
    conversation = to_conversation(body)
    if settings.images == "fetch":
        conversation = await with_fetched_images(conversation)
    chat = plan_chat(body, conversation, tokenizer, runtime.system_fingerprint)
    backend = runtime.backends[route.backend]
    generation = Generation(
        chat.plan,
        backend.stream(
            GenerationRequest(
                conversation,
                n=chat.plan.n,
                tokenizer=tokenizer,
                namespace=namespace,
                headers=request.headers,
                raw=raw,
                notes=notes,
            )
        ),
        Guard(conversation, route.backend, warn_only=settings.contract == "warn"),
    )
    # A backend that may wait (timing, stalls, an upstream) is raced against the client leaving.
    receive = None if backend.instant else request.receive
    try:
        if body.stream:
            obfuscate = not (body.stream_options and body.stream_options.include_obfuscation is False)
            formatter = StreamFormatter(chat, generation, obfuscation=obfuscate)
            return await open_stream(
                formatter.chunks(generation.events()), {}, runtime.stream_options, receive
            )
        return JSONBody(await unless_disconnected(collect(chat, generation, generation.events()), receive))
    except ClientGoneError:
        return client_gone()
