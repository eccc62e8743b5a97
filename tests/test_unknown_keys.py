"""Where the real API drops unknown keys unread and where it answers 400 `Unknown parameter`.

Proven here: inside system, user, assistant, tool and function messages (their own keys, their
text parts, the tool calls an assistant message carries) and inside function definitions an unknown
key is accepted and changes nothing, prompt_tokens included; at the top level, on a tool entry, in
a developer message or its parts, and inside the objects a media part holds, it is still a 400.
The recordings behind each rule are cited in server/wire/chat_request.py's docstring.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from server.chat.validation import parse_request
from server.http import validation
from tests.support.requests import function_tool

CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def history(**extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A system/user/assistant-call/tool turn; `extra` adds keys to the message of that role."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": "What is f?"},
        {"role": "assistant", "content": None, "tool_calls": [dict(CALL, function=dict(CALL["function"]))]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    ]
    for message in messages:
        message.update(extra.get(str(message["role"]), {}))
    return messages


async def prompt_tokens(client: httpx.AsyncClient, body: dict[str, Any]) -> int:
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["usage"]["prompt_tokens"])


def request(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": messages,
        "tools": tools or [function_tool({"type": "object", "properties": {}})],
    }


IGNORED = [
    # (id, what a client added); each is sent over `history()` and the plain tool.
    ("message-keys", {"system": {"type": "text/plain", "charset": "UTF-8"}}),
    ("user-message-keys", {"user": {"type": "text/plain", "charset": "UTF-8"}}),
    ("tool-message-keys", {"tool": {"tool_name": "f"}}),
    (
        "sdk-message-sent-back",
        {"assistant": {"parsed": None, "tool_calls": [dict(CALL, index=0)]}},
    ),
    (
        "tool-call-function-keys",
        {"assistant": {"tool_calls": [dict(CALL, function=dict(CALL["function"], parsed_arguments=None))]}},
    ),
    (
        "text-part-keys",
        {"system": {"content": [{"type": "text", "text": "Be brief.", "additional_properties": {}}]}},
    ),
]


@pytest.mark.parametrize("extra", [case[1] for case in IGNORED], ids=[case[0] for case in IGNORED])
async def test_unknown_keys_inside_messages_are_ignored_and_not_counted(
    client: httpx.AsyncClient, extra: dict[str, dict[str, Any]]
) -> None:
    plain = await prompt_tokens(client, request(history()))
    assert await prompt_tokens(client, request(history(**extra))) == plain


async def test_unknown_keys_beside_a_function_s_parameters_are_ignored_and_not_counted(
    client: httpx.AsyncClient,
) -> None:
    tool = function_tool({"type": "object", "properties": {"a": {"type": "string"}}})
    extended = dict(tool, function=dict(tool["function"], required=[["a"]], returns={"type": "string"}))
    plain = await prompt_tokens(client, request(history(), [tool]))
    assert await prompt_tokens(client, request(history(), [extended])) == plain


REJECTED = [
    # (id, body change, the key's path)
    ("top-level", {"top_k": 5}, "top_k"),
    (
        "tool-entry",
        {"tools": [dict(function_tool({"type": "object"}), cache_control={})]},
        "tools[0].cache_control",
    ),
    (
        "developer-message",
        {"messages": [{"role": "developer", "content": "x", "charset": "UTF-8"}]},
        "messages[0].charset",
    ),
    (
        "developer-message-part",
        {
            "messages": [
                {"role": "developer", "content": [{"type": "text", "text": "x", "cache_control": {}}]}
            ]
        },
        "messages[0].content[0].cache_control",
    ),
    (
        "inside-a-file-part",
        {
            "messages": [
                {"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1", "data": "x"}}]}
            ]
        },
        "messages[0].content[0].file.data",
    ),
    (
        "inside-an-image-part",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "https://x/a.png", "alt": "a"}}],
                }
            ]
        },
        "messages[0].content[0].image_url.alt",
    ),
]


@pytest.mark.parametrize(
    ("change", "param"), [case[1:] for case in REJECTED], ids=[case[0] for case in REJECTED]
)
async def test_unknown_keys_elsewhere_are_a_400(
    client: httpx.AsyncClient, change: dict[str, Any], param: str
) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], **change}
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": f"Unknown parameter: '{param}'.",
        "type": "invalid_request_error",
        "param": param,
        "code": "unknown_parameter",
    }


def test_only_a_body_with_unknown_keys_is_searched_for_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A body its schema knows whole is validated in one pass (server/http/validation.py)."""
    searched: list[object] = []

    def search(model: object, *args: object) -> list[str]:
        searched.append(model)
        return []

    monkeypatch.setattr(validation, "unknown_fields", search)
    plain = {"model": "gpt-4o", "messages": history()}
    parse_request(orjson.dumps(plain), reject_unknown=True)
    assert searched == []
    parse_request(orjson.dumps(dict(plain, messages=history(user={"nickname": "x"}))), reject_unknown=True)
    assert len(searched) == 1
