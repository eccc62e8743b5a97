"""Stored chat completions (`store: true`) on the wire: the update body of
`POST /v1/chat/completions/{completion_id}` (the only change the API allows is `metadata`, replaced
whole; `null` clears it), and the objects the store's routes answer with."""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

from server.wire.base import Wire
from server.wire.chat_response import ChatCompletion


class ChatCompletionUpdateRequest(Wire):
    metadata: dict[str, str] | None


class StoredChatCompletion(ChatCompletion):
    """A stored completion as read back: as created, plus its `metadata` (`{}` when none)."""

    metadata: dict[str, str]


class ChatCompletionList(TypedDict):
    """`GET /v1/chat/completions`: one page, oldest first unless `order=desc`."""

    object: Literal["list"]
    data: list[StoredChatCompletion]
    first_id: str | None
    last_id: str | None
    has_more: bool


class ChatCompletionDeleted(TypedDict):
    """`DELETE /v1/chat/completions/{completion_id}`."""

    object: Literal["chat.completion.deleted"]
    id: str
    deleted: Literal[True]


class ChatCompletionStoreMessage(TypedDict):
    """A request message as listed back: id `<completion id>-<index>`; content parts, if sent, in
    `content_parts` (their text joined in `content`). An assistant message keeps its `tool_calls`,
    a tool message its `tool_call_id`."""

    id: str
    role: str
    content: str | None
    name: str | None
    content_parts: list[dict[str, Any]] | None


class ChatCompletionMessageList(TypedDict):
    """`GET /v1/chat/completions/{completion_id}/messages`: one page."""

    object: Literal["list"]
    data: list[ChatCompletionStoreMessage]
    first_id: str | None
    last_id: str | None
    has_more: bool
