"""One `response.create`, however it came (a POST body, a WebSocket frame): the request read with the
API's rules, the history its `previous_response_id` continues, and the pipeline and writer that will
run it. Both transports go through here, so a response is the same whichever way it was asked for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backends.base import GenerationRequest, Notes
from server.errors import APIError, invalid_request
from server.generation.contract import Guard
from server.generation.conversation import Message
from server.generation.pipeline import Generation
from server.http.images import with_fetched_images
from server.http.validation import parse_body
from server.responses.conversation import to_conversation
from server.responses.plan import plan_response
from server.responses.rules import check_create, check_for_model
from server.responses.writer import ResponseWriter
from server.runtime import Runtime
from server.state.responses import StoredResponse
from server.wire.responses_input import ROLES
from server.wire.responses_request import ResponseCreateRequest


@dataclass(slots=True)
class Turn:
    """A response ready to run: its request, what it continues, its writer and its pipeline."""

    body: ResponseCreateRequest
    history: list[Message]
    writer: ResponseWriter
    generation: Generation
    instant: bool  # the backend answers without waiting: nothing to race a disconnect against

    @property
    def keep(self) -> bool:
        return self.body.store is not False


def parse_create(raw: bytes, runtime: Runtime) -> ResponseCreateRequest:
    return parse_body(
        raw,
        ResponseCreateRequest,
        reject_unknown=runtime.settings.unknown_fields == "reject",
        roles=ROLES,
        rules=check_create,
    )


def previous_not_found(previous: str) -> APIError:
    return invalid_request(
        f"Previous response with id '{previous}' not found.",
        param="previous_response_id",
        code="previous_response_not_found",
    )


def continued(record: StoredResponse | None, previous: str) -> list[Message]:
    """The conversation a stored response ends, for a request chained to it; a response kept only
    while it ran in the background (`store: false`) is gone once it ends."""
    if record is None or not record.readable:
        raise previous_not_found(previous)
    return list(record.history)


async def start_turn(
    runtime: Runtime,
    namespace: str,
    body: ResponseCreateRequest,
    history: list[Message],
    *,
    raw: bytes,
    wire: dict[str, Any],
    headers: Mapping[str, str],
    notes: Notes | None = None,
    scope: Mapping[str, Any] | None = None,
) -> Turn:
    """Route the model, map the request into a conversation, plan it and open its backend's stream."""
    route = runtime.route(body.model)
    profile = runtime.profile(route, body.model)
    check_for_model(body, profile)
    tokenizer = runtime.tokenizer_for(route, body.model)
    conversation = to_conversation(body, body.model, history, stream=bool(body.stream), wire=wire)
    if runtime.settings.images == "fetch":
        conversation = await with_fetched_images(conversation)
    plan = plan_response(body, conversation, tokenizer, profile)
    backend = await runtime.backend(route, namespace)
    shaping = await runtime.shaping(route, body.model, namespace, scope) if runtime.shapes else None
    request = GenerationRequest(
        conversation, n=1, tokenizer=tokenizer, namespace=namespace, headers=headers, raw=raw, notes=notes
    )
    generation = Generation(
        plan.plan,
        backend.stream(request),
        Guard(conversation, route.backend, warn_only=runtime.settings.contract == "warn"),
        extras=True,
        announced=backend.announces,
        shaping=shaping,
    )
    return Turn(body, history, ResponseWriter(plan), generation, backend.instant and shaping is None)
