"""`POST /v1/chat/completions`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backends.base import GenerationRequest
from server.chat.chunks import StreamFormatter
from server.chat.completion import collect
from server.chat.conversation import to_conversation
from server.chat.plan import plan_chat
from server.chat.rules import check_logit_bias_tokens
from server.chat.validation import parse_request
from server.control.journal import Trace, journaled
from server.generation.contract import Guard
from server.generation.pipeline import Generation
from server.http.auth import authenticate
from server.http.body import check_content_type, read_body
from server.http.disconnect import ClientGoneError, unless_disconnected
from server.http.forward import try_forward
from server.http.json_response import JSONBody
from server.http.sse import open_stream
from server.namespaces import of_request
from server.runtime import Runtime

PATH = "/v1/chat/completions"


def route(journal: bool = False) -> Route:
    """A plain Starlette route: the hot path skips FastAPI's dependency machinery (it has no
    dependencies to solve); server/openapi.py documents it from the wire schemas. With a journal,
    the endpoint runs inside `server.control.journal.journaled`; without one, nothing of it is on the path."""
    endpoint = create_journaled_chat_completion if journal else create_chat_completion
    return Route(PATH, endpoint, methods=["POST"], name="create_chat_completion")


async def create_journaled_chat_completion(request: Request) -> Response:
    return await journaled(create_chat_completion, request)


async def create_chat_completion(request: Request, trace: Trace | None = None) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    namespace = of_request(request.headers, authenticate(request.headers, settings.api_keys))
    check_content_type(request)
    raw = await read_body(request, settings.max_body_bytes)
    notes = None
    if trace is not None:
        trace.raw, notes = raw, trace.notes
    if runtime.forwarders:
        forwarded = await try_forward(runtime, raw, request, namespace, notes)
        if forwarded is not None:
            return forwarded
    body = parse_request(raw, reject_unknown=settings.unknown_fields == "reject")
    route = runtime.route(body.model)
    tokenizer = runtime.tokenizer_for(route, body.model)
    check_logit_bias_tokens(body, tokenizer.vocabulary_size)
    chat = plan_chat(body, tokenizer, runtime.system_fingerprint)
    conversation = to_conversation(body)
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
            return await open_stream(formatter.chunks(generation.events()), {}, settings, receive)
        return JSONBody(await unless_disconnected(collect(chat, generation, generation.events()), receive))
    except ClientGoneError:
        return Response(status_code=499)  # nobody is listening any more
