"""The official `openai` SDK's async client on the Responses API, against a real server on loopback:
create whole and streamed, the `.stream()` helper, `.parse()`, retrieve / delete / `input_items`,
a `previous_response_id` chain and a function-tool loop, streamed and not. Raw bodies and events
are validated strictly against the SDK's models (`tests/support/responses.py`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from openai.types.responses import Response, ResponseFunctionToolCall, ResponseTextDeltaEvent
from pydantic import BaseModel

from tests.servers import LiveServer
from tests.support.contract import API_KEY, MODEL, PROMPT, WEATHER, check_arguments, check_headers
from tests.support.responses import check_order, stream_events, validate_item_list, validate_response

WEATHER_TOOL: dict[str, Any] = {"type": "function", "name": "get_weather", "parameters": WEATHER}


class Forecast(BaseModel):
    city: str
    days: int


@pytest.fixture
async def sdk(live_server: LiveServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=live_server.base_url, api_key=API_KEY, max_retries=0) as client:
        yield client


async def create(sdk: openai.AsyncOpenAI, **params: Any) -> Response:
    raw = await sdk.responses.with_raw_response.create(**{"model": MODEL, "input": PROMPT, **params})
    check_headers(raw.headers)
    body = json.loads(raw.http_response.content)
    validate_response(body)
    parsed = raw.parse()
    assert parsed.to_dict() == body
    return parsed


async def test_create_whole_and_streamed(sdk: openai.AsyncOpenAI) -> None:
    response = await create(sdk)
    assert response.output_text == PROMPT
    params = {"model": MODEL, "input": PROMPT}
    async with sdk.responses.with_streaming_response.create(stream=True, **params) as raw:
        events = stream_events(b"".join([chunk async for chunk in raw.iter_bytes()]))
    check_order(events)
    assert events[-1]["response"]["output"][0]["content"] == response.to_dict()["output"][0]["content"]
    stream = await sdk.responses.create(stream=True, **params)
    parsed = [event async for event in stream]
    assert "".join(e.delta for e in parsed if isinstance(e, ResponseTextDeltaEvent)) == PROMPT


async def test_the_stream_helper_and_parse(sdk: openai.AsyncOpenAI) -> None:
    async with sdk.responses.stream(model=MODEL, input=PROMPT) as stream:
        deltas = [event.delta async for event in stream if event.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert "".join(deltas) == final.output_text == PROMPT
    parsed = await sdk.responses.parse(model=MODEL, input=PROMPT, text_format=Forecast)
    assert isinstance(parsed.output_parsed, Forecast)
    async with sdk.responses.stream(model=MODEL, input=PROMPT, text_format=Forecast) as stream:
        streamed = await stream.get_final_response()
    assert streamed.output_parsed == parsed.output_parsed


async def test_retrieve_input_items_and_delete(sdk: openai.AsyncOpenAI) -> None:
    response = await create(sdk)
    again = await sdk.responses.retrieve(response.id)
    assert again.to_dict() == response.to_dict()
    raw = await sdk.responses.input_items.with_raw_response.list(response.id)
    [item] = validate_item_list(json.loads(raw.http_response.content)).data
    assert item.type == "message"
    assert item.role == "user"
    assert await sdk.responses.delete(response.id) is None
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.retrieve(response.id)


async def test_a_chain_and_a_tool_loop(sdk: openai.AsyncOpenAI) -> None:
    asked = await create(sdk, tools=[WEATHER_TOOL], tool_choice="required")
    [call] = asked.output
    assert isinstance(call, ResponseFunctionToolCall)
    check_arguments("get_weather", call.arguments)
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny"}
    answered = await create(sdk, input=[result], previous_response_id=asked.id)
    assert answered.output_text == PROMPT
    async with sdk.responses.stream(
        model=MODEL, input="And tomorrow?", previous_response_id=answered.id, tools=[WEATHER_TOOL]
    ) as stream:
        final = await stream.get_final_response()
    assert final.output_text == "And tomorrow?"
    assert final.previous_response_id == answered.id
    with pytest.raises(openai.BadRequestError) as unknown:
        await create(sdk, previous_response_id="resp_unknown")
    assert unknown.value.code == "previous_response_not_found"
