"""The official `openai` SDK's sync client on the Responses API, against a real server on loopback.

Every body and every streamed event is read raw and validated strictly against the SDK's models (no
undeclared keys beyond the few the real API sends, `tests/support/responses.py`) before the SDK's
own view is checked: `responses.create` whole and streamed, the `.stream()` helper and its events,
`.parse()` with a pydantic model, retrieve / delete / `input_items.list`, `previous_response_id`
chains and a function-tool loop, streamed and not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseFunctionToolCall,
    ResponseIncompleteEvent,
    ResponseTextDeltaEvent,
)
from pydantic import BaseModel

from backends.base import BackendError, TextDelta
from tests.conftest import MakeApp
from tests.servers import LiveServer, serve
from tests.support.backends import Raise, ScriptedBackend
from tests.support.contract import API_KEY, MODEL, PROMPT, WEATHER, check_arguments, check_headers
from tests.support.responses import (
    check_order,
    collapse,
    stream_events,
    validate_item_list,
    validate_response,
)

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": WEATHER,
}


class Forecast(BaseModel):
    city: str
    days: int
    rain: bool


@pytest.fixture
def sdk(live_server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=live_server.base_url, api_key=API_KEY, max_retries=0) as client:
        yield client


def create(sdk: openai.OpenAI, **params: Any) -> tuple[dict[str, Any], Response]:
    """The raw body of a `responses.create`, validated, and the SDK's parsed view of it."""
    raw = sdk.responses.with_raw_response.create(**{"model": MODEL, "input": PROMPT, **params})
    check_headers(raw.headers)
    body: dict[str, Any] = json.loads(raw.http_response.content)
    validate_response(body)
    parsed = raw.parse()
    assert parsed.to_dict() == body, "the SDK's object round-trips the body"
    return body, parsed


def raw_stream(sdk: openai.OpenAI, **params: Any) -> list[dict[str, Any]]:
    """The events of a streamed `responses.create`, read as bytes and validated."""
    params = {"model": MODEL, "input": PROMPT, **params}
    with sdk.responses.with_streaming_response.create(stream=True, **params) as response:
        check_headers(response.headers)
        return stream_events(b"".join(response.iter_bytes()))


def test_create_answers_with_one_message(sdk: openai.OpenAI) -> None:
    body, response = create(sdk, instructions="Be brief.")
    assert response.status == "completed"
    assert response.output_text == PROMPT
    [message] = response.output
    assert message.type == "message"
    assert message.id.startswith("msg_")
    assert message.role == "assistant"
    assert response.instructions == "Be brief."
    assert response.usage is not None
    assert response.usage.input_tokens > 0
    assert response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert body["billing"] == {"payer": "developer"}
    assert body["store"] is True


def test_a_streamed_create_is_the_same_response_as_events(sdk: openai.OpenAI) -> None:
    events = raw_stream(sdk)
    [message] = check_order(events)
    assert collapse(message)[2] == "response.output_text.delta*"
    with sdk.responses.create(model=MODEL, input=PROMPT, stream=True) as stream:
        parsed = list(stream)
    assert [event.type for event in parsed][:2] == ["response.created", "response.in_progress"]
    assert "".join(e.delta for e in parsed if isinstance(e, ResponseTextDeltaEvent)) == PROMPT
    final = parsed[-1]
    assert isinstance(final, ResponseCompletedEvent)
    assert final.response.output_text == PROMPT
    assert [event.sequence_number for event in parsed] == list(range(len(parsed)))


