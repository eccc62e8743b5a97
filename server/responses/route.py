"""The Responses API's routes: create (whole, streamed, background), retrieve (also as a stream of
a background response's events), delete, cancel, input items, input token counts and compaction."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from server.errors import APIError, invalid_request
from server.generation.admission import check_window
from server.generation.conversation import Conversation, Message
from server.generation.prompt import count_prompt_tokens
from server.http.auth import authenticate
from server.http.disconnect import ClientGoneError, client_gone, unless_disconnected
from server.http.images import with_fetched_images
from server.http.json_response import ASCIIJSONBody
from server.http.sse import event_stream, open_stream
from server.http.trace import Trace
from server.http.validation import parse_body
from server.namespaces import of_request
from server.responses.conversation import input_messages, to_conversation
from server.responses.create import Turn, continued, parse_create, start_turn
from server.responses.ids import ResponseIds
from server.responses.rules import check_inputs
from server.responses.run import ResponsesFraming, collect, events, run_in_background, sse, stored
from server.runtime import Runtime, runtime_of
from server.state.responses import Progress, StoredResponse
from server.wire.responses_input import ROLES
from server.wire.responses_request import PROMPT_STAND_IN_MODEL, CompactRequest, InputTokensRequest

PATH = "/v1/responses"


def not_found(response_id: str) -> APIError:
    return APIError(404, f"Response with id '{response_id}' not found.")


def _caller(request: Request, runtime: Runtime) -> str:
    return of_request(request.headers, authenticate(request.headers, runtime.settings.api_keys))


async def _chained(runtime: Runtime, namespace: str, previous: str | None) -> list[Message]:
    if previous is None:
        return []
    return continued(await runtime.responses.get(namespace, previous), previous)


async def create_response(request: Request, trace: Trace | None = None) -> Response:
    runtime = runtime_of(request)
    intake = await runtime.intake(request, trace)
    if runtime.forwarders:  # a backend may pass an upstream's answer through (most servers have none)
        forwarded = await runtime.forwarded(request, intake, "responses", asked)
        if forwarded is not None:
            return forwarded
    namespace, raw, notes = intake.namespace, intake.raw, intake.notes
    body = parse_create(raw, runtime)
    history = await _chained(runtime, namespace, body.previous_response_id)
    wire: dict[str, Any] = orjson.loads(raw)
    turn = await start_turn(
        runtime,
        namespace,
        body,
        history,
        raw=raw,
        wire=wire,
        headers=request.headers,
        notes=notes,
        scope=request.scope,
    )
    if runtime.limiter is not None:
        tokens = turn.writer.plan.plan.prompt_tokens + (body.max_output_tokens or 0)
        await runtime.limiter.admit(request, namespace, body.model, tokens)
    if body.background:
        return await _start_background(runtime, namespace, turn)
    receive = None if turn.instant else request.receive
    try:
        if body.stream:
            chunks = _streamed(runtime, namespace, turn)
            framing = ResponsesFraming(turn.writer)
            return await open_stream(chunks, {}, runtime.stream_options, receive, framing)
        whole = await unless_disconnected(collect(turn.writer, turn.generation), receive)
    except ClientGoneError:
        return client_gone()
    if turn.keep:
        await runtime.responses.put(namespace, stored(turn))
    return ASCIIJSONBody(whole)


async def asked(runtime: Runtime, namespace: str, raw: bytes) -> list[Conversation]:
    """What a `response.create` asks, with the history it continues, as runtime fixtures match it
    (`Runtime.forwarded`). A `previous_response_id` this server does not hold is refused here, so
    such a request is forwarded: the upstream answered what it continues."""
    body = parse_create(raw, runtime)
    history = await _chained(runtime, namespace, body.previous_response_id)
    return [to_conversation(body, body.model, history, stream=bool(body.stream), wire=orjson.loads(raw))]


async def _streamed(runtime: Runtime, namespace: str, turn: Turn) -> AsyncGenerator[bytes, None]:
    async for event in events(turn.writer, turn.generation):
        yield sse(event)
    if turn.keep:
        await runtime.responses.put(namespace, stored(turn))


async def _start_background(runtime: Runtime, namespace: str, turn: Turn) -> Response:
    """A background response: answered `queued` at once (or streamed from its first event), run to
    its end whatever the client does, readable meanwhile by polling or streaming."""
    writer = turn.writer
    record = stored(turn)
    record.history = turn.history  # until it ends: then what it continued plus its input and output

    async def run(progress: Progress) -> None:
        await run_in_background(progress, writer, turn.generation, turn.history)

    await runtime.responses.run(namespace, record, run)
    if turn.body.stream:
        return _replay(runtime, namespace, record.id, -1)
    queued = writer.snapshot(whole=True)
    queued["status"] = "queued"
    return ASCIIJSONBody(queued)


def _replay(runtime: Runtime, namespace: str, response_id: str, after: int) -> Response:
    """A background response's events after sequence number `after`, following it until it ends."""
    events = runtime.responses.follow(namespace, response_id, after)
    return event_stream(events, runtime.stream_options)


async def _record(request: Request, runtime: Runtime, response_id: str) -> tuple[str, StoredResponse]:
    namespace = _caller(request, runtime)
    record = await runtime.responses.get(namespace, response_id)
    if record is None or not record.readable:
        raise not_found(response_id)
    return namespace, record


