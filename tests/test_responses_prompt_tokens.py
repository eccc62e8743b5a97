"""`usage.input_tokens` on /v1/responses equals the real API's counts where Responses renders a
conversation differently from chat.

Every expected number was recorded from the real API; each test names the recording. The rules
are in server/generation/counting_rules.py and docs/usage.md.
"""

from __future__ import annotations

from typing import Any

from tests.support.requests import ChatClient


async def _input_tokens(chat: ChatClient, **body: Any) -> int:
    response = await chat.http.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    counted = await chat.http.post("/v1/responses/input_tokens", json=body)
    assert counted.status_code == 200, counted.text
    assert counted.json()["input_tokens"] == response.json()["usage"]["input_tokens"]
    return int(response.json()["usage"]["input_tokens"])


def _numbers_tool(name: str, description: str) -> dict[str, Any]:
    number = {"type": "integer"}
    return {
        "type": "function",
        "name": name,
        "description": description,
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "a": {**number, "description": "first number"},
                "b": {**number, "description": "second number"},
            },
            "required": ["a", "b"],
        },
    }


ADD_AND_MULTIPLY = [
    _numbers_tool("add", "Add two numbers"),
    _numbers_tool("multiply", "Multiply two numbers"),
]


async def test_calls_made_in_one_turn_are_priced_as_client_calls_and_their_results_apart(
    chat: ChatClient,
) -> None:
    # Recorded: charmbracelet/fantasy providertests/testdata/TestOpenAIResponsesCommon/openai-gpt-4o/
    # multi_tool.yaml (f6d4d1e302): input_tokens 108, then 154 with two calls (no item ids) and
    # their results. Mirascope's test_call_with_tools counts the same with and without `fc_…` ids.
    system = {
        "role": "system",
        "content": "You are a helpful assistant. CRITICAL: Always use both add and multiply at the same time ALWAYS.",
    }
    question = {
        "role": "user",
        "content": [{"type": "input_text", "text": "Add and multiply the number 2 and 3"}],
    }
    calls = [
        {"type": "function_call", "call_id": "call_1", "name": "add", "arguments": '{"a":2,"b":3}'},
        {"type": "function_call", "call_id": "call_2", "name": "multiply", "arguments": '{"a":2,"b":3}'},
    ]
    results = [
        {"type": "function_call_output", "call_id": "call_1", "output": "5"},
        {"type": "function_call_output", "call_id": "call_2", "output": "6"},
    ]
    fields = {"model": "gpt-4o", "tools": ADD_AND_MULTIPLY, "tool_choice": "auto"}
    assert await _input_tokens(chat, input=[system, question], **fields) == 108
    assert await _input_tokens(chat, input=[system, question, *calls, *results], **fields) == 154
    stored = [{**call, "id": f"fc_{n}", "status": "completed"} for n, call in enumerate(calls)]
    assert await _input_tokens(chat, input=[system, question, *stored, *results], **fields) == 154


async def test_a_custom_tool_is_written_among_the_functions_with_one_string_argument(
    chat: ChatClient,
) -> None:
    # Recorded: langchain libs/partners/openai/tests/cassettes/test_custom_tool.yaml.gz (gpt-5,
    # langchain-openai 1.8.1): input_tokens 47.
    tool = {"type": "custom", "name": "execute_code", "description": "Execute python code."}
    question = {"content": "Use the tool to evaluate 3^3.", "role": "user", "type": "message"}
    assert await _input_tokens(chat, model="gpt-5", input=[question], tools=[tool]) == 47


async def test_o3_mini_adds_nothing_per_assistant_message(chat: ChatClient) -> None:
    # Recorded: openai/openai-dotnet tests/SessionRecords/ResponsesTests/TwoTurnCrossModel.json: a
    # gpt-4o-mini answer (16 tokens in) continued on o3-mini through `previous_response_id`: 38.
    hello = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Hello, Assistant! My name is Travis."}],
    }
    answer = {"role": "assistant", "content": "Hello, Travis! How can I assist you today?"}
    question = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "What's my name?"}],
    }
    assert await _input_tokens(chat, model="o3-mini", input=[hello, answer, question]) == 38


async def test_consecutive_text_parts_are_counted_as_one_text(chat: ChatClient) -> None:
    # Recorded: activeagents/activeagent test/fixtures/vcr_cassettes/integration/open_ai/responses/
    # common_format/messages_test/test_agent_text_messages_bare.yml (gpt-4.1): input_tokens 21, one
    # fewer than the two parts counted apart.
    parts = [
        {"type": "input_text", "text": "Tell me a fun fact about Ruby programming."},
        {"type": "input_text", "text": "Now explain why that's interesting."},
    ]
    assert await _input_tokens(chat, model="gpt-4.1", input=[{"role": "user", "content": parts}]) == 21