def test_the_stream_helper_gives_text_deltas_and_the_final_response(sdk: openai.OpenAI) -> None:
    with sdk.responses.stream(model=MODEL, input=PROMPT) as stream:
        deltas = [event for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(event.delta for event in deltas) == PROMPT
    assert deltas[-1].snapshot == PROMPT, "the helper accumulates the text it streams"
    assert final.output_text == PROMPT
    assert final.status == "completed"
    assert final.usage is not None


def test_parse_fills_a_pydantic_model_whole_and_streamed(sdk: openai.OpenAI) -> None:
    parsed = sdk.responses.parse(model=MODEL, input=PROMPT, text_format=Forecast)
    assert isinstance(parsed.output_parsed, Forecast)
    assert Forecast.model_validate_json(parsed.output_text) == parsed.output_parsed
    assert parsed.text is not None
    assert parsed.text.format is not None
    assert parsed.text.format.type == "json_schema"
    with sdk.responses.stream(model=MODEL, input=PROMPT, text_format=Forecast) as stream:
        final = stream.get_final_response()
    assert isinstance(final.output_parsed, Forecast)


def test_retrieve_delete_and_input_items(sdk: openai.OpenAI) -> None:
    body, response = create(sdk, input=[{"role": "user", "content": PROMPT}])
    raw = sdk.responses.with_raw_response.retrieve(response.id)
    assert json.loads(raw.http_response.content) == body, "retrieve returns the created object"
    listed = sdk.responses.input_items.with_raw_response.list(response.id)
    page = validate_item_list(json.loads(listed.http_response.content))
    [item] = page.data
    assert item.type == "message"
    assert item.role == "user"
    assert item.content[0].type == "input_text"
    assert item.content[0].text == PROMPT
    assert page.first_id == page.last_id == item.id
    assert page.has_more is False
    assert sdk.responses.delete(response.id) is None
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.responses.retrieve(response.id)
    assert missing.value.body == {
        "message": f"Response with id '{response.id}' not found.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(openai.NotFoundError):
        sdk.responses.delete(response.id)


def test_input_items_page_through_in_both_orders(sdk: openai.OpenAI) -> None:
    words = ["one", "two", "three"]
    _, response = create(sdk, input=[{"role": "user", "content": word} for word in words])
    newest_first = [item.content[0].text for item in sdk.responses.input_items.list(response.id)]
    assert newest_first == words[::-1]
    pages = sdk.responses.input_items.list(response.id, order="asc", limit=2)
    assert pages.has_more is True
    every = [item.content[0].text for item in pages]  # the SDK fetches the next page itself
    assert every == words


def test_input_items_list_every_kind_of_item_as_the_sdk_types_it(sdk: openai.OpenAI) -> None:
    items: list[dict[str, Any]] = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "input_text", "text": PROMPT}]},
        {"role": "assistant", "content": "Let me look."},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "Sunny"},
        {"type": "custom_tool_call", "call_id": "call_2", "name": "grep", "input": "x"},
        {"type": "custom_tool_call_output", "call_id": "call_2", "output": "none"},
    ]
    _, response = create(sdk, input=items)
    raw = sdk.responses.input_items.with_raw_response.list(response.id, order="asc")
    body = json.loads(raw.http_response.content)
    page = validate_item_list(body)
    assert [item.type for item in page.data] == [item.get("type", "message") for item in items]
    for listed in body["data"]:
        assert list(listed)[:2] == ["id", "type"]
    assistant = body["data"][2]
    assert assistant["content"] == [
        {"type": "output_text", "annotations": [], "logprobs": [], "text": "Let me look."}
    ]
    assert body["data"][4] == {
        "id": body["data"][4]["id"],
        "type": "function_call_output",
        "status": "completed",
        "call_id": "call_1",
        "output": "Sunny",
    }