async def retrieve_response(request: Request) -> Response:
    runtime = runtime_of(request)
    response_id = request.path_params["response_id"]
    namespace, record = await _record(request, runtime, response_id)
    if request.query_params.get("stream") == "true":
        # A background response may not have run yet (no events so far): its flag says what it is.
        if not record.body.get("background"):
            raise invalid_request("Only background responses can be streamed on retrieval.", param="stream")
        after = _starting_after(request.query_params.get("starting_after"))
        return _replay(runtime, namespace, response_id, after)
    return ASCIIJSONBody(record.body)


def _starting_after(value: str | None) -> int:
    """The last sequence number the client has (-1: none); a negative one would index from the end."""
    if value is None:
        return -1
    try:
        number = int(value)
    except ValueError:
        raise invalid_request(
            f"Invalid 'starting_after': '{value}'. Expected an integer.", param="starting_after"
        ) from None
    if number < 0:
        raise invalid_request(
            f"Invalid 'starting_after': integer below minimum value. Expected a value >= 0, but got {number} "
            "instead.",
            param="starting_after",
            code="integer_below_min_value",
        )
    return number


async def delete_response(request: Request) -> Response:
    runtime = runtime_of(request)
    response_id = request.path_params["response_id"]
    namespace, _ = await _record(request, runtime, response_id)
    await runtime.responses.delete(namespace, response_id)
    return ASCIIJSONBody({"id": response_id, "object": "response.deleted", "deleted": True})


async def cancel_response(request: Request) -> Response:
    runtime = runtime_of(request)
    response_id = request.path_params["response_id"]
    namespace, record = await _record(request, runtime, response_id)
    if not record.body.get("background"):
        raise invalid_request("Only responses created with background=true can be cancelled.")
    ended = await runtime.responses.cancel(namespace, response_id) if record.running else record
    return ASCIIJSONBody((ended or record).body)


async def list_input_items(request: Request) -> Response:
    runtime = runtime_of(request)
    response_id = request.path_params["response_id"]
    _, record = await _record(request, runtime, response_id)
    query = request.query_params
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid_request(
            f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
            param="order",
            code="invalid_value",
        )
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        raise invalid_request("Invalid 'limit': expected an integer.", param="limit") from None
    if not 1 <= limit <= 100:
        raise invalid_request(
            f"Invalid 'limit': integer out of range. Expected a value between 1 and 100, but got {limit} instead.",
            param="limit",
            code="integer_out_of_range",
        )
    items = list(record.input_items if order == "asc" else reversed(record.input_items))
    after = query.get("after")
    if after is not None:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    page = items[:limit]
    return ASCIIJSONBody(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > limit,
        }
    )


async def count_input_tokens(request: Request) -> Response:
    runtime = runtime_of(request)
    settings = runtime.settings
    intake = await runtime.intake(request)
    namespace, raw = intake.namespace, intake.raw
    body = parse_body(
        raw,
        InputTokensRequest,
        reject_unknown=settings.unknown_fields == "reject",
        roles=ROLES,
        rules=check_inputs,
    )
    model = body.model or PROMPT_STAND_IN_MODEL
    route = runtime.route(model)
    # Only a model that exists is counted for (models: strict); an input over its window is still
    # counted, as the API counts it (stdapi-ai/stdapi.ai#297: a 281k-token input is counted upstream
    # where a gateway refused it), for a client asks precisely to learn it no longer fits.
    runtime.profile(route, model)
    tokenizer = runtime.tokenizer_for(route, model)
    history = await _chained(runtime, namespace, body.previous_response_id)
    conversation = to_conversation(body, model, history)
    if settings.images == "fetch":
        conversation = await with_fetched_images(conversation)
    return ASCIIJSONBody(
        {"object": "response.input_tokens", "input_tokens": count_prompt_tokens(conversation, tokenizer)}
    )


async def compact_response(request: Request) -> Response:
    """`POST /v1/responses/compact`: the conversation so far as its input messages and one opaque
    compaction item that stands for the rest."""
    runtime = runtime_of(request)
    settings = runtime.settings
    intake = await runtime.intake(request)
    namespace, raw = intake.namespace, intake.raw
    body = parse_body(raw, CompactRequest, reject_unknown=settings.unknown_fields == "reject", roles=ROLES)
    route = runtime.route(body.model)
    profile = runtime.profile(route, body.model)
    tokenizer = runtime.tokenizer_for(route, body.model)
    history = await _chained(runtime, namespace, body.previous_response_id)
    messages = [*history, *input_messages(body.input)]
    created = int(time.time())
    ids = ResponseIds(created)
    kept = [
        {
            "id": ids.make("msg"),
            "type": "message",
            "status": "completed",
            "content": [{"type": "input_text", "text": message.text}],
            "role": message.role,
        }
        for message in messages
        if message.role == "user" and message.text
    ]
    summary = orjson.dumps([message.text for message in messages]).hex()
    prompt = count_prompt_tokens(to_conversation(body_for_count(body), body.model, history), tokenizer)
    # The model reads the whole conversation to compact it, so it must fit the window, refused in
    # the words of `POST /v1/responses` (our choice: no recording of compact's own refusal was found).
    check_window(profile, prompt, None, "responses")
    output_tokens = max(1, len(summary) // 64)
    return ASCIIJSONBody(
        {
            "id": ids.make("resp"),
            "object": "response.compaction",
            "created_at": created,
            "output": [*kept, {"id": ids.make("cmp"), "type": "compaction", "encrypted_content": summary}],
            "usage": {
                "input_tokens": prompt,
                "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": 0},
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": prompt + output_tokens,
            },
        }
    )


def body_for_count(body: CompactRequest) -> InputTokensRequest:
    return InputTokensRequest(model=body.model, input=body.input, instructions=body.instructions)
