"""How tool search counts in the prompt on /v1/responses (docs/usage.md): a function offered with
`defer_loading` is not written until a search loads it, and a client-executed `tool_search` is
written among the functions with the description and parameters the client gave it. The recorded
numbers name their cassette.
"""

from __future__ import annotations

from typing import Any

from tests.support.requests import ChatClient

EXCHANGE = {
    "description": "Look up an exchange rate.",
    "name": "lookup_exchange_rate",
    "parameters": {
        "additionalProperties": False,
        "properties": {"currency": {"type": "string"}},
        "required": ["currency"],
        "type": "object",
    },
    "strict": True,
    "type": "function",
}
ALWAYS_READY = {
    "description": "Provide an always-available tool so provider tool lists remain valid.",
    "name": "always_ready",
    "parameters": {"additionalProperties": False, "properties": {}, "type": "object"},
    "strict": False,
    "type": "function",
}


async def _input_tokens(chat: ChatClient, **body: Any) -> int:
    response = await chat.http.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["usage"]["input_tokens"])


async def test_a_deferred_function_is_written_only_when_loaded(chat: ChatClient) -> None:
    # Recorded: pydantic/pydantic-ai tests/cassettes/test_tool_availability_portability/
    # test_tool_availability_portability_matrix[R4-T3-additional-tools].yaml #0 (gpt-5.6):
    # input_tokens 184. The deferred function is written once, by the `additional_tools` item
    # that loads it, not among the tools offered too (+21 then).
    tools = [{"type": "tool_search"}, ALWAYS_READY, {**EXCHANGE, "defer_loading": True}]
    loaded = {"role": "developer", "tools": [EXCHANGE], "type": "additional_tools"}
    find = {"content": "Find the exchange-rate tool.", "role": "user"}
    ack = {"content": "Acknowledge the available exchange-rate tool without calling it.", "role": "user"}
    body = {"model": "gpt-5.6", "tool_choice": "auto", "tools": tools}
    assert await _input_tokens(chat, input=[find, loaded, ack], **body) == 184
    # Not loaded, it costs nothing: the request counts as if it were not offered.
    without = [tool for tool in tools if tool.get("name") != EXCHANGE["name"]]
    assert await _input_tokens(chat, **{**body, "input": [find]}) == await _input_tokens(
        chat, **{**body, "input": [find], "tools": without}
    )


async def test_a_client_tool_search_is_written_as_a_function(chat: ChatClient) -> None:
    # langchain-ai/langchain libs/partners/openai/tests/cassettes/test_client_executed_tool_search
    # .yaml.gz #0 (gpt-5.4) recorded 54; written as a function it counts 53 (41 less unwritten).
    parameters = {
        "type": "object",
        "properties": {"goal": {"type": "string"}},
        "required": ["goal"],
        "additionalProperties": False,
    }
    description = "Search for available tools to help answer the question."
    search = {
        "type": "tool_search",
        "execution": "client",
        "description": description,
        "parameters": parameters,
    }
    question = [{"content": "What's the weather in San Francisco?", "role": "user", "type": "message"}]
    as_function = {
        "type": "function",
        "name": "tool_search",
        "description": description,
        "parameters": parameters,
    }
    searched = await _input_tokens(chat, model="gpt-5.4", input=question, tools=[search])
    assert searched == await _input_tokens(chat, model="gpt-5.4", input=question, tools=[as_function])
    # The hosted search (the API runs it) is not written so.
    hosted = await _input_tokens(chat, model="gpt-5.4", input=question, tools=[{"type": "tool_search"}])
    assert hosted == await _input_tokens(chat, model="gpt-5.4", input=question) < searched