def test_previous_response_id_chains_the_conversation(sdk: openai.OpenAI) -> None:
    _, first = create(sdk, input="first question")
    body, second = create(sdk, input="second question", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert second.output_text == "second question"
    alone = sdk.responses.input_tokens.count(model=MODEL, input="second question")
    assert second.usage is not None
    assert second.usage.input_tokens > alone.input_tokens, "the chained turn counts the earlier one"
    chained = sdk.responses.input_tokens.count(
        model=MODEL, input="second question", previous_response_id=first.id
    )
    assert chained.input_tokens == second.usage.input_tokens
    assert body["previous_response_id"] == first.id


def test_a_function_tool_loop(sdk: openai.OpenAI) -> None:
    _, asked = create(sdk, tools=[WEATHER_TOOL], tool_choice="required")
    [call] = asked.output
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.name == "get_weather"
    assert call.call_id.startswith("call_")
    assert call.status == "completed"
    check_arguments("get_weather", call.arguments)
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 21 C"}
    _, answered = create(sdk, input=[result], previous_response_id=asked.id, tools=[WEATHER_TOOL])
    assert answered.output_text == PROMPT, "echo answers the user's question once the call is answered"
    # The same loop without storage: the whole conversation sent back each turn.
    history = [{"role": "user", "content": PROMPT}, call.model_dump(exclude_none=True), result]
    _, resent = create(sdk, input=history, tools=[WEATHER_TOOL], store=False)
    assert resent.output_text == PROMPT


def test_a_streamed_function_tool_loop(sdk: openai.OpenAI) -> None:
    events = raw_stream(sdk, tools=[WEATHER_TOOL], tool_choice={"type": "function", "name": "get_weather"})
    [call_events] = check_order(events)
    assert collapse(call_events)[1] == "response.function_call_arguments.delta*"
    with sdk.responses.stream(
        model=MODEL, input=PROMPT, tools=[WEATHER_TOOL], tool_choice="required"
    ) as stream:
        argument_deltas = [e for e in stream if e.type == "response.function_call_arguments.delta"]
        asked = stream.get_final_response()
    [call] = asked.output
    assert isinstance(call, ResponseFunctionToolCall)
    assert argument_deltas[-1].snapshot == call.arguments
    check_arguments("get_weather", call.arguments)
    output = {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny"}
    with sdk.responses.stream(model=MODEL, input=[output], previous_response_id=asked.id) as stream:
        answered = stream.get_final_response()
    assert answered.output_text == PROMPT


def test_max_output_tokens_cuts_the_response(sdk: openai.OpenAI) -> None:
    long_input = " ".join(f"word{i}" for i in range(100))
    _, whole = create(sdk, input=long_input, max_output_tokens=16)
    assert whole.status == "incomplete"
    assert whole.incomplete_details is not None
    assert whole.incomplete_details.reason == "max_output_tokens"
    with sdk.responses.create(model=MODEL, input=long_input, max_output_tokens=16, stream=True) as stream:
        last = list(stream)[-1]
    assert isinstance(last, ResponseIncompleteEvent)
    assert last.response.output_text == whole.output_text


def test_errors_in_the_apis_words(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as chained:
        sdk.responses.create(model=MODEL, input="x", previous_response_id="resp_unknown")
    assert chained.value.body == {
        "message": "Previous response with id 'resp_unknown' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }
    for call in (sdk.responses.retrieve, sdk.responses.delete, sdk.responses.input_items.list):
        with pytest.raises(openai.NotFoundError) as missing:
            call("resp_unknown")
        assert missing.value.message.endswith("Response with id 'resp_unknown' not found.")
    _, unstored = create(sdk, store=False)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(unstored.id)


def test_a_failure_mid_stream_is_an_error_event_then_response_failed(make_app: MakeApp) -> None:
    message = "The server had an error while processing your request. Sorry about that!"
    script = [TextDelta("Hello "), Raise(BackendError(500, message, type="server_error"))]
    with (
        serve(make_app(backend=ScriptedBackend(script))) as server,
        openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0) as sdk,
    ):
        events = raw_stream(sdk)
        with (
            pytest.raises(openai.APIError) as raised,
            sdk.responses.stream(model=MODEL, input=PROMPT) as stream,
        ):
            for _ in stream:
                pass
    error, failed = events[-2:]
    assert error["error"] == {"type": "server_error", "code": None, "message": message, "param": None}
    assert failed["type"] == "response.failed"
    assert failed["response"]["status"] == "failed"
    assert failed["response"]["error"] == {"code": "server_error", "message": message}
    assert failed["response"]["output"][0]["status"] == "incomplete"
    assert raised.value.message == message, "the SDK raises the error event"
