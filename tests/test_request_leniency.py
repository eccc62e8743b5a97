"""What the real API accepts beyond its published request schema, and what it still refuses.

Proven here: `response_format: null` and `tool_choice: null` (chat and Responses) mean not given and
price the prompt as if absent; a bare string `image_url` reads as `{"url": ...}`; a custom tool
call item sent back with its `status` is taken as the function call item is. `null` where no
recording shows the API taking it (`parallel_tool_calls`, `function_call`) stays a 400. The
recordings behind each are cited beside the fields in server/wire/.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.wire.responses_request import PROMPT_STAND_IN_MODEL
from tests.support.requests import function_tool

TOOLS = [function_tool({"type": "object", "properties": {"city": {"type": "string"}}})]
MESSAGES = [{"role": "user", "content": "Weather?"}]


async def chat_usage(client: httpx.AsyncClient, **fields: Any) -> int:
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, **fields}
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["usage"]["prompt_tokens"])


@pytest.mark.parametrize("field", ["response_format", "tool_choice"])
async def test_a_null_chat_option_is_the_option_not_given(client: httpx.AsyncClient, field: str) -> None:
    assert await chat_usage(client, tools=TOOLS, **{field: None}) == await chat_usage(client, tools=TOOLS)


async def test_a_null_tool_choice_without_tools_is_not_the_tool_choice_error(
    client: httpx.AsyncClient,
) -> None:
    assert await chat_usage(client, tool_choice=None) == await chat_usage(client)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (
            "parallel_tool_calls",
            "Invalid type for 'parallel_tool_calls': expected a boolean, but got null instead.",
        ),
        ("function_call", "Invalid type for 'function_call': expected an object, but got null instead."),
    ],
)
async def test_null_where_no_recording_shows_it_taken_stays_a_400(
    client: httpx.AsyncClient, field: str, message: str
) -> None:
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "tools": TOOLS, field: None}
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message


async def test_a_null_responses_tool_choice_is_the_option_not_given(client: httpx.AsyncClient) -> None:
    tool = {"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}
    body = {"model": "gpt-4.1", "input": "Weather?", "tools": [tool]}
    plain = await client.post("/v1/responses", json=body)
    null = await client.post("/v1/responses", json={**body, "tool_choice": None})
    assert plain.status_code == null.status_code == 200, null.text
    assert null.json()["tool_choice"] == plain.json()["tool_choice"] == "auto"
    assert null.json()["usage"]["input_tokens"] == plain.json()["usage"]["input_tokens"]


async def test_a_bare_image_url_string_reads_as_the_url_object(client: httpx.AsyncClient) -> None:
    url = "https://example.com/cat.png"

    def body(image_url: Any) -> dict[str, Any]:
        part = {"type": "image_url", "image_url": image_url}
        content = [{"type": "text", "text": "What is this?"}, part]
        return {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}

    bare = await client.post("/v1/chat/completions", json=body(url))
    wrapped = await client.post("/v1/chat/completions", json=body({"url": url}))
    assert bare.status_code == wrapped.status_code == 200, bare.text
    assert bare.json()["usage"] == wrapped.json()["usage"]


async def test_an_image_url_of_another_type_is_still_refused(client: httpx.AsyncClient) -> None:
    part = {"type": "image_url", "image_url": 7}
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": [part]}]}
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages[0].content[0].image_url"


async def test_a_custom_tool_call_sent_back_with_its_status_is_taken(client: httpx.AsyncClient) -> None:
    call = {"type": "custom_tool_call", "call_id": "call_1", "name": "run", "input": "print(1)"}
    output = {"type": "custom_tool_call_output", "call_id": "call_1", "output": "1"}

    async def input_tokens(item: dict[str, Any]) -> int:
        body = {
            "model": "gpt-5",
            "input": [{"role": "user", "content": "Run it."}, item, output],
            "tools": [{"type": "custom", "name": "run"}],
        }
        response = await client.post("/v1/responses", json=body)
        assert response.status_code == 200, response.text
        return int(response.json()["usage"]["input_tokens"])

    assert await input_tokens({**call, "status": "completed"}) == await input_tokens(call)


async def test_a_custom_tool_call_status_outside_the_api_s_values_is_refused(
    client: httpx.AsyncClient,
) -> None:
    call = {"type": "custom_tool_call", "call_id": "c", "name": "run", "input": "x", "status": "done"}
    body = {"model": "gpt-5", "input": [call], "tools": [{"type": "custom", "name": "run"}]}
    response = await client.post("/v1/responses", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input[0].status"


async def test_a_stored_prompt_may_leave_the_model_out(client: httpx.AsyncClient) -> None:
    body = {"prompt": {"id": "pmpt_1", "variables": {"question": "What is machine learning?"}}, "input": "Hi"}
    response = await client.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["model"] == PROMPT_STAND_IN_MODEL


@pytest.mark.parametrize("body", [{"input": "Hi"}, {"input": "Hi", "prompt": None}])
async def test_without_a_model_or_a_stored_prompt_the_model_is_missing(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/v1/responses", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "you must provide a model parameter"
