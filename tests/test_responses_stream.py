"""The Responses API's event stream, byte by byte and event by event.

Framing: `event: <type>\\n` + `data: <compact JSON>\\n\\n` per event, no `[DONE]`; `type` first then
the keys in alphabetical order; `sequence_number` from 0 without gaps; every event validates against
the SDK's `ResponseStreamEvent`. Order: for a text item, a function call, two parallel calls, a
refusal and a response cut by `max_output_tokens`, the exact sequence of event types, each item
opened and closed before the next, and ids consistent between added, deltas and done.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from backends.base import Backend, Finish, RefusalDelta, TextDelta, ToolCallDelta
from server.generation.events import ReasoningDelta
from tests.conftest import MakeApp
from tests.support.backends import ScriptedBackend
from tests.support.requests import in_process
from tests.support.responses import PATH, check_order, collapse, stream_events, texts, validate_response

TEXT = "Bonjour, ça va? 你好 👋🏽 — streamed in pieces and joined again."
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": name,
        "parameters": {
            "type": "object",
            "properties": {key: {"type": "integer"}},
            "required": [key],
            "additionalProperties": False,
        },
    }
    for name, key in (("f", "a"), ("g", "b"))
]
MESSAGE = [
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta*",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
]
CALL = [
    "response.output_item.added",
    "response.function_call_arguments.delta*",
    "response.function_call_arguments.done",
    "response.output_item.done",
]


async def post_stream(
    make_app: MakeApp, backend: Backend | None = None, **fields: Any
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    async with in_process(make_app(backend=backend)) as http:
        body = {"model": "gpt-4o", "input": TEXT, "stream": True, **fields}
        response = await http.post(PATH, json=body)
    assert response.status_code == 200, response.text
    return response, stream_events(response.content)


async def test_a_text_item_streams_in_the_apis_framing_and_order(make_app: MakeApp) -> None:
    response, events = await post_stream(make_app)
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert b"[DONE]" not in response.content
    assert "你好".encode() in response.content, "non-ASCII is sent as UTF-8, not escaped"
    [message] = check_order(events)
    assert collapse(message) == MESSAGE
    assert texts(events, "response.output_text.delta") == TEXT
    [text_done] = [e for e in events if e["type"] == "response.output_text.done"]
    assert text_done["text"] == TEXT
    final = events[-1]
    assert final["type"] == "response.completed"
    assert final["response"]["status"] == "completed"
    assert final["response"]["output"][0]["content"][0]["text"] == TEXT
    ids = {e["response"]["id"] for e in events if "response" in e}
    assert len(ids) == 1, "every lifecycle event carries the same response"


async def test_every_event_has_its_type_first_then_its_keys_in_alphabetical_order(make_app: MakeApp) -> None:
    _, events = await post_stream(make_app)
    assert any(e["type"] == "response.output_text.delta" for e in events)
    for event in events:
        keys = list(event)
        assert keys == ["type", *sorted(keys[1:])], keys


async def test_every_delta_is_padded_to_a_multiple_of_16_unless_obfuscation_is_off(make_app: MakeApp) -> None:
    _, events = await post_stream(make_app)
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert deltas
    assert all((len(e["delta"]) + len(e["obfuscation"])) % 16 == 0 for e in deltas)
    _, events = await post_stream(make_app, stream_options={"include_obfuscation": False})
    assert not any("obfuscation" in e for e in events)


async def test_a_function_call_streams_as_one_item(make_app: MakeApp) -> None:
    _, events = await post_stream(make_app, tools=TOOLS, tool_choice={"type": "function", "name": "g"})
    [call] = check_order(events)
    assert collapse(call) == CALL
    added = events[2]["item"]
    assert added["arguments"] == ""
    assert added["name"] == "g"
    assert added["call_id"].startswith("call_")
    arguments = texts(events, "response.function_call_arguments.delta")
    [args_done] = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert args_done["arguments"] == arguments
    assert "name" not in args_done, "the real event has no name"
    value = json.loads(arguments)
    assert list(value) == ["b"]
    assert isinstance(value["b"], int)
    assert events[-1]["response"]["output"][0]["status"] == "completed"


async def test_two_parallel_calls_stream_one_after_the_other(make_app: MakeApp) -> None:
    script = [
        ToolCallDelta(0, "", id="call_aaaaaaaaaaaaaaaaaaaaaaaa", name="f", parallel=True),
        ToolCallDelta(0, '{"a":'),
        ToolCallDelta(0, "1}"),
        ToolCallDelta(1, '{"b":2}', id="call_bbbbbbbbbbbbbbbbbbbbbbbb", name="g"),
        Finish("tool_calls"),
    ]
    _, events = await post_stream(make_app, ScriptedBackend(script), tools=TOOLS)
    first, second = check_order(events)
    assert collapse(first) == collapse(second) == CALL
    output = events[-1]["response"]["output"]
    assert [(item["call_id"], item["name"], item["arguments"]) for item in output] == [
        ("call_aaaaaaaaaaaaaaaaaaaaaaaa", "f", '{"a":1}'),
        ("call_bbbbbbbbbbbbbbbbbbbbbbbb", "g", '{"b":2}'),
    ]
    assert output[0]["id"] != output[1]["id"]
    assert events[-1]["type"] == "response.completed"


async def test_a_refusal_streams_as_a_refusal_part(make_app: MakeApp) -> None:
    script = [RefusalDelta("I can't "), RefusalDelta("help with that."), Finish("stop")]
    _, events = await post_stream(make_app, ScriptedBackend(script))
    [message] = check_order(events)
    assert collapse(message) == [
        "response.output_item.added",
        "response.content_part.added",
        "response.refusal.delta*",
        "response.refusal.done",
        "response.content_part.done",
        "response.output_item.done",
    ]
    assert events[3]["part"] == {"type": "refusal", "refusal": ""}
    [done] = [e for e in events if e["type"] == "response.refusal.done"]
    assert done["refusal"] == texts(events, "response.refusal.delta") == "I can't help with that."
    assert events[-1]["response"]["output"][0]["content"] == [
        {"type": "refusal", "refusal": "I can't help with that."}
    ]


async def test_text_then_a_call_are_two_items_in_order(make_app: MakeApp) -> None:
    script = [TextDelta("Let me check."), ToolCallDelta(0, '{"a":1}', id="call_x", name="f"), Finish()]
    _, events = await post_stream(make_app, ScriptedBackend(script), tools=TOOLS)
    message, call = check_order(events)
    assert collapse(message) == MESSAGE
    assert collapse(call) == CALL


@pytest.mark.parametrize("stream", [True, False])
async def test_max_output_tokens_ends_the_response_incomplete(make_app: MakeApp, stream: bool) -> None:
    long_input = " ".join(f"word{i}" for i in range(200))
    async with in_process(make_app()) as http:
        body = {"model": "gpt-4o", "input": long_input, "max_output_tokens": 16, "stream": stream}
        response = await http.post(PATH, json=body)
    assert response.status_code == 200
    if stream:
        events = stream_events(response.content)
        [message] = check_order(events)
        assert collapse(message) == MESSAGE
        assert events[-1]["type"] == "response.incomplete"
        final = events[-1]["response"]
    else:
        final = response.json()
        validate_response(final)
    assert final["status"] == "incomplete"
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    [item] = final["output"]
    assert item["status"] == "incomplete"
    assert 0 < final["usage"]["output_tokens"] <= 16
    assert long_input.startswith(item["content"][0]["text"])
    assert final["completed_at"] is not None


async def test_a_reasoning_summary_streams_before_the_message(make_app: MakeApp) -> None:
    script = [ReasoningDelta("Thinking "), ReasoningDelta("hard."), TextDelta("Done."), Finish()]
    _, events = await post_stream(
        make_app, ScriptedBackend(script), model="o3-mini", reasoning={"summary": "auto"}
    )
    reasoning, message = check_order(events)
    assert collapse(reasoning) == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta*",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
    ]
    assert collapse(message) == MESSAGE
    output = events[-1]["response"]["output"]
    assert output[0]["summary"] == [{"type": "summary_text", "text": "Thinking hard."}]
