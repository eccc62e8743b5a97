"""Stored chat completions (`store: true`): what is kept when one is created, and the routes that
read it back, per caller namespace: retrieve, list (`model`, `metadata[key]=value`, `after`,
`limit`, `order`), update metadata, delete, and the request's messages.

A stored completion is read back as created, plus its `metadata` (`{}` when none was given): the
API's create response does not carry metadata, the stored object does. Messages are listed with
ids `<completion id>-<index>`, as the API's; a message given as content parts has them in
`content_parts` and its text parts joined in `content`."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.errors import APIError
from server.http.auth import authenticate
from server.http.body import check_content_type, read_body
from server.http.json_response import JSONBody
from server.http.pagination import cursor_of, page, page_of
from server.http.validation import parse_body
from server.namespaces import of_request
from server.runtime import Runtime, runtime_of
from server.state.completions import StoredCompletion
from server.wire.chat_response import ChatCompletion
from server.wire.chat_stored import ChatCompletionUpdateRequest


def not_found(completion_id: str) -> APIError:
    # Our words: no recording of the API's answer was found (emulators word it variously); they
    # follow the Responses API's own ("Response with id 'resp_...' not found.").
    return APIError(404, f"Chat completion with id '{completion_id}' not found.")


def stored(
    completion: ChatCompletion, messages: list[Any], metadata: dict[str, str] | None
) -> StoredCompletion:
    """What `store: true` keeps: `messages` are the request's as sent (JSON)."""
    body: dict[str, Any] = {**completion, "metadata": dict(metadata or {})}
    cid = completion["id"]
    return StoredCompletion(cid, body, [_message(f"{cid}-{i}", m) for i, m in enumerate(messages)])


def _message(message_id: str, message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    parts = content if isinstance(content, list) else None
    if parts is not None:
        texts = [p.get("text", "") for p in parts if isinstance(p, dict) and p.get("type") == "text"]
        content = "".join(texts) if texts else None
    listed = {
        "id": message_id,
        "role": message.get("role"),
        "content": content,
        "name": message.get("name"),
        "content_parts": parts,
    }
    for key in ("tool_calls", "tool_call_id", "function_call", "refusal"):
        if message.get(key) is not None:
            listed[key] = message[key]
    return listed


def _caller(request: Request, runtime: Runtime) -> str:
    return of_request(request.headers, authenticate(request.headers, runtime.settings.api_keys))


async def _record(request: Request) -> tuple[Runtime, str, StoredCompletion]:
    runtime = runtime_of(request)
    namespace = _caller(request, runtime)
    completion_id = request.path_params["completion_id"]
    record = await runtime.completions.get(namespace, completion_id)
    if record is None:
        raise not_found(completion_id)
    return runtime, namespace, record


async def retrieve_chat_completion(request: Request) -> Response:
    _, _, record = await _record(request)
    return JSONBody(record.body)


async def update_chat_completion(request: Request) -> Response:
    runtime, namespace, record = await _record(request)
    check_content_type(request.headers)
    raw = await read_body(request, runtime.settings.max_body_bytes)
    body = parse_body(
        raw, ChatCompletionUpdateRequest, reject_unknown=runtime.settings.unknown_fields == "reject"
    )
    updated = await runtime.completions.update(namespace, record.id, dict(body.metadata or {}))
    if updated is None:  # deleted meanwhile
        raise not_found(record.id)
    return JSONBody(updated)


async def delete_chat_completion(request: Request) -> Response:
    runtime, namespace, record = await _record(request)
    await runtime.completions.delete(namespace, record.id)
    return JSONBody({"object": "chat.completion.deleted", "id": record.id, "deleted": True})


async def list_chat_completion_messages(request: Request) -> Response:
    _, _, record = await _record(request)
    return JSONBody(page(record.messages, cursor_of(request.query_params)))


async def list_chat_completions(request: Request) -> Response:
    runtime = runtime_of(request)
    namespace = _caller(request, runtime)
    query = request.query_params
    cursor = cursor_of(query)
    model = query.get("model")
    wanted = {
        key[len("metadata[") : -1]: value
        for key, value in query.multi_items()
        if key.startswith("metadata[") and key.endswith("]")
    }

    async def chosen() -> AsyncGenerator[dict[str, Any], None]:
        async for body in runtime.completions.bodies(namespace, cursor.order):
            if (model is None or body["model"] == model) and all(
                body["metadata"].get(k) == v for k, v in wanted.items()
            ):
                yield body

    return JSONBody(await page_of(chosen(), cursor))
