"""What the in-process journal keeps of a chat request for verify: the client's bytes, not the conversation.

Proven: once a chat request is journaled its entry holds no conversation, only the bytes; the
conversation verify then makes from them says everything the one the backend got said (what the
shared journal writes of it, `server/state/subjects.py`, is equal), for a body with tools, calls,
names, parts, a format and an unknown key the server accepts; and verify still matches such an
entry on its messages, its tools and its parameters, without keeping the conversation it made. A Responses turn's conversation (the history
it continues is not in its bytes) is kept as it was.
"""

from __future__ import annotations

from typing import Any

import orjson

from server.app import create_app
from server.chat.conversation import conversation_of, to_conversation
from server.chat.validation import parse_request
from server.config import load_settings
from server.state.requests import RequestEntry, Subject
from server.state.subjects import encode
from tests.support.requests import chat_body, in_process

KEY = {"Authorization": "Bearer sk-a"}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
RICH = chat_body(
    [
        {"role": "system", "content": "Be brief.", "name": "house"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Weather "}, {"type": "text", "text": "in Paris?"}],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny."},
        {"role": "user", "content": "And tomorrow?", "name": "ann"},
    ],
    tools=[WEATHER],
    tool_choice="auto",
    temperature=0.5,
    seed=7,
    logit_bias={"1234": -5},
    response_format={"type": "json_object"},
    metadata={"suite": "journal"},
)


def app_with(**settings: Any) -> Any:
    return create_app(load_settings(env={}, overrides=settings))


def entries(app: Any) -> list[RequestEntry]:
    log = app.state.runtime.requests
    return [entry for kept in log._entries.values() for entry in kept]


def test_the_conversation_made_again_says_what_the_first_said() -> None:
    raw = orjson.dumps(RICH)
    first = to_conversation(parse_request(raw, reject_unknown=True))
    again = Subject(first, raw, conversation_of)
    again.release()
    assert again.held is None
    assert encode(again) == encode(Subject(first, raw))
    assert again.conversation is not None
    assert again.conversation.logit_bias == {1234: -5}


def test_an_accepted_unknown_key_is_in_the_parameters_made_again() -> None:
    raw = orjson.dumps(chat_body("hi", not_a_parameter=1))
    first = to_conversation(parse_request(raw, reject_unknown=False))
    assert encode(Subject(None, raw, conversation_of))["conversation"]["params"] == first.wire()
    assert first.wire()["not_a_parameter"] == 1


async def test_a_journaled_chat_request_keeps_its_bytes_and_verify_still_matches_it() -> None:
    app = app_with()
    async with in_process(app) as http:
        answer = await http.post("/v1/chat/completions", json=RICH, headers=KEY)
        assert answer.status_code == 200, answer.text
        (entry,) = entries(app)
        assert entry.subject.held is None  # nothing but the bytes is kept
        assert entry.subject.raw == orjson.dumps(RICH)
        match = {
            "last_user": {"contains": "tomorrow"},
            "tools": {"include": ["get_weather"]},
            "params": {"temperature": 0.5, "seed": 7},
        }
        result = (
            await http.post("/_chatdouble/verify", json={"match": match, "count": {"eq": 1}}, headers=KEY)
        ).json()
        assert result["ok"] is True, result
        missed = {"match": {"params": {"temperature": 0.7}}, "count": {"eq": 1}}
        result = (await http.post("/_chatdouble/verify", json=missed, headers=KEY)).json()
        assert result["ok"] is False
        assert entry.subject.held is None  # made again for each verification, and not kept


async def test_a_responses_turn_keeps_its_conversation() -> None:
    app = app_with()
    async with in_process(app) as http:
        answer = await http.post("/v1/responses", json={"model": "gpt-4o", "input": "hello"}, headers=KEY)
        assert answer.status_code == 200, answer.text
        (entry,) = entries(app)
    assert entry.subject.held is not None
    assert entry.subject.held.last_user_text() == "hello"
